// One HTTP stream through the TypeScript chain: the module's per-stream object (filter_module).
#pragma once

#include <vector>

#include "native/abi/http_filter.h"
#include "native/bridge/stream_host.h"
#include "native/bridge/stream_stats.h"
#include "native/module/http_filter_config.h"
#include "native/module/js_stream.h"

namespace envoy_ts::module {

class HttpStream : public JsStream, public bridge::StreamHost {
 public:
  HttpStream(const HttpFilterConfig& config, envoy_dynamic_module_type_http_filter_envoy_ptr envoy,
             runtime::Environment& env);

  // Envoy hooks (worker thread).
  envoy_dynamic_module_type_on_http_filter_request_headers_status onRequestHeaders(bool end_of_stream);
  envoy_dynamic_module_type_on_http_filter_response_headers_status onResponseHeaders(bool end_of_stream);
  envoy_dynamic_module_type_on_http_filter_request_body_status onRequestBody(bool end_of_stream);
  envoy_dynamic_module_type_on_http_filter_response_body_status onResponseBody(bool end_of_stream);
  envoy_dynamic_module_type_on_http_filter_request_trailers_status onRequestTrailers();
  envoy_dynamic_module_type_on_http_filter_response_trailers_status onResponseTrailers();
  void onScheduled(uint64_t event_id) { onScheduledEvent(event_id); }
  void onCalloutDone(uint64_t callout_id, envoy_dynamic_module_type_http_callout_result result,
                     const envoy_dynamic_module_type_envoy_http_header* headers, size_t headers_size,
                     const envoy_dynamic_module_type_envoy_buffer* body, size_t body_size);
  void onFetchStreamEvent(uint64_t stream_id, bridge::FetchStreamEvent event,
                          const envoy_dynamic_module_type_envoy_http_header* headers,
                          size_t headers_size, const envoy_dynamic_module_type_envoy_buffer* data,
                          size_t data_size, bool end_stream, uint32_t reset_reason);
  void onStreamComplete();
  // Ends with `delete this`.
  void onDestroy();

  // bridge::StreamHost
  void addStat(uint32_t index, bridge::MetricOp op, int64_t value) override {
    stats_.add(index, op, value);
  }
  void wantEnd() override { end_wanted_ = true; }
  bool getHeader(bridge::HeaderMapKind map, std::string_view name, size_t index,
                 std::string_view& value, size_t& count) override;
  void getHeaders(bridge::HeaderMapKind map, bridge::HeaderList& out) override;
  size_t headerCount(bridge::HeaderMapKind map) override;
  bool setHeader(bridge::HeaderMapKind map, std::string_view name, std::string_view value) override;
  bool addHeader(bridge::HeaderMapKind map, std::string_view name, std::string_view value) override;
  bool removeHeader(bridge::HeaderMapKind map, std::string_view name) override;
  void sendLocalReply(uint32_t status, const bridge::HeaderList& headers, std::string_view body,
                      std::string_view details) override;
  std::optional<bridge::ScalarValue> getAttribute(uint32_t attribute_id,
                                                  bridge::AttributeType type) override;
  std::optional<bridge::ScalarValue> getMetadata(uint32_t source, std::string_view ns,
                                                 std::string_view key) override;
  void clearRouteCache() override;
  bool setUpstreamOverrideHost(std::string_view host, bool strict) override;
  uint32_t startCallout(std::string_view cluster, const bridge::HeaderList& headers,
                        std::string_view body, uint64_t timeout_ms, uint64_t& id) override;
  uint32_t startFetchStream(std::string_view cluster, const bridge::HeaderList& headers,
                            std::string_view body, bool end_stream, uint64_t timeout_ms,
                            uint64_t& id) override;
  bool fetchStreamSendData(uint64_t id, std::string_view data, bool end_stream) override;
  bool fetchStreamSendTrailers(uint64_t id, const bridge::HeaderList& trailers) override;
  void resetFetchStream(uint64_t id) override;
  void requestResume() override { requestResumeFromJs(); }
  bool recordMetric(uint32_t index, bridge::MetricOp op, int64_t value,
                    const std::vector<std::string>& labels) override;
  void setMetadata(std::string_view ns, std::string_view key, std::string_view value) override;
  void setMetadata(std::string_view ns, std::string_view key, double value) override;
  void setMetadata(std::string_view ns, std::string_view key, bool value) override;
  bool setFilterState(std::string_view key, std::string_view value, bool typed) override;
  bool getFilterState(std::string_view key, bool typed, std::string_view& value) override;
  bool bufferSlices(bridge::BufferKind direction, std::vector<std::string_view>& out) override;
  bool bufferLength(bridge::BufferKind direction, size_t& length) override;
  bool drainBuffer(bridge::BufferKind direction, size_t length) override;
  bool prependBuffer(bridge::BufferKind direction, std::string_view data) override;
  bool appendBuffer(bridge::BufferKind direction, std::string_view data) override;
  bridge::WholeBodyState bufferWholeBody(bridge::BufferKind direction) override;

 private:
  // Which direction is stopped while JS works.
  static constexpr Phase kRequest = 1;
  static constexpr Phase kResponse = 2;

  // What this filter knows about one direction's body (index: bridge::BufferKind).
  struct BodyState {
    bool in_body_hook = false;  // the received chunk exists
    // Envoy's iteration stopped at this filter: the buffered body is what this filter holds.
    bool stopped = false;
    // JS reads the whole body: Pending buffers (limit → 413/500) instead of using watermarks.
    bool whole = false;
    // Body bytes went on without JS seeing them (the chain has no body hooks for it).
    bool flowed_unseen = false;
  };

  ~HttpStream() override;
  // Whether a filter of the chain has `hook`.
  bool listens(bridge::HookKind hook) const {
    return (config_.hooks & bridge::hookBit(hook)) != 0;
  }
  // Whether `hook` must call into JS: a filter has it, or the stream waits on JS, or JS holds the
  // direction's body (it must see what comes after). Otherwise the hook goes on natively, unless
  // the environment broke: the stream then gets the failure policy at its next hook.
  bool crosses(bridge::HookKind hook, bridge::BufferKind direction) const {
    const BodyState& body = body_[static_cast<size_t>(direction)];
    return listens(hook) || waiting() || body.stopped || body.whole ||
           env_.broken() != runtime::Environment::Broken::No;
  }
  // Runs `hook` in JS if it crosses (Continue otherwise). `flags`: bridge::HookFlags.
  bridge::HookOutcome runHook(bridge::HookKind hook, uint32_t flags);
  // Records the stats JS handed over for this stream (once, when it completes: when it completes
  // inside one of its own calls into JS, e.g. a local reply, once that call returned).
  void recordStats();
  void leftHooks() override {
    if (completed_) {
      recordStats();
    }
  }
  // Body hooks: Continue, or hold the chunk (StopIterationAndBuffer/Watermark, or NoBuffer after
  // a local reply). Returns Envoy's body status value.
  int bodyStatus(bridge::BufferKind direction, bool end_of_stream);
  // The received chunk of a body hook is the buffer an earlier filter released (not ours too).
  bool receivedIsBuffered(bridge::BufferKind direction);
  // Appends the slices of `body` to `out`.
  void appendSlices(envoy_dynamic_module_type_http_body_type body,
                    std::vector<std::string_view>& out);
  uint64_t routeConfigId();
  // Trailers hooks: Continue, or StopIteration while JS works or after a local reply.
  bool trailersContinue(bridge::HookKind hook);
  void failClosed();

  // JsStream
  void ensureScheduler() override;
  void commitEvent(uint64_t event_id) override;
  void applyResume(Phase phase, bridge::HookOutcome outcome) override;

  const HttpFilterConfig& config_;
  envoy_dynamic_module_type_http_filter_envoy_ptr envoy_;
  envoy_dynamic_module_type_http_filter_scheduler_module_ptr scheduler_ = nullptr;
  std::vector<envoy_dynamic_module_type_envoy_http_header> header_scratch_;
  std::vector<envoy_dynamic_module_type_envoy_buffer> slice_scratch_;
  BodyState body_[2];
  bool crossed_ = false;           // JS was called for this stream (it has its route config)
  bool response_started_ = false;  // the response headers reached this filter
  bool end_wanted_ = false;        // JS asked to hear of the stream's end (wantEnd)
  bool completed_ = false;         // Envoy completed the stream
  bridge::StreamStats stats_;
};

}  // namespace envoy_ts::module
