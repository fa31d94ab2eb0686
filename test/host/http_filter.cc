#include "http_filter.h"

#include "filter_manager.h"
#include "http_callout.h"
#include "http_codec.h"
#include "logger.h"

namespace EnvoyTsHost {

HttpFilter::HttpFilter(FilterManager& manager, HttpFilterConfigSharedPtr config, size_t index)
    : manager_(manager), config_(std::move(config)), hooks_(config_->hooks()), index_(index),
      liveness_(std::make_shared<FilterLiveness>(manager.dispatcher().postQueue(), this)) {}

HttpFilter::~HttpFilter() {
  liveness_->target = nullptr;
  closeCallouts();
  if (module_filter_ != nullptr) {
    hooks_.destroy(module_filter_);
  }
}

bool HttpFilter::create() {
  module_filter_ = hooks_.filter_new(config_->moduleConfig(), this);
  return module_filter_ != nullptr;
}

int HttpFilter::onHeaders(bool decode, bool end_stream) {
  return decode ? static_cast<int>(hooks_.request_headers(this, module_filter_, end_stream))
                : static_cast<int>(hooks_.response_headers(this, module_filter_, end_stream));
}

int HttpFilter::onBody(bool decode, Buffer& data, bool end_stream) {
  Buffer*& received = decode ? received_request_body_ : received_response_body_;
  // Restored rather than cleared: a continue from inside the hook may run body hooks re-entrantly.
  Buffer* const outer = received;
  received = &data;
  const int status =
      decode ? static_cast<int>(hooks_.request_body(this, module_filter_, end_stream))
             : static_cast<int>(hooks_.response_body(this, module_filter_, end_stream));
  received = outer;
  return status;
}

int HttpFilter::onTrailers(bool decode) {
  return decode ? static_cast<int>(hooks_.request_trailers(this, module_filter_))
                : static_cast<int>(hooks_.response_trailers(this, module_filter_));
}

void HttpFilter::onStreamComplete() {
  if (module_filter_ != nullptr) {
    hooks_.stream_complete(this, module_filter_);
  }
}

void HttpFilter::onScheduled(uint64_t event_id) {
  if (module_filter_ != nullptr) {
    hooks_.scheduled(this, module_filter_, event_id);
  }
}

envoy_dynamic_module_type_http_callout_init_result
HttpFilter::startCallout(uint64_t* callout_id, const std::string& cluster_name,
                         const std::vector<HeaderMap::Entry>& headers, const std::string& body,
                         uint64_t timeout_ms) {
  const CalloutContext& context = manager_.calloutContext();
  Cluster* cluster = nullptr;
  if (context.clusters != nullptr) {
    auto it = context.clusters->find(cluster_name);
    cluster = it == context.clusters->end() ? nullptr : it->second.get();
  }
  if (cluster == nullptr) {
    return envoy_dynamic_module_type_http_callout_init_result_ClusterNotFound;
  }
  // Envoy takes the id before asking the async client, so a refused request uses one up.
  const uint64_t id = next_callout_id_++;
  if (cluster->endpointCount() == 0) {
    return envoy_dynamic_module_type_http_callout_init_result_CannotCreateRequest;
  }

  // The request as Envoy's HTTP/1 codec writes it: `host` (Envoy's :authority) on the request
  // line's side, other pseudo-headers and connection-specific headers dropped, the async
  // client's x-envoy-internal, and content-length for a body.
  const std::string* method = nullptr;
  const std::string* path = nullptr;
  const std::string* host = nullptr;
  for (const HeaderMap::Entry& entry : headers) {
    if (entry.first == ":method" && method == nullptr) {
      method = &entry.second;
    } else if (entry.first == ":path" && path == nullptr) {
      path = &entry.second;
    } else if ((entry.first == "host" || entry.first == ":authority") && host == nullptr) {
      host = &entry.second;
    }
  }
  std::string request = *method + " " + *path + " HTTP/1.1\r\nhost: " + *host + "\r\n";
  for (const HeaderMap::Entry& entry : headers) {
    if (entry.first.empty() || entry.first[0] == ':' || entry.first == "host" ||
        entry.first == "x-envoy-internal" || isHopByHopHeader(entry.first) ||
        (!body.empty() && entry.first == "content-length")) {
      continue;
    }
    request += entry.first + ": " + entry.second + "\r\n";
  }
  request += "x-envoy-internal: true\r\n";
  if (!body.empty()) {
    request += "content-length: " + std::to_string(body.size()) + "\r\n";
  }
  request += "\r\n";
  request += body;

  auto callout =
      std::make_unique<HttpCallout>(*this, id, *cluster, context.pool, manager_.dispatcher());
  HttpCallout& started = *callout;
  callouts_.emplace(id, std::move(callout));
  started.start(std::move(request), *method == "HEAD", timeout_ms);
  *callout_id = id;
  HOST_LOG(Debug, "callout " + std::to_string(id) + " to cluster " + cluster_name + " started");
  return envoy_dynamic_module_type_http_callout_init_result_Success;
}

void HttpFilter::onCalloutDone(uint64_t callout_id,
                               envoy_dynamic_module_type_http_callout_result result) {
  auto it = callouts_.find(callout_id);
  if (it == callouts_.end()) {
    return;
  }
  // Out of the map before the hook: the module may start callouts or end the stream from it.
  std::unique_ptr<HttpCallout> callout = std::move(it->second);
  callouts_.erase(it);
  if (!callouts_closed_ && module_filter_ != nullptr) {
    std::vector<envoy_dynamic_module_type_envoy_http_header> headers;
    std::vector<envoy_dynamic_module_type_envoy_buffer> chunks;
    if (result == envoy_dynamic_module_type_http_callout_result_Success) {
      for (const HeaderMap::Entry& entry : callout->responseHeaders()) {
        headers.push_back({entry.first.data(), entry.first.size(), entry.second.data(),
                           entry.second.size()});
      }
      if (!callout->responseBody().empty()) {
        chunks.push_back({callout->responseBody().data(), callout->responseBody().size()});
      }
    }
    hooks_.http_callout_done(this, module_filter_, callout_id, result,
                             headers.empty() ? nullptr : headers.data(), headers.size(),
                             chunks.empty() ? nullptr : chunks.data(), chunks.size());
  }
  // The callout's own code is still on the stack: delete it from a later loop iteration.
  manager_.dispatcher().deferredDelete(std::move(callout));
}

void HttpFilter::closeCallouts() {
  callouts_closed_ = true;
  // Cancelling never reports, so nothing can touch the map while it is cleared.
  std::map<uint64_t, std::unique_ptr<HttpCallout>> pending;
  pending.swap(callouts_);
  if (!pending.empty()) {
    HOST_LOG(Debug, "cancelling " + std::to_string(pending.size()) + " pending callout(s)");
  }
  pending.clear();
}

} // namespace EnvoyTsHost
