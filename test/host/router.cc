#include "router.h"

#include <event2/buffer.h>
#include <strings.h>

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
    : stream_(stream), pool_(pool), dispatcher_(dispatcher) {}

RouterUpstream::~RouterUpstream() {
  *alive_ = false;
  closeConnection(false);
}

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
  parser_.setSkipBody(method != nullptr && *method == "HEAD");
  pending_ = std::move(head);
  connect();
}

void RouterUpstream::decodeData(Buffer& data, bool end_stream) {
  if (done_ || cluster_ == nullptr) {
    return;
  }
  if (request_chunked_ && !data.empty()) {
    char size[32];
    snprintf(size, sizeof(size), "%zx\r\n", data.length());
    write(size);
  }
  for (const std::string& slice : data.slices()) {
    write(slice);
  }
  if (request_chunked_) {
    write(std::string(data.empty() ? "" : "\r\n") + (end_stream ? "0\r\n\r\n" : ""));
  }
  data.drain(data.length());
  request_complete_ = request_complete_ || end_stream;
}

void RouterUpstream::decodeTrailers(HeaderMap& trailers) {
  if (done_ || cluster_ == nullptr) {
    return;
  }
  if (request_chunked_) {
    std::string last = "0\r\n";
    for (const HeaderMap::Entry& entry : trailers.entries()) {
      last += entry.first + ": " + entry.second + "\r\n";
    }
    write(last + "\r\n");
  }
  request_complete_ = true;
}

void RouterUpstream::readDisable(bool disable) {
  if (disable) {
    if (read_disable_count_++ == 0 && connection_ != nullptr) {
      bufferevent_disable(connection_, EV_READ);
    }
    return;
  }
  if (read_disable_count_ == 0 || --read_disable_count_ > 0 || connection_ == nullptr) {
    return;
  }
  bufferevent_enable(connection_, EV_READ);
  // Go on with the bytes read before the pause from a later loop iteration, not from inside the
  // filter hook that resumed reading.
  if (!resume_posted_) {
    resume_posted_ = true;
    std::weak_ptr<bool> alive = alive_;
    dispatcher_.post([this, alive]() {
      if (auto a = alive.lock(); a && *a) {
        resume_posted_ = false;
        processInput();
      }
    });
  }
}

void RouterUpstream::cancel() {
  done_ = true;
  closeConnection(response_complete_ && request_complete_ && parser_.keepAlive());
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
  endpoint_ = overridden ? *overridden : cluster_->pickEndpoint();
  connection_ = pool_.take(*cluster_, endpoint_);
  if (connection_ != nullptr) {
    connected_ = true;
  } else {
    connection_ = bufferevent_socket_new(dispatcher_.base(), -1, BEV_OPT_CLOSE_ON_FREE);
    const Cluster::Endpoint& endpoint = cluster_->endpoint(endpoint_);
    connect_timer_ = evtimer_new(dispatcher_.base(), &RouterUpstream::onConnectTimeout, this);
    const timeval timeout{static_cast<time_t>(cluster_->connectTimeoutMs() / 1000),
                          static_cast<suseconds_t>((cluster_->connectTimeoutMs() % 1000) * 1000)};
    evtimer_add(connect_timer_, &timeout);
    if (bufferevent_socket_connect(connection_, reinterpret_cast<const sockaddr*>(&endpoint.address),
                                   static_cast<int>(endpoint.length)) != 0) {
      onConnectionFailure("connection failure");
      return;
    }
  }
  bufferevent_setcb(connection_, &RouterUpstream::onRead, nullptr, &RouterUpstream::onEvent, this);
  bufferevent_enable(connection_, read_disable_count_ > 0 ? EV_WRITE : EV_READ | EV_WRITE);
  if (connected_) {
    write("");
  }
}

void RouterUpstream::write(const std::string& bytes) {
  pending_ += bytes;
  if (connected_ && connection_ != nullptr && !pending_.empty()) {
    bufferevent_write(connection_, pending_.data(), pending_.size());
    pending_.clear();
  }
}

void RouterUpstream::onEvent(bufferevent*, short events, void* arg) {
  auto* self = static_cast<RouterUpstream*>(arg);
  if (events & BEV_EVENT_CONNECTED) {
    self->connected_ = true;
    if (self->connect_timer_ != nullptr) {
      event_free(self->connect_timer_);
      self->connect_timer_ = nullptr;
    }
    self->write("");
    return;
  }
  if (!self->connected_) {
    self->onConnectionFailure("connection failure");
    return;
  }
  // EOF or error: ends a close-delimited response, otherwise the upstream reset the stream. Bytes
  // that arrived before it and wait since a pause go first.
  self->processInput();
  if (self->done_) {
    return;
  }
  self->parser_.finish();
  self->dispatchResponse();
  if (!self->done_ && !self->response_complete_) {
    self->onConnectionFailure("connection termination");
  }
}

void RouterUpstream::onConnectTimeout(evutil_socket_t, short, void* arg) {
  static_cast<RouterUpstream*>(arg)->onConnectionFailure("connection timeout");
}

void RouterUpstream::onRead(bufferevent*, void* arg) {
  static_cast<RouterUpstream*>(arg)->processInput();
}

void RouterUpstream::processInput() {
  if (connection_ == nullptr) {
    return;
  }
  evbuffer* input = bufferevent_get_input(connection_);
  // One input segment (about one socket read) at a time, so each becomes its own body slice.
  while (!done_ && read_disable_count_ == 0 && evbuffer_get_length(input) > 0) {
    evbuffer_iovec segment;
    if (evbuffer_peek(input, -1, nullptr, &segment, 1) < 1) {
      return;
    }
    const size_t consumed =
        parser_.execute(static_cast<const char*>(segment.iov_base), segment.iov_len);
    evbuffer_drain(input, consumed);
    if (parser_.failed()) {
      HOST_LOG(Debug, "upstream protocol error: " + parser_.errorName());
      onConnectionFailure("protocol error");
      return;
    }
    dispatchResponse();
    if (consumed == 0) {
      break;
    }
  }
}

void RouterUpstream::dispatchResponse() {
  if (done_) {
    return;
  }
  if (parser_.headersComplete() && !response_headers_sent_) {
    const unsigned status = parser_.statusCode();
    if (status >= 100 && status < 200 && status != 101) {
      // Interim responses are not forwarded (Envoy's default).
      parser_.nextMessage();
      return;
    }
    auto headers = std::make_unique<HeaderMap>();
    headers->add(":status", std::to_string(status));
    for (HeaderMap::Entry& entry : parser_.headers()) {
      if (!isHopByHopHeader(entry.first)) {
        headers->add(std::move(entry.first), std::move(entry.second));
      }
    }
    response_headers_sent_ = true;
    const bool end_stream = parser_.messageComplete() && parser_.body().empty() &&
                            parser_.trailers().empty();
    response_complete_ = end_stream;
    stream_.encodeHeaders(std::move(headers), end_stream);
    if (end_stream || done_) {
      return;
    }
  }
  if (!response_headers_sent_) {
    return;
  }
  const bool complete = parser_.messageComplete();
  const bool has_trailers = complete && !parser_.trailers().empty();
  if (!parser_.body().empty() || (complete && !has_trailers)) {
    Buffer body;
    body.move(parser_.body());
    response_complete_ = complete && !has_trailers;
    stream_.encodeData(body, complete && !has_trailers);
    if (done_) {
      return;
    }
  }
  if (has_trailers) {
    auto trailers = std::make_unique<HeaderMap>();
    for (HeaderMap::Entry& entry : parser_.trailers()) {
      trailers->add(std::move(entry.first), std::move(entry.second));
    }
    parser_.trailers().clear();
    response_complete_ = true;
    stream_.encodeTrailers(std::move(trailers));
  }
}

void RouterUpstream::onConnectionFailure(const char* reason) {
  if (done_) {
    return;
  }
  done_ = true;
  HOST_LOG(Debug, std::string("upstream ") + reason);
  closeConnection(false);
  if (response_headers_sent_) {
    stream_.onUpstreamReset();
    return;
  }
  stream_.sendLocalReply(
      503, {}, std::string("upstream connect error or disconnect/reset before headers. reset reason: ") + reason,
      "upstream_reset_before_response_started");
}

void RouterUpstream::closeConnection(bool reusable) {
  if (connect_timer_ != nullptr) {
    event_free(connect_timer_);
    connect_timer_ = nullptr;
  }
  if (connection_ == nullptr) {
    return;
  }
  bufferevent* connection = connection_;
  connection_ = nullptr;
  if (reusable && connected_ && pending_.empty()) {
    pool_.release(*cluster_, endpoint_, connection);
  } else {
    bufferevent_free(connection);
  }
}

} // namespace EnvoyTsHost
