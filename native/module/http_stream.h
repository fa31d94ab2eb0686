// One HTTP stream through the TypeScript chain: the module's per-stream object (filter_module).
// A thin adapter to Envoy's ABI, the only code that calls Envoy for a stream: the hook shims
// (http_filter_hooks.cc) hand Envoy's calls to the stream's logic (HttpStreamCore), and every
// HttpEnvoy and bridge::StreamHost method is a forward to an ABI callback or to the core.
#pragma once

#include <vector>

#include "native/abi/http_filter.h"
#include "native/bridge/stream_host.h"
#include "native/module/environment_runtime.h"
#include "native/module/http_envoy.h"
#include "native/module/http_filter_config.h"
#include "native/module/http_stream_core.h"

namespace envoy_ts::module {

class HttpStream final : public HttpEnvoy, public bridge::StreamHost {
 public:
  HttpStream(const HttpFilterConfig& config, envoy_dynamic_module_type_http_filter_envoy_ptr envoy,
             runtime::Environment& env);

  HttpStreamCore& core() { return core_; }

  // Configs changed that this stream does not need (its own is loaded as it is live): its
  // environment loads them in a scheduler event of this stream, ahead of the streams that need
  // them, rather than inside one (Envoy gives a module no other way onto a worker thread).
  void loadConfigsAhead() { load_configs_ahead_ = true; }
  // Request headers (worker): commits that event, once. The scheduler needs Envoy's filter
  // callbacks, which on_http_filter_new comes too early for.
  void commitConfigLoad();
  // The event's id, beside JsStream's own ones.
  static constexpr uint64_t kLoadConfigsEvent = 3;
  // Loads the changed configs in a call of its own (worker): from on_http_filter_scheduled with
  // kLoadConfigsEvent, or at once when the stream's per-route config is one of them.
  void loadConfigs(bridge::Bridge::SyncOccasion occasion);
  // Envoy events JS must see (worker thread).
  void onCalloutDone(uint64_t callout_id, envoy_dynamic_module_type_http_callout_result result,
                     const envoy_dynamic_module_type_envoy_http_header* headers, size_t headers_size,
                     const envoy_dynamic_module_type_envoy_buffer* body, size_t body_size);
  void onFetchStreamEvent(uint64_t stream_id, bridge::FetchStreamEvent event,
                          const envoy_dynamic_module_type_envoy_http_header* headers,
                          size_t headers_size, const envoy_dynamic_module_type_envoy_buffer* data,
                          size_t data_size, bool end_stream, uint32_t reset_reason);
  // Ends with `delete this`.
  void onDestroy();

  // HttpEnvoy
  void continueDecoding() override;
  void continueEncoding() override;
  void sendLocalReply(uint32_t status, const bridge::HeaderList& headers, std::string_view body,
                      std::string_view details) override;
  uint64_t routeConfigId() override;
  void ensureScheduler() override;
  void commitEvent(uint64_t event_id) override;
  bool recordMetric(uint32_t index, bridge::MetricOp op, int64_t value,
                    const std::vector<std::string>& labels) override;
  bool receivedIsBuffered(bridge::BufferKind direction) override;
  size_t bodySize(bridge::BufferKind direction, Body body) override;
  void bodySlices(bridge::BufferKind direction, Body body,
                  std::vector<std::string_view>& out) override;
  void drainBody(bridge::BufferKind direction, Body body, size_t length) override;
  bool appendBody(bridge::BufferKind direction, Body body, std::string_view data) override;
  uint64_t bufferLimit() override;

  // bridge::StreamHost: the stream's own part is the core's.
  bool inHook() const override { return core_.inHook(); }
  void requestResume() override { core_.requestResumeFromJs(); }
  void addStat(uint32_t index, bridge::MetricOp op, int64_t value) override {
    core_.addStat(index, op, value);
  }
  void wantEnd() override { core_.wantEnd(); }
  bool bufferSlices(bridge::BufferKind direction, std::vector<std::string_view>& out) override {
    return core_.bufferSlices(direction, out);
  }
  bool bufferLength(bridge::BufferKind direction, size_t& length) override {
    return core_.bufferLength(direction, length);
  }
  bool drainBuffer(bridge::BufferKind direction, size_t length) override {
    return core_.drainBuffer(direction, length);
  }
  bool prependBuffer(bridge::BufferKind direction, std::string_view data) override {
    return core_.prependBuffer(direction, data);
  }
  bool appendBuffer(bridge::BufferKind direction, std::string_view data) override {
    return core_.appendBuffer(direction, data);
  }
  bridge::WholeBodyState bufferWholeBody(bridge::BufferKind direction) override {
    return core_.bufferWholeBody(direction);
  }
  // bridge::StreamHost: Envoy's part.
  bool getHeader(bridge::HeaderMapKind map, std::string_view name, size_t index,
                 std::string_view& value, size_t& count) override;
  void getHeaders(bridge::HeaderMapKind map, bridge::HeaderList& out) override;
  size_t headerCount(bridge::HeaderMapKind map) override;
  bool setHeader(bridge::HeaderMapKind map, std::string_view name, std::string_view value) override;
  bool addHeader(bridge::HeaderMapKind map, std::string_view name, std::string_view value) override;
  bool removeHeader(bridge::HeaderMapKind map, std::string_view name) override;
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
  void setMetadata(std::string_view ns, std::string_view key, std::string_view value) override;
  void setMetadata(std::string_view ns, std::string_view key, double value) override;
  void setMetadata(std::string_view ns, std::string_view key, bool value) override;
  bool setFilterState(std::string_view key, std::string_view value, bool typed) override;
  bool getFilterState(std::string_view key, bool typed, std::string_view& value) override;

 private:
  ~HttpStream() override;

  const HttpFilterConfig& config_;
  envoy_dynamic_module_type_http_filter_envoy_ptr envoy_;
  envoy_dynamic_module_type_http_filter_scheduler_module_ptr scheduler_ = nullptr;
  bool load_configs_ahead_ = false;
  std::vector<envoy_dynamic_module_type_envoy_http_header> header_scratch_;
  std::vector<envoy_dynamic_module_type_envoy_buffer> slice_scratch_;
  EnvironmentRuntime runtime_;
  const bridge::StreamRef ref_;
  HttpStreamCore core_;  // last: it calls back into the members above
};

}  // namespace envoy_ts::module
