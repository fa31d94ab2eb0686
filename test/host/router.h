#pragma once

#include <event2/bufferevent.h>
#include <event2/event.h>

#include <memory>
#include <string>
#include <vector>

#include "cluster.h"
#include "config.h"
#include "filter_manager.h"
#include "http_codec.h"
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
// connection per stream.
class RouterUpstream : public UpstreamRequest {
public:
  RouterUpstream(FilterManager& stream, UpstreamConnPool& pool, Dispatcher& dispatcher);
  ~RouterUpstream() override;

  // UpstreamRequest
  void decodeHeaders(HeaderMap& headers, bool end_stream) override;
  void decodeData(Buffer& data, bool end_stream) override;
  void decodeTrailers(HeaderMap& trailers) override;
  void readDisable(bool disable) override;
  void cancel() override;

private:
  static void onRead(bufferevent* bev, void* arg);
  void processInput();
  static void onEvent(bufferevent* bev, short events, void* arg);
  static void onConnectTimeout(evutil_socket_t, short, void* arg);

  void connect();
  void write(const std::string& bytes);
  void dispatchResponse();
  void onConnectionFailure(const char* reason);
  void closeConnection(bool reusable);

  FilterManager& stream_;
  UpstreamConnPool& pool_;
  Dispatcher& dispatcher_;
  Cluster* cluster_{nullptr};
  size_t endpoint_{0};
  bufferevent* connection_{nullptr};
  event* connect_timer_{nullptr};
  bool connected_{false};
  std::string pending_; // Request bytes written before the connection is up.
  bool request_chunked_{false};
  bool request_complete_{false};
  Http1Parser parser_{HTTP_RESPONSE};
  bool response_headers_sent_{false};
  bool response_complete_{false};
  bool done_{false};
  // Outstanding readDisable(true) calls; response bytes already read wait in the input meanwhile.
  size_t read_disable_count_{0};
  bool resume_posted_{false};
  std::shared_ptr<bool> alive_{std::make_shared<bool>(true)};
};

} // namespace EnvoyTsHost
