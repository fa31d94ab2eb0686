#include "cluster.h"

#include <netdb.h>

#include <cstring>

#include "connection_info.h"

namespace EnvoyTsHost {

bool resolveAddress(const SocketAddress& address, sockaddr_storage& out, socklen_t& length) {
  addrinfo hints;
  std::memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* result = nullptr;
  const std::string port = std::to_string(address.port);
  if (getaddrinfo(address.address.c_str(), port.c_str(), &hints, &result) != 0 ||
      result == nullptr) {
    return false;
  }
  std::memcpy(&out, result->ai_addr, result->ai_addrlen);
  length = result->ai_addrlen;
  freeaddrinfo(result);
  return true;
}

Cluster::Cluster(const ClusterSpec& spec, const std::string& path, bool resolve_names)
    : name_(spec.name), connect_timeout_ms_(spec.connect_timeout_ms),
      http1_settings_(spec.http1_settings) {
  if (!resolve_names && spec.type != "STATIC") {
    return;
  }
  for (const SocketAddress& address : spec.endpoints) {
    Endpoint endpoint;
    if (!resolveAddress(address, endpoint.address, endpoint.length)) {
      throw ConfigError(path + ": unable to resolve " + address.address);
    }
    endpoint.description = address.address + ":" + std::to_string(address.port);
    endpoint.ip_port = socketAddressInfo(endpoint.address).text;
    endpoints_.push_back(endpoint);
  }
}

} // namespace EnvoyTsHost
