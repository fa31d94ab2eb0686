#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cluster.h"
#include "config.h"
#include "filter_manager.h"
#include "per_route_config.h"
#include "upstream_connection.h"

namespace EnvoyTsHost {

// One route of a virtual host: a prefix match to a cluster; `name` is the route's optional name
// (Envoy's xds.route_name).
struct RouteEntry {
  std::string name;
  std::string prefix;
  Cluster* cluster{nullptr};
  PerFilterConfigs per_filter_configs;                          // The route's own.
  std::shared_ptr<const PerFilterConfigs> virtual_host_configs; // Its virtual host's.

  // Envoy's mostSpecificPerFilterConfig for the http filter named `filter_name`: the route's
  // typed_per_filter_config entry, else its virtual host's; nullptr when neither has one.
  const HttpPerRouteConfig* mostSpecificPerFilterConfig(const std::string& filter_name) const;
};

// Route lookup for one listener (first virtual host whose domain matches, first prefix match).
// Owns the per-route configs of its routes and virtual hosts.
class RouteTable {
public:
  // Builds the table and its per-route configs (main thread); nullptr with `error` set.
  static std::unique_ptr<RouteTable> create(const ListenerSpec& listener, ClusterMap& clusters,
                                            std::string& error);
  // nullptr when no route matches.
  const RouteEntry* route(const HeaderMap& headers) const;

private:
  RouteTable() = default;

  struct VirtualHost {
    std::vector<std::string> domains;
    std::vector<RouteEntry> routes;
  };
  std::vector<VirtualHost> virtual_hosts_;
};

// The router filter's upstream side: forwards the filtered request to the cluster of the stream's
// (cached) route over HTTP/1.1 and feeds the response back into the encoder chain. One upstream
// connection per stream. Trailers go both ways only if the cluster's HTTP/1 protocol options
// enable them (Envoy's codec): otherwise request trailers are not written and response trailers
// are ignored (the response ends with its body).
class RouterUpstream : public UpstreamRequest, private UpstreamConnectionCallbacks {
public:
  RouterUpstream(FilterManager& stream, UpstreamConnPool& pool, Dispatcher& dispatcher);

  // UpstreamRequest
  void decodeHeaders(HeaderMap& headers, bool end_stream) override;
  void decodeData(Buffer& data, bool end_stream) override;
  void decodeTrailers(HeaderMap& trailers) override;
  void readDisable(bool disable) override;
  void cancel() override;

private:
  // UpstreamConnectionCallbacks
  void onResponseParsed() override;
  void onConnectionFailure(const char* reason) override;

  void connect();
  // The upstream response ended: the exchange is over, its connection reused or closed.
  void onResponseComplete();

  FilterManager& stream_;
  Cluster* cluster_{nullptr};
  bool request_chunked_{false};
  bool request_complete_{false};
  bool response_headers_sent_{false};
  bool done_{false}; // The exchange is over (the response ended, or it failed or was cancelled).
  UpstreamConnection connection_;
};

} // namespace EnvoyTsHost
