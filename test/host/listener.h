#pragma once

#include <event2/listener.h>

#include <string>
#include <vector>

#include "config.h"
#include "http_filter_config.h"
#include "router.h"

namespace EnvoyTsHost {

// A configured listener: its filter chain and routes (read-only on workers) and one SO_REUSEPORT
// socket per worker, all bound to the same address like Envoy's per-worker listeners.
struct ListenerRuntime {
  ListenerSpec spec;
  FilterChainConfig chain;
  std::unique_ptr<RouteTable> routes;
  std::vector<evutil_socket_t> sockets;
  uint16_t bound_port{0};
};

// Binds `count` listening sockets to `address` (port 0 picks one port shared by all).
// False with `error` set.
bool bindListenSockets(const SocketAddress& address, size_t count,
                       std::vector<evutil_socket_t>& sockets, uint16_t& bound_port,
                       std::string& error);

} // namespace EnvoyTsHost
