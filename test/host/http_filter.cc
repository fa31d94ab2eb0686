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

Cluster* HttpFilter::calloutCluster(const std::string& cluster_name) const {
  const CalloutContext& context = manager_.calloutContext();
  if (context.clusters == nullptr) {
    return nullptr;
  }
  auto it = context.clusters->find(cluster_name);
  return it == context.clusters->end() ? nullptr : it->second.get();
}

envoy_dynamic_module_type_http_callout_init_result
HttpFilter::startCallout(uint64_t* callout_id, const std::string& cluster_name,
                         std::vector<HeaderMap::Entry> headers, const std::string& body,
                         uint64_t timeout_ms) {
  Cluster* cluster = calloutCluster(cluster_name);
  if (cluster == nullptr) {
    return envoy_dynamic_module_type_http_callout_init_result_ClusterNotFound;
  }
  // Envoy takes the id before asking the async client, so a refused request uses one up.
  const uint64_t id = next_callout_id_++;
  if (cluster->endpointCount() == 0) {
    return envoy_dynamic_module_type_http_callout_init_result_CannotCreateRequest;
  }
  auto callout = std::make_unique<HttpCallout>(*this, id, *cluster, manager_.calloutContext().pool,
                                               manager_.dispatcher(), timeout_ms);
  HttpCallout& started = *callout;
  callouts_.emplace(id, std::move(callout));
  started.start(std::move(headers), body);
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
      for (const std::string& slice : callout->responseBody().slices()) {
        chunks.push_back({slice.data(), slice.size()});
      }
    }
    hooks_.http_callout_done(this, module_filter_, callout_id, result,
                             headers.empty() ? nullptr : headers.data(), headers.size(),
                             chunks.empty() ? nullptr : chunks.data(), chunks.size());
  }
  // The callout's own code is still on the stack: delete it from a later loop iteration.
  manager_.dispatcher().deferredDelete(std::move(callout));
}

namespace {

std::vector<envoy_dynamic_module_type_envoy_http_header>
envoyHeaders(const std::vector<HeaderMap::Entry>& headers) {
  std::vector<envoy_dynamic_module_type_envoy_http_header> out;
  out.reserve(headers.size());
  for (const HeaderMap::Entry& entry : headers) {
    out.push_back(
        {entry.first.data(), entry.first.size(), entry.second.data(), entry.second.size()});
  }
  return out;
}

} // namespace

envoy_dynamic_module_type_http_callout_init_result
HttpFilter::startHttpStream(uint64_t* stream_id, const std::string& cluster_name,
                            const std::vector<HeaderMap::Entry>& headers, const std::string& body,
                            bool end_stream, uint64_t timeout_ms) {
  Cluster* cluster = calloutCluster(cluster_name);
  if (cluster == nullptr) {
    return envoy_dynamic_module_type_http_callout_init_result_ClusterNotFound;
  }
  // Envoy's getNextCalloutId: one sequence for one-shot and streaming callouts.
  const uint64_t id = next_callout_id_++;
  if (cluster->endpointCount() == 0) {
    return envoy_dynamic_module_type_http_callout_init_result_CannotCreateRequest;
  }
  auto stream = std::make_unique<HttpStreamCallout>(
      *this, id, *cluster, manager_.calloutContext().pool, manager_.dispatcher(), timeout_ms);
  AsyncStream& started = stream->stream();
  streams_.emplace(id, std::move(stream));
  *stream_id = id;
  HOST_LOG(Debug, "stream " + std::to_string(id) + " to cluster " + cluster_name + " started");
  // As Envoy's startHttpStream: the headers end the request only without a body.
  started.sendHeaders(headers, end_stream && body.empty());
  if (!body.empty()) {
    started.sendData(body, end_stream);
  }
  return envoy_dynamic_module_type_http_callout_init_result_Success;
}

bool HttpFilter::sendHttpStreamData(uint64_t stream_id, const std::string& data,
                                    bool end_stream) {
  auto it = streams_.find(stream_id);
  if (it == streams_.end()) {
    return false;
  }
  if (it->second->stream().localClosed()) {
    HOST_LOG(Debug, "stream " + std::to_string(stream_id) + ": data after the request ended");
  }
  it->second->stream().sendData(data, end_stream);
  return true;
}

bool HttpFilter::sendHttpStreamTrailers(uint64_t stream_id,
                                        const std::vector<HeaderMap::Entry>& trailers) {
  auto it = streams_.find(stream_id);
  if (it == streams_.end()) {
    return false;
  }
  if (it->second->stream().localClosed()) {
    HOST_LOG(Debug, "stream " + std::to_string(stream_id) + ": trailers after the request ended");
  }
  it->second->stream().sendTrailers(trailers);
  return true;
}

void HttpFilter::resetHttpStream(uint64_t stream_id) {
  auto it = streams_.find(stream_id);
  if (it != streams_.end()) {
    // Reports onReset from inside the call, which runs the reset hook and disposes of the stream.
    it->second->stream().reset();
  }
}

void HttpFilter::onHttpStreamHeaders(uint64_t stream_id,
                                     const std::vector<HeaderMap::Entry>& headers,
                                     bool end_stream) {
  if (callouts_closed_ || module_filter_ == nullptr) {
    return;
  }
  std::vector<envoy_dynamic_module_type_envoy_http_header> list = envoyHeaders(headers);
  hooks_.http_stream_headers(this, module_filter_, stream_id, list.data(), list.size(),
                             end_stream);
}

void HttpFilter::onHttpStreamData(uint64_t stream_id, const Buffer& data, bool end_stream) {
  if (callouts_closed_ || module_filter_ == nullptr) {
    return;
  }
  std::vector<envoy_dynamic_module_type_envoy_buffer> chunks;
  for (const std::string& slice : data.slices()) {
    chunks.push_back({slice.data(), slice.size()});
  }
  hooks_.http_stream_data(this, module_filter_, stream_id, chunks.empty() ? nullptr : chunks.data(),
                          chunks.size(), end_stream);
}

void HttpFilter::onHttpStreamTrailers(uint64_t stream_id,
                                      const std::vector<HeaderMap::Entry>& trailers) {
  if (callouts_closed_ || module_filter_ == nullptr) {
    return;
  }
  std::vector<envoy_dynamic_module_type_envoy_http_header> list = envoyHeaders(trailers);
  hooks_.http_stream_trailers(this, module_filter_, stream_id, list.data(), list.size());
}

void HttpFilter::onHttpStreamDone(uint64_t stream_id, bool reset) {
  if (!callouts_closed_ && module_filter_ != nullptr) {
    if (reset) {
      // Envoy's HttpStreamCalloutCallback::onReset has no detail: always LocalReset.
      hooks_.http_stream_reset(this, module_filter_, stream_id,
                               envoy_dynamic_module_type_http_stream_reset_reason_LocalReset);
    } else {
      hooks_.http_stream_complete(this, module_filter_, stream_id);
    }
  }
  // Known until the hook returned, as in Envoy. The hook may have closed the callouts.
  auto it = streams_.find(stream_id);
  if (it != streams_.end()) {
    // The stream's own code is still on the stack: delete it from a later loop iteration.
    manager_.dispatcher().deferredDelete(std::move(it->second));
    streams_.erase(it);
  }
}

void HttpFilter::closeCallouts() {
  callouts_closed_ = true;
  // Cancelling never reports, so nothing can touch the maps while they are cleared.
  std::map<uint64_t, std::unique_ptr<HttpCallout>> pending;
  pending.swap(callouts_);
  std::map<uint64_t, std::unique_ptr<HttpStreamCallout>> open;
  open.swap(streams_);
  if (!pending.empty() || !open.empty()) {
    HOST_LOG(Debug, "cancelling " + std::to_string(pending.size()) + " pending callout(s), " +
                        "resetting " + std::to_string(open.size()) + " open stream(s)");
  }
  pending.clear();
  for (auto& [id, stream] : open) {
    // Closed now; deleted later, since this may run from inside one of its own events.
    stream->stream().abandon();
    manager_.dispatcher().deferredDelete(std::move(stream));
  }
}

} // namespace EnvoyTsHost
