#include "tcp_socket.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "logger.h"

namespace EnvoyTsHost {
namespace {

constexpr size_t ReadSliceSize = 16 * 1024;
constexpr size_t MaxReadPerEvent = 256 * 1024; // Then yield to other connections (level-triggered).
constexpr int MaxIovecs = 64;

} // namespace

TcpSocket::TcpSocket(Dispatcher& dispatcher, evutil_socket_t fd, Callbacks& callbacks,
                     bool connecting)
    : dispatcher_(dispatcher), fd_(fd), callbacks_(callbacks), connecting_(connecting) {
  evutil_make_socket_nonblocking(fd_);
  read_event_ = event_new(dispatcher_.base(), fd_, EV_READ | EV_PERSIST, &TcpSocket::onEvent, this);
  write_event_ =
      event_new(dispatcher_.base(), fd_, EV_WRITE | EV_PERSIST, &TcpSocket::onEvent, this);
  if (connecting_) {
    armWrite(); // Writable = connect finished.
  } else {
    event_add(read_event_, nullptr);
  }
}

TcpSocket::~TcpSocket() { close(false); }

std::unique_ptr<TcpSocket> TcpSocket::connect(Dispatcher& dispatcher, const sockaddr* address,
                                              socklen_t length, Callbacks& callbacks,
                                              std::string& error) {
  const int fd = socket(address->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = std::strerror(errno);
    return nullptr;
  }
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (::connect(fd, address, length) != 0 && errno != EINPROGRESS) {
    error = std::strerror(errno);
    ::close(fd);
    return nullptr;
  }
  return std::make_unique<TcpSocket>(dispatcher, fd, callbacks, true);
}

void TcpSocket::onEvent(evutil_socket_t, short what, void* arg) {
  auto* self = static_cast<TcpSocket*>(arg);
  if (what & EV_WRITE) {
    self->onWritable();
  } else if (what & EV_READ) {
    self->onReadable();
  }
}

void TcpSocket::onReadable() {
  size_t total = 0;
  bool eof = false;
  while (total < MaxReadPerEvent) {
    std::string slice(ReadSliceSize, '\0');
    const ssize_t n = ::read(fd_, slice.data(), slice.size());
    if (n > 0) {
      slice.resize(static_cast<size_t>(n));
      input_.append(std::move(slice));
      total += static_cast<size_t>(n);
      continue;
    }
    if (n == 0) {
      eof = true;
      eof_ = true;
      event_del(read_event_); // Repeated EOFs are not reported.
      break;
    }
    if (errno == EINTR) {
      continue;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      break;
    }
    HOST_LOG(Debug, std::string("socket read error: ") + std::strerror(errno));
    close(false);
    callbacks_.onSocketError(*this);
    return;
  }
  if (total > 0 || eof) {
    callbacks_.onSocketData(*this, total, eof);
  }
}

void TcpSocket::onWritable() {
  if (connecting_) {
    int error = 0;
    socklen_t length = sizeof(error);
    getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &length);
    if (error != 0) {
      HOST_LOG(Debug, std::string("connect failed: ") + std::strerror(error));
      close(false);
      callbacks_.onSocketError(*this);
      return;
    }
    connecting_ = false;
    if (reading_) {
      event_add(read_event_, nullptr);
    }
    if (output_.empty() && !shutdown_requested_) {
      event_del(write_event_);
      write_armed_ = false;
    }
    callbacks_.onSocketConnected(*this);
    return; // A queued flush fires from the still-armed write event.
  }
  if (!flush()) {
    callbacks_.onSocketError(*this);
    return;
  }
  if (output_.empty() && (!shutdown_requested_ || fin_sent_)) {
    callbacks_.onSocketWriteDrained(*this);
  }
}

bool TcpSocket::flush() {
  while (!output_.empty()) {
    iovec iov[MaxIovecs];
    int count = 0;
    for (const std::string& slice : output_.slices()) {
      if (count == MaxIovecs) {
        break;
      }
      iov[count].iov_base = const_cast<char*>(slice.data());
      iov[count].iov_len = slice.size();
      ++count;
    }
    const ssize_t n = ::writev(fd_, iov, count);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        return true; // Still armed.
      }
      HOST_LOG(Debug, std::string("socket write error: ") + std::strerror(errno));
      close(false);
      return false;
    }
    output_.drain(static_cast<size_t>(n));
  }
  if (shutdown_requested_ && !fin_sent_) {
    ::shutdown(fd_, SHUT_WR);
    fin_sent_ = true;
  }
  event_del(write_event_);
  write_armed_ = false;
  return true;
}

void TcpSocket::armWrite() {
  if (!write_armed_ && fd_ >= 0) {
    write_armed_ = true;
    event_add(write_event_, nullptr);
  }
}

void TcpSocket::write(Buffer& data) {
  if (fd_ < 0 || fin_sent_) {
    data.drain(data.length());
    return;
  }
  output_.move(data);
  armWrite();
  if (!connecting_) {
    event_active(write_event_, EV_WRITE, 0);
  }
}

void TcpSocket::shutdownWrite() {
  if (fd_ < 0 || shutdown_requested_) {
    return;
  }
  shutdown_requested_ = true;
  armWrite();
  if (!connecting_) {
    event_active(write_event_, EV_WRITE, 0);
  }
}

void TcpSocket::setReading(bool enabled) {
  reading_ = enabled;
  if (fd_ < 0 || connecting_ || eof_) {
    return;
  }
  if (enabled) {
    event_add(read_event_, nullptr);
  } else {
    event_del(read_event_);
  }
}

void TcpSocket::flushNow() {
  if (fd_ >= 0 && !connecting_) {
    flush();
  }
}

void TcpSocket::close(bool reset) {
  if (fd_ < 0) {
    return;
  }
  event_free(read_event_);
  event_free(write_event_);
  read_event_ = nullptr;
  write_event_ = nullptr;
  if (reset) {
    const linger option{1, 0};
    setsockopt(fd_, SOL_SOCKET, SO_LINGER, &option, sizeof(option));
  }
  ::close(fd_);
  fd_ = -1;
  output_.drain(output_.length());
}

} // namespace EnvoyTsHost
