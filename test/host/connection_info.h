#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>

namespace EnvoyTsHost {

// Envoy numbers every connection (downstream and upstream, HTTP and TCP) from one process-wide
// counter; this is the next id.
uint64_t nextConnectionId();

// An address of a socket the way Envoy's Address::Ip prints it: `ip` is "127.0.0.1" or "::1",
// `text` is asString(): "127.0.0.1:8080" or "[::1]:8080". Empty when unknown.
struct SocketAddressInfo {
  std::string ip;
  uint32_t port{0};
  std::string text;
};
SocketAddressInfo socketAddressInfo(const sockaddr_storage& address);

// Whether `authority` is an IP address with an optional port ("1.2.3.4", "1.2.3.4:80",
// "[::1]:80"), as Envoy's Http::Utility::parseAuthority reports is_ip_address_.
bool isIpAuthority(const std::string& authority);

// The downstream connection of an HTTP stream (what Envoy's StreamInfo and connection() give
// filters): its id and both addresses of the accepted socket.
struct DownstreamConnectionInfo {
  uint64_t id{0};
  SocketAddressInfo local;  // destination.*
  SocketAddressInfo remote; // source.*
};
DownstreamConnectionInfo downstreamConnectionInfo(int fd);

} // namespace EnvoyTsHost
