#pragma once

#include <event2/event.h>
#include <sys/socket.h>

#include <memory>
#include <string>

#include "buffer.h"
#include "dispatcher.h"

namespace EnvoyTsHost {

// One non-blocking TCP socket with the I/O behaviour of Envoy's ConnectionImpl over a raw socket:
// each read() becomes one slice of input(), writes are queued and flushed from the event loop
// (never inside the caller), FIN is sent once queued bytes are out (half-close), reading can be
// paused. Worker thread only.
class TcpSocket {
public:
  class Callbacks {
  public:
    virtual ~Callbacks() = default;
    // The non-blocking connect completed.
    virtual void onSocketConnected(TcpSocket& socket) = 0;
    // `bytes` were appended to input(); `eof` when the peer's FIN was read just now.
    virtual void onSocketData(TcpSocket& socket, size_t bytes, bool eof) = 0;
    // The queued output is on the wire (and the FIN too, when one was asked for).
    virtual void onSocketWriteDrained(TcpSocket& socket) = 0;
    // Connect failure, RST or another error: the socket is closed already.
    virtual void onSocketError(TcpSocket& socket) = 0;
  };

  // Takes ownership of `fd`. `connecting`: a non-blocking connect is in progress.
  TcpSocket(Dispatcher& dispatcher, evutil_socket_t fd, Callbacks& callbacks, bool connecting);
  ~TcpSocket();
  TcpSocket(const TcpSocket&) = delete;
  TcpSocket& operator=(const TcpSocket&) = delete;

  // Starts a non-blocking connect. nullptr with `error` set on immediate failure.
  static std::unique_ptr<TcpSocket> connect(Dispatcher& dispatcher, const sockaddr* address,
                                            socklen_t length, Callbacks& callbacks,
                                            std::string& error);

  Buffer& input() { return input_; }
  size_t pendingOutput() const { return output_.length(); }
  bool connected() const { return !connecting_ && fd_ >= 0; }
  bool closed() const { return fd_ < 0; }
  bool eofRead() const { return eof_; }
  bool finSent() const { return fin_sent_; }
  evutil_socket_t fd() const { return fd_; }

  // Queues all of `data` (drained) and flushes it from a later loop iteration.
  void write(Buffer& data);
  // Sends FIN once every queued byte is written.
  void shutdownWrite();
  void setReading(bool enabled);
  // One best-effort write of the queued bytes now (for a closing peer), no callbacks.
  void flushNow();
  // Closes the socket now; `reset` sends RST (SO_LINGER 0). Queued output is dropped.
  void close(bool reset);

private:
  static void onEvent(evutil_socket_t, short what, void* arg);
  void onReadable();
  void onWritable();
  // Writes queued bytes; false when the socket failed (and was closed).
  bool flush();
  void armWrite();

  Dispatcher& dispatcher_;
  evutil_socket_t fd_;
  Callbacks& callbacks_;
  event* read_event_{nullptr};
  event* write_event_{nullptr};
  Buffer input_;
  Buffer output_;
  bool connecting_;
  bool reading_{true};
  bool eof_{false};
  bool shutdown_requested_{false};
  bool fin_sent_{false};
  bool write_armed_{false};
};

} // namespace EnvoyTsHost
