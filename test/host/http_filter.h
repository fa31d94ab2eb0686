#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "buffer.h"
#include "dispatcher.h"
#include "header_map.h"
#include "http_filter_config.h"
#include "native/abi/http_filter.h"
#include "scheduler.h"

namespace EnvoyTsHost {

class Cluster;
class FilterManager;
class HttpFilter;
class HttpCallout;
class HttpStreamCallout;

// How far one filter let one direction iterate (Envoy's ActiveStreamFilterBase state).
enum class Iteration { Continue, StopSingle, StopAllBuffer, StopAllWatermark };
struct FilterIterationState {
  bool headers_continued{false};
  Iteration iteration{Iteration::Continue};
  bool end_stream{false}; // This filter has seen the end of the stream in this direction.

  bool stoppedAll() const {
    return iteration == Iteration::StopAllBuffer || iteration == Iteration::StopAllWatermark;
  }
};

// One dynamic-module filter instance of one stream (Envoy's DynamicModuleHttpFilter). Its address
// is the filter_envoy pointer the module sees. Lives on the stream's worker thread.
class HttpFilter : public ScheduledTarget {
public:
  HttpFilter(FilterManager& manager, HttpFilterConfigSharedPtr config, size_t index);
  // Calls the module's destroy hook; afterwards scheduled events for this filter are dropped.
  ~HttpFilter();

  // Calls on_http_filter_new; false when the module returned NULL.
  bool create();

  int onHeaders(bool decode, bool end_stream);
  // `data` is the filter's Received body while the hook runs.
  int onBody(bool decode, Buffer& data, bool end_stream);
  int onTrailers(bool decode);
  void onStreamComplete();
  // From the stream's completion on, scheduler events are dropped: Envoy destroys each filter
  // right after stream_complete, before its dispatcher runs any event posted until then.
  void dropScheduledEvents() { liveness_->target = nullptr; }
  void onScheduled(uint64_t event_id) override;

  // ---- One-shot HTTP callouts (Envoy's DynamicModuleHttpFilter::sendHttpCallout) ----

  // `headers` are lowercase and hold :method, :path and host (checked by the caller). Writes the
  // id (a per-filter counter from 1, shared with streaming callouts) on Success; the result
  // arrives later on this worker.
  envoy_dynamic_module_type_http_callout_init_result
  startCallout(uint64_t* callout_id, const std::string& cluster_name,
               std::vector<HeaderMap::Entry> headers, const std::string& body,
               uint64_t timeout_ms);
  // From a finished callout (its last action): calls on_http_filter_http_callout_done unless the
  // callouts were closed, then disposes of the callout.
  void onCalloutDone(uint64_t callout_id, envoy_dynamic_module_type_http_callout_result result);

  // ---- Streaming HTTP callouts (Envoy's DynamicModuleHttpFilter::startHttpStream) ----

  // As startCallout; then the headers are sent, and `body` when not empty, `end_stream` ending
  // the request with the last of them.
  envoy_dynamic_module_type_http_callout_init_result
  startHttpStream(uint64_t* stream_id, const std::string& cluster_name,
                  const std::vector<HeaderMap::Entry>& headers, const std::string& body,
                  bool end_stream, uint64_t timeout_ms);
  // False for an unknown stream (never started, or completed/reset); true otherwise, even when
  // the request already ended and the bytes are dropped (Envoy's AsyncStream ignores them).
  bool sendHttpStreamData(uint64_t stream_id, const std::string& data, bool end_stream);
  bool sendHttpStreamTrailers(uint64_t stream_id, const std::vector<HeaderMap::Entry>& trailers);
  // Envoy's AsyncStream::reset(): on_http_filter_http_stream_reset (LocalReset) runs from inside
  // this call, then nothing more for the stream. Unknown ids are ignored.
  void resetHttpStream(uint64_t stream_id);
  // The events of a stream, from its AsyncStream: the hooks run unless the callouts were closed.
  void onHttpStreamHeaders(uint64_t stream_id, const std::vector<HeaderMap::Entry>& headers,
                           bool end_stream);
  void onHttpStreamData(uint64_t stream_id, const Buffer& data, bool end_stream);
  void onHttpStreamTrailers(uint64_t stream_id, const std::vector<HeaderMap::Entry>& trailers);
  // The last event (complete, or reset): the hook, then the stream is disposed of.
  void onHttpStreamDone(uint64_t stream_id, bool reset);

  // Envoy's onDestroy, which comes right after stream_complete: pending one-shot callouts are
  // cancelled and open streams reset, both without a report, and no callout event reaches the
  // module any more (later callouts and streams are sent, never reported).
  void closeCallouts();

  FilterManager& manager() { return manager_; }
  const HttpFilterConfig& config() const { return *config_; }
  size_t index() const { return index_; }
  const std::shared_ptr<FilterLiveness>& liveness() const { return liveness_; }
  FilterIterationState& state(bool decode) { return decode ? decode_state_ : encode_state_; }
  // Envoy's current_request_body_ / current_response_body_: the chunk the running body hook was
  // called with; nullptr outside it.
  Buffer* receivedBody(bool decode) const {
    return decode ? received_request_body_ : received_response_body_;
  }

  static HttpFilter* fromEnvoyPtr(envoy_dynamic_module_type_http_filter_envoy_ptr ptr) {
    return static_cast<HttpFilter*>(ptr);
  }

private:
  // The cluster a callout names, or nullptr.
  Cluster* calloutCluster(const std::string& cluster_name) const;

  FilterManager& manager_;
  const HttpFilterConfigSharedPtr config_;
  const HttpFilterHooks& hooks_;
  const size_t index_;
  envoy_dynamic_module_type_http_filter_module_ptr module_filter_{nullptr};
  std::shared_ptr<FilterLiveness> liveness_;
  FilterIterationState decode_state_;
  FilterIterationState encode_state_;
  Buffer* received_request_body_{nullptr};
  Buffer* received_response_body_{nullptr};
  std::map<uint64_t, std::unique_ptr<HttpCallout>> callouts_;
  std::map<uint64_t, std::unique_ptr<HttpStreamCallout>> streams_;
  uint64_t next_callout_id_{1};
  bool callouts_closed_{false};
};

using HttpFilterPtr = std::unique_ptr<HttpFilter>;

} // namespace EnvoyTsHost
