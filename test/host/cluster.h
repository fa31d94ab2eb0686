#pragma once

#include <sys/socket.h>

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config.h"

namespace EnvoyTsHost {

// A static upstream cluster. DNS names are resolved once at startup; endpoints are picked
// round-robin. Shared by all workers.
class Cluster {
public:
  struct Endpoint {
    sockaddr_storage address;
    socklen_t length;
    std::string description; // host:port, for logs.
    std::string ip_port;     // The resolved address as Envoy prints it: "ip:port", "[ip6]:port".
  };

  // Resolves the endpoints; throws ConfigError naming the cluster on failure. Without
  // `resolve_names` (validate mode, like Envoy's validation cluster manager, which never completes
  // a DNS query) the endpoints of STRICT_DNS/LOGICAL_DNS clusters are not resolved: the cluster
  // then has none. STATIC endpoints are IP literals (config.cc), resolved without DNS either way.
  Cluster(const ClusterSpec& spec, const std::string& path, bool resolve_names = true);

  const std::string& name() const { return name_; }
  uint32_t connectTimeoutMs() const { return connect_timeout_ms_; }
  // The upstream HTTP/1 codec's settings (HttpProtocolOptions' explicit_http_config).
  const Http1Settings& http1Settings() const { return http1_settings_; }
  size_t pickEndpoint() { return next_.fetch_add(1, std::memory_order_relaxed) % endpoints_.size(); }
  // The endpoint whose resolved address is `ip_port` (an upstream override host), if any.
  std::optional<size_t> findEndpoint(const std::string& ip_port) const {
    for (size_t i = 0; i < endpoints_.size(); ++i) {
      if (endpoints_[i].ip_port == ip_port) {
        return i;
      }
    }
    return std::nullopt;
  }
  const Endpoint& endpoint(size_t index) const { return endpoints_[index]; }
  size_t endpointCount() const { return endpoints_.size(); }

private:
  std::string name_;
  uint32_t connect_timeout_ms_;
  Http1Settings http1_settings_;
  std::vector<Endpoint> endpoints_;
  std::atomic<size_t> next_{0};
};

using ClusterMap = std::map<std::string, std::unique_ptr<Cluster>>;

// Resolves one socket address (numeric or by DNS); false on failure.
bool resolveAddress(const SocketAddress& address, sockaddr_storage& out, socklen_t& length);

} // namespace EnvoyTsHost
