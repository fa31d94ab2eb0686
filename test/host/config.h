#pragma once

#include <cstdint>
#include <optional>
#include <utility>
#include <stdexcept>
#include <string>
#include <vector>

namespace YAML {
class Node;
}

namespace EnvoyTsHost {

// Envoy's default for a listener's per_connection_buffer_limit_bytes (1 MiB).
constexpr uint32_t DefaultPerConnectionBufferLimitBytes = 1024 * 1024;

// Thrown while reading envoy.yaml only (never on the data plane); the message names the field.
class ConfigError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// envoy.config.core.v3.Http1ProtocolOptions (the supported fields), as Envoy's Http1Settings.
struct Http1Settings {
  // Off by default, as in Envoy: the HTTP/1 codec then neither decodes trailers (the message ends
  // with its body) nor encodes them (the body just ends).
  bool enable_trailers{false};
  // Downstream only (the HttpConnectionManager's; a cluster's codec ignores them): Envoy's
  // common_http_protocol_options.max_headers_count (default 100) and max_request_headers_kb
  // (default 60). Above either, the request is answered 431.
  uint32_t max_headers_count{100};
  uint32_t max_request_headers_kb{60};
};

// The HttpConnectionManager's generate_request_id (default true) and
// preserve_external_request_id (default false). With use_remote_address false (the only value
// the host supports) no request is an edge request, so Envoy keeps any x-request-id the client
// sent and generates one (a UUID v4) only when it is absent; preserve_external_request_id matters
// only for edge requests.
struct RequestIdSettings {
  bool generate{true};
  bool preserve_external{false};
};

struct SocketAddress {
  std::string address;
  uint16_t port{0};
};

// envoy.extensions.filters.http.dynamic_modules.v3.DynamicModuleFilter.
struct DynamicModuleFilterSpec {
  std::string path;        // Config path, for error messages.
  std::string config_name; // The filter's `name` in its chain (keys typed_per_filter_config).
  std::string module_name;
  bool do_not_close{false};
  bool load_globally{false};
  std::string filter_name;
  std::string filter_config; // StringValue bytes or decoded BytesValue.
};

// envoy.extensions.filters.http.dynamic_modules.v3.DynamicModuleFilterPerRoute: one value of a
// route's or virtual host's typed_per_filter_config.
struct PerRouteConfigSpec {
  std::string path; // Config path (...typed_per_filter_config.<filter name>), for error messages.
  std::string module_name;
  bool do_not_close{false};
  bool load_globally{false};
  std::string per_route_config_name;
  std::string filter_config; // StringValue bytes or decoded BytesValue.
};

// typed_per_filter_config: http filter name -> config, in config order.
using PerFilterConfigSpecs = std::vector<std::pair<std::string, PerRouteConfigSpec>>;

struct RouteSpec {
  std::string name; // Optional.
  std::string prefix;
  std::string cluster;
  PerFilterConfigSpecs typed_per_filter_config;
};

struct VirtualHostSpec {
  std::string name;
  std::vector<std::string> domains;
  std::vector<RouteSpec> routes;
  PerFilterConfigSpecs typed_per_filter_config;
};

// envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy (the supported fields).
struct TcpProxySpec {
  std::string stat_prefix;
  std::string cluster;
};

// A listener is either HTTP (one http_connection_manager) or TCP (DynamicModuleNetworkFilter
// entries, then tcp_proxy).
struct ListenerSpec {
  enum class Kind { Http, Tcp };
  Kind kind{Kind::Http};
  std::string name;
  SocketAddress address;
  // HTTP listeners: each stream's starting buffer limit (Envoy's FilterManager buffer_limit_).
  uint32_t per_connection_buffer_limit_bytes{DefaultPerConnectionBufferLimitBytes};
  // HTTP listeners: the HttpConnectionManager's http_protocol_options (downstream codec).
  Http1Settings http1_settings;
  // HTTP listeners: the HttpConnectionManager's x-request-id options.
  RequestIdSettings request_id;
  std::string stat_prefix;
  std::vector<VirtualHostSpec> virtual_hosts;
  std::vector<DynamicModuleFilterSpec> filters; // HTTP: in chain order; the router is implicit.
  std::vector<DynamicModuleFilterSpec> network_filters; // TCP: in chain order.
  TcpProxySpec tcp_proxy;                                // TCP: the terminal filter.
  // The listener's YAML subtree in a canonical form (mapping keys sorted), whole and without
  // `filter_chains`: a reload compares them the way Envoy's listener manager compares listener
  // protos (same hash: no update; only filter_chains differ: an in-place filter chain update).
  std::string canonical_config;
  std::string canonical_config_without_filter_chains;
};

struct ClusterSpec {
  std::string name;
  std::string type;
  uint32_t connect_timeout_ms{5000};
  std::vector<SocketAddress> endpoints;
  // typed_extension_protocol_options' envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
  // explicit_http_config.http_protocol_options (the upstream codec of the router and of callouts).
  Http1Settings http1_settings;
};

// dynamic_resources.lds_config: listeners from a file (Envoy's filesystem subscription,
// envoy.config.core.v3.PathConfigSource).
struct LdsConfigSpec {
  std::string path;                             // path_config_source.path
  std::optional<std::string> watched_directory; // path_config_source.watched_directory.path
};

// When the stats flush merges histograms (Envoy's StatsConfigImpl): every `interval_ms`
// (stats_flush_interval, 5 s by default), or, with stats_flush_on_admin, at each GET /stats
// instead.
struct StatsFlushSpec {
  uint32_t interval_ms{5000};
  bool on_admin{false};

  bool operator==(const StatsFlushSpec& other) const {
    return interval_ms == other.interval_ms && on_admin == other.on_admin;
  }
};

struct BootstrapSpec {
  std::vector<ListenerSpec> listeners;
  std::vector<ClusterSpec> clusters;
  std::optional<SocketAddress> admin;
  std::optional<LdsConfigSpec> lds;
  StatsFlushSpec stats_flush;
  // Canonical YAML of static_resources.clusters, admin and dynamic_resources, for a reload to tell
  // whether they changed (it cannot apply such changes).
  std::string canonical_clusters;
  std::string canonical_admin;
  std::string canonical_dynamic_resources;
};

// Reads the supported envoy.yaml subset; throws ConfigError on anything it cannot honour.
BootstrapSpec loadBootstrap(const std::string& path);

// One static_resources.clusters entry (also a scripted scenario's); throws ConfigError naming
// `path`.
ClusterSpec clusterSpec(const YAML::Node& cluster, const std::string& path);

// A DiscoveryResponse file of Listener resources (LDS from a file).
struct LdsResource {
  std::string name;
  std::optional<ListenerSpec> spec; // Unset: the listener failed, see `error`.
  std::string error;
};
struct LdsResponse {
  std::string version_info;
  std::vector<LdsResource> resources;
};

// The file cannot be read or parsed as a DiscoveryResponse at all (Envoy counts such a refresh in
// `update_failure`, not `update_rejected`).
class LdsFileError : public ConfigError {
public:
  using ConfigError::ConfigError;
};

// Reads an LDS DiscoveryResponse (YAML or JSON). Throws LdsFileError (see above), or ConfigError
// when the response as a whole is rejected (a resource that is not a Listener, a listener without
// a name, an unsupported response field). An error inside one listener is that resource's `error`
// (Envoy: addOrUpdateListener fails for that listener only). `clusters`: the cluster names routes
// may use.
LdsResponse loadLdsResponse(const std::string& path, const std::vector<ClusterSpec>& clusters);

// Decodes standard base64 (BytesValue in YAML/JSON); throws ConfigError naming `field`.
std::string decodeBase64(const std::string& input, const std::string& field);

} // namespace EnvoyTsHost
