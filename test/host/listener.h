#pragma once

#include <event2/listener.h>

#include <map>
#include <string>
#include <vector>

#include "config.h"
#include "cluster.h"
#include "drain_decision.h"
#include "http_filter_config.h"
#include "network_filter_config.h"
#include "stats.h"
#include "router.h"

namespace EnvoyTsHost {

// A configured listener: its filter chain and routes (read-only on workers) and one SO_REUSEPORT
// socket per worker, all bound to the same address like Envoy's per-worker listeners.
// The tcp_proxy stats the host keeps (Envoy's "tcp.<stat_prefix>." scope, a subset).
struct TcpProxyStats {
  explicit TcpProxyStats(const std::string& prefix)
      : downstream_cx_total(StatsStore::get().counter(prefix + "downstream_cx_total")),
        downstream_cx_no_route(StatsStore::get().counter(prefix + "downstream_cx_no_route")),
        downstream_cx_rx_bytes_total(
            StatsStore::get().counter(prefix + "downstream_cx_rx_bytes_total")),
        downstream_cx_tx_bytes_total(
            StatsStore::get().counter(prefix + "downstream_cx_tx_bytes_total")) {}
  Counter& downstream_cx_total;
  Counter& downstream_cx_no_route;
  Counter& downstream_cx_rx_bytes_total;
  Counter& downstream_cx_tx_bytes_total;
};

struct ListenerRuntime {
  ListenerSpec spec;
  FilterChainConfig chain;                 // HTTP listeners.
  // HTTP listeners. Declared after `chain` so that it is destroyed first: as in Envoy's
  // HttpConnectionManagerConfig, per-route configs go before the filter configs.
  std::unique_ptr<RouteTable> routes;
  NetworkFilterChainConfig network_chain;  // TCP listeners.
  ClusterMap* clusters{nullptr};           // tcp_proxy picks one per connection; HTTP callouts.
  std::unique_ptr<TcpProxyStats> tcp_stats; // TCP listeners.
  // One listening socket per worker; each worker's evconnlistener owns (and closes) its own.
  std::vector<evutil_socket_t> sockets;
  uint16_t bound_port{0};
  // Set when a reload replaced or removed this listener version (see listener_manager.h).
  DrainDecision drain;
  // From LDS (dynamic_resources.lds_config) rather than static_resources: only an LDS update
  // changes or removes it, only a reload of envoy.yaml changes or removes a static one.
  bool added_via_api{false};
};

// Builds a listener from its spec on the main thread, in Envoy's order: for an HTTP listener the
// route configuration (per-route filter configs) before the http filter configs (each loads its
// module, program_init once, then config_new); for a TCP listener its network filter configs.
// Binds nothing. nullptr with `error` set (naming the field). Used by startup (serve and validate
// modes) and by a reload.
std::unique_ptr<ListenerRuntime> createListenerRuntime(const ListenerSpec& spec,
                                                       ClusterMap& clusters, std::string& error);

// Whether two listener addresses are the same (as Envoy compares Address::Instance: the IP in
// its normal form and the port).
bool sameListenAddress(const SocketAddress& a, const SocketAddress& b);

// Envoy's duplicate address check for a listener about to get sockets of its own: one added, or
// a new version whose address changed (ListenerManagerImpl::setNewOrDrainingSocketFactory with
// ListenerImpl::hasDuplicatedAddress). `listeners` are the addresses of the warming and active
// listeners by name (draining ones do not count). Port 0 is never a duplicate (each bind picks
// its own port), nor is the listener's own running version (Envoy skips it with reuse_port, its
// default on Linux and the host's only mode). False with `error` set to Envoy's message, which is
// also logged at warn as Envoy does.
bool checkDuplicateAddress(const std::string& name, const SocketAddress& address,
                           const std::map<std::string, SocketAddress>& listeners,
                           std::string& error);

// Binds `count` listening sockets to `address` (port 0 picks one port shared by all).
// False with `error` set.
bool bindListenSockets(const SocketAddress& address, size_t count,
                       std::vector<evutil_socket_t>& sockets, uint16_t& bound_port,
                       std::string& error);

// Duplicates `from` (the same kernel listening sockets, as Envoy's cloneSocketFactoryFrom shares
// a listener's sockets with its new version), so that no connection ever sees a refused port
// while one version replaces the other. False with `error` set.
bool duplicateListenSockets(const std::vector<evutil_socket_t>& from,
                            std::vector<evutil_socket_t>& sockets, std::string& error);

// Closes sockets no worker took over (a reload that was rejected after binding).
void closeListenSockets(std::vector<evutil_socket_t>& sockets);

} // namespace EnvoyTsHost
