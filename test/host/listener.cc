#include "listener.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "cluster.h"

namespace EnvoyTsHost {

bool bindListenSockets(const SocketAddress& address, size_t count,
                       std::vector<evutil_socket_t>& sockets, uint16_t& bound_port,
                       std::string& error) {
  sockaddr_storage storage;
  socklen_t length;
  if (!resolveAddress(address, storage, length)) {
    error = "unable to resolve " + address.address;
    return false;
  }
  bound_port = address.port;
  for (size_t i = 0; i < count; ++i) {
    if (storage.ss_family == AF_INET) {
      reinterpret_cast<sockaddr_in*>(&storage)->sin_port = htons(bound_port);
    } else {
      reinterpret_cast<sockaddr_in6*>(&storage)->sin6_port = htons(bound_port);
    }
    const int fd = socket(storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    const int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0 ||
        bind(fd, reinterpret_cast<sockaddr*>(&storage), length) != 0 || listen(fd, 1024) != 0) {
      error = "cannot bind " + address.address + ":" + std::to_string(bound_port) + ": " +
              std::strerror(errno);
      if (fd >= 0) {
        ::close(fd);
      }
      return false;
    }
    if (bound_port == 0) {
      sockaddr_storage actual;
      socklen_t actual_length = sizeof(actual);
      getsockname(fd, reinterpret_cast<sockaddr*>(&actual), &actual_length);
      bound_port = ntohs(actual.ss_family == AF_INET
                             ? reinterpret_cast<sockaddr_in*>(&actual)->sin_port
                             : reinterpret_cast<sockaddr_in6*>(&actual)->sin6_port);
    }
    sockets.push_back(fd);
  }
  return true;
}

} // namespace EnvoyTsHost
