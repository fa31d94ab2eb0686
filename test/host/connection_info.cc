#include "connection_info.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <atomic>

namespace EnvoyTsHost {

uint64_t nextConnectionId() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

SocketAddressInfo socketAddressInfo(const sockaddr_storage& address) {
  SocketAddressInfo info;
  char buffer[INET6_ADDRSTRLEN] = {0};
  if (address.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&address);
    inet_ntop(AF_INET, &in->sin_addr, buffer, sizeof(buffer));
    info.ip = buffer;
    info.port = ntohs(in->sin_port);
    info.text = info.ip + ":" + std::to_string(info.port);
  } else if (address.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&address);
    inet_ntop(AF_INET6, &in6->sin6_addr, buffer, sizeof(buffer));
    info.ip = buffer;
    info.port = ntohs(in6->sin6_port);
    info.text = "[" + info.ip + "]:" + std::to_string(info.port);
  }
  return info;
}

bool isIpAuthority(const std::string& authority) {
  std::string host = authority;
  std::string port;
  if (!host.empty() && host.front() == '[') {
    const size_t close = host.find(']');
    if (close == std::string::npos) {
      return false;
    }
    port = host.substr(close + 1);
    host = host.substr(1, close - 1);
    if (!port.empty() && port.front() != ':') {
      return false;
    }
    port = port.empty() ? port : port.substr(1);
    in6_addr v6;
    return inet_pton(AF_INET6, host.c_str(), &v6) == 1 &&
           port.find_first_not_of("0123456789") == std::string::npos;
  }
  const size_t colon = host.rfind(':');
  if (colon != std::string::npos) {
    port = host.substr(colon + 1);
    host = host.substr(0, colon);
    if (port.empty() || port.find_first_not_of("0123456789") != std::string::npos) {
      return false;
    }
  }
  in_addr v4;
  return inet_pton(AF_INET, host.c_str(), &v4) == 1;
}

DownstreamConnectionInfo downstreamConnectionInfo(int fd) {
  DownstreamConnectionInfo info;
  info.id = nextConnectionId();
  sockaddr_storage address;
  socklen_t length = sizeof(address);
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    info.remote = socketAddressInfo(address);
  }
  length = sizeof(address);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    info.local = socketAddressInfo(address);
  }
  return info;
}

} // namespace EnvoyTsHost
