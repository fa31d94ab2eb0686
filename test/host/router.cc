#include "router.h"

#include <strings.h>

#include <cstdio>

#include "http_codec.h"
#include "logger.h"

namespace EnvoyTsHost {

std::unique_ptr<RouteTable> RouteTable::create(const ListenerSpec& listener,
                                               ClusterMap& clusters, std::string& error) {
  std::unique_ptr<RouteTable> table(new RouteTable());
  for (const VirtualHostSpec& spec : listener.virtual_hosts) {
    VirtualHost vh;
    for (const std::string& domain : spec.domains) {
      vh.domains.push_back(toLower(domain));
    }
    // As in Envoy's VirtualHostImpl, the virtual host's per-filter configs are built before its
    // routes' ones.
    auto vh_configs = std::make_shared<PerFilterConfigs>();
    if (!createPerFilterConfigs(spec.typed_per_filter_config, *vh_configs, error)) {
      return nullptr;
    }
    for (const RouteSpec& route : spec.routes) {
      RouteEntry entry;
      entry.name = route.name;
      entry.prefix = route.prefix;
      entry.cluster = clusters.at(route.cluster).get();
      entry.virtual_host_configs = vh_configs;
      if (!createPerFilterConfigs(route.typed_per_filter_config, entry.per_filter_configs, error)) {
        return nullptr;
      }
      vh.routes.push_back(std::move(entry));
    }
    table->virtual_hosts_.push_back(std::move(vh));
  }
  return table;
}

const HttpPerRouteConfig*
RouteEntry::mostSpecificPerFilterConfig(const std::string& filter_name) const {
  auto it = per_filter_configs.find(filter_name);
  if (it != per_filter_configs.end()) {
    return it->second.get();
  }
  if (virtual_host_configs != nullptr) {
    auto vh_it = virtual_host_configs->find(filter_name);
    if (vh_it != virtual_host_configs->end()) {
      return vh_it->second.get();
    }
  }
  return nullptr;
}

namespace {

bool domainMatches(const std::string& domain, const std::string& host) {
  if (domain == "*" || domain == host) {
    return true;
  }
  // "*.example.com" and "example.*" wildcards, as in Envoy's virtual host matching.
  if (domain.size() > 1 && domain[0] == '*') {
    const std::string suffix = domain.substr(1);
    return host.size() > suffix.size() &&
           host.compare(host.size() - suffix.size(), suffix.size(), suffix) == 0;
  }
  if (domain.size() > 1 && domain.back() == '*') {
    const std::string prefix = domain.substr(0, domain.size() - 1);
    return host.size() > prefix.size() && host.compare(0, prefix.size(), prefix) == 0;
  }
  return false;
}

} // namespace

const RouteEntry* RouteTable::route(const HeaderMap& headers) const {
  const std::string* authority = headers.get(":authority");
  const std::string* path = headers.get(":path");
  const std::string host = authority == nullptr ? "" : toLower(*authority);
  const std::string host_no_port = host.substr(0, host.rfind(':'));
  for (const VirtualHost& vh : virtual_hosts_) {
    bool matched = false;
    for (const std::string& domain : vh.domains) {
      matched = matched || domainMatches(domain, host) || domainMatches(domain, host_no_port);
    }
    if (!matched) {
      continue;
    }
    for (const RouteEntry& entry : vh.routes) {
      if (path != nullptr && path->compare(0, entry.prefix.size(), entry.prefix) == 0) {
        return &entry;
      }
    }
    return nullptr;
  }
  return nullptr;
}

RouterUpstream::RouterUpstream(FilterManager& stream, UpstreamConnPool& pool,
                               Dispatcher& dispatcher)
    : stream_(stream), connection_(dispatcher, &pool, *this, "") {}

void RouterUpstream::decodeHeaders(HeaderMap& headers, bool end_stream) {
  // The stream's cached route: picked before the decoder filters ran, or again from the current
  // headers if a filter cleared the route cache.
  const RouteEntry* route = stream_.route();
  cluster_ = route == nullptr ? nullptr : route->cluster;
  if (cluster_ == nullptr) {
    done_ = true;
    stream_.sendLocalReply(404, {}, "", "route_not_found");
    return;
  }
  const std::string* method = headers.get(":method");
  const std::string* path = headers.get(":path");
  const std::string* authority = headers.get(":authority");
  std::string head = (method ? *method : "GET") + " " + (path ? *path : "/") + " HTTP/1.1\r\n";
  head += "host: " + (authority ? *authority : std::string()) + "\r\n";
  bool has_length = false;
  for (const HeaderMap::Entry& entry : headers.entries()) {
    if (entry.first.empty() || entry.first[0] == ':' || entry.first == "host" ||
        isHopByHopHeader(entry.first)) {
      continue;
    }
    has_length = has_length || entry.first == "content-length";
    head += entry.first + ": " + entry.second + "\r\n";
  }
  if (!end_stream && !has_length) {
    request_chunked_ = true;
    head += "transfer-encoding: chunked\r\n";
  }
  head += "\r\n";
  request_complete_ = end_stream;
  connection_.response().setSkipBody(method != nullptr && *method == "HEAD");
  connection_.write(head);
  connect();
}

void RouterUpstream::decodeData(Buffer& data, bool end_stream) {
  if (done_ || cluster_ == nullptr) {
    return;
  }
  if (request_chunked_ && !data.empty()) {
    char size[32];
    snprintf(size, sizeof(size), "%zx\r\n", data.length());
    connection_.write(size);
  }
  for (const std::string& slice : data.slices()) {
    connection_.write(slice);
  }
  if (request_chunked_) {
    connection_.write(std::string(data.empty() ? "" : "\r\n") + (end_stream ? "0\r\n\r\n" : ""));
  }
  data.drain(data.length());
  request_complete_ = request_complete_ || end_stream;
}

void RouterUpstream::decodeTrailers(HeaderMap& trailers) {
  if (done_ || cluster_ == nullptr) {
    return;
  }
  // Envoy's HTTP/1 codec: trailers only exist in a chunked body, and without the cluster's
  // enable_trailers they are dropped and the body just ends.
  if (request_chunked_) {
    std::string last = "0\r\n";
    if (cluster_->http1Settings().enable_trailers) {
      for (const HeaderMap::Entry& entry : trailers.entries()) {
        last += entry.first + ": " + entry.second + "\r\n";
      }
    }
    connection_.write(last + "\r\n");
  }
  request_complete_ = true;
}

void RouterUpstream::readDisable(bool disable) { connection_.readDisable(disable); }

void RouterUpstream::cancel() {
  done_ = true;
  connection_.close(false); // A connection that can be reused went back when the response ended.
}

void RouterUpstream::connect() {
  // Envoy's load balancers take an override host first when the cluster has it; strict without
  // it leaves no host to pick.
  const std::string& override_host = stream_.upstreamOverrideHost();
  std::optional<size_t> overridden =
      override_host.empty() ? std::nullopt : cluster_->findEndpoint(override_host);
  if (!override_host.empty() && !overridden && stream_.upstreamOverrideStrict()) {
    done_ = true;
    HOST_LOG(Debug, "override host " + override_host + " is not in cluster " + cluster_->name());
    stream_.sendLocalReply(503, {}, "no healthy upstream", "no_healthy_upstream");
    return;
  }
  if (!connection_.connect(*cluster_, overridden ? *overridden : cluster_->pickEndpoint())) {
    onConnectionFailure("connection failure");
  }
}

void RouterUpstream::onResponseParsed() {
  if (done_) {
    return;
  }
  Http1Parser& response = connection_.response();
  if (response.headersComplete() && !response_headers_sent_) {
    const unsigned status = response.statusCode();
    if (status >= 100 && status < 200 && status != 101) {
      // Interim responses are not forwarded (Envoy's default).
      response.nextMessage();
      return;
    }
    auto headers = std::make_unique<HeaderMap>();
    headers->add(":status", std::to_string(status));
    for (HeaderMap::Entry& entry : response.headers()) {
      if (!isHopByHopHeader(entry.first)) {
        headers->add(std::move(entry.first), std::move(entry.second));
      }
    }
    response_headers_sent_ = true;
    const bool end_stream = response.messageComplete() && response.body().empty() &&
                            response.trailers().empty();
    if (end_stream) {
      onResponseComplete();
    }
    stream_.encodeHeaders(std::move(headers), end_stream);
    if (end_stream || done_) {
      return;
    }
  }
  if (!response_headers_sent_) {
    return;
  }
  const bool complete = response.messageComplete();
  const bool has_trailers = complete && !response.trailers().empty();
  if (!response.body().empty() || (complete && !has_trailers)) {
    Buffer body;
    body.move(response.body());
    if (complete && !has_trailers) {
      onResponseComplete();
    }
    stream_.encodeData(body, complete && !has_trailers);
    if (done_) {
      return;
    }
  }
  if (has_trailers) {
    auto trailers = std::make_unique<HeaderMap>();
    for (HeaderMap::Entry& entry : response.trailers()) {
      trailers->add(std::move(entry.first), std::move(entry.second));
    }
    response.trailers().clear();
    onResponseComplete();
    stream_.encodeTrailers(std::move(trailers));
  }
}

// Envoy's HTTP/1 pool decides when the response ends (onResponseComplete): the connection is
// reused only if the whole request was encoded by then; otherwise it is closed and the router
// resets the upstream request, whose remaining request bytes are never sent. The host also waits
// for every request byte to have left: without Envoy's upstream write watermark, which holds a
// large body back, a whole body can still be queued here, and a reused connection would carry
// its tail ahead of the next request. Nothing from this connection (e.g. its EOF) reaches the
// stream any more.
void RouterUpstream::onResponseComplete() {
  done_ = true;
  connection_.close(request_complete_ && connection_.outputDrained() &&
                    connection_.response().keepAlive());
}

void RouterUpstream::onConnectionFailure(const char* reason) {
  if (done_) {
    return;
  }
  done_ = true;
  HOST_LOG(Debug, std::string("upstream ") + reason);
  connection_.close(false);
  if (response_headers_sent_) {
    stream_.onUpstreamReset();
    return;
  }
  stream_.sendLocalReply(
      503, {}, std::string("upstream connect error or disconnect/reset before headers. reset reason: ") + reason,
      "upstream_reset_before_response_started");
}

} // namespace EnvoyTsHost
