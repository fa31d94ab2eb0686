// One downstream connection through a TypeScript network chain: the module's per-connection
// object (filter_module of a DynamicModuleNetworkFilter).
#pragma once

#include <vector>

#include "native/abi/network_filter.h"
#include "native/bridge/stream_host.h"
#include "native/module/environment_runtime.h"
#include "native/module/js_stream.h"
#include "native/module/network_filter_config.h"

namespace envoy_ts::module {

// Constructed before the JsStream base, which keeps a reference to it.
struct ConnectionRuntime {
  explicit ConnectionRuntime(runtime::Environment& env) : environment_runtime_(env) {}
  EnvironmentRuntime environment_runtime_;
};

class NetworkConnection : private ConnectionRuntime, public JsStream, public bridge::ConnectionHost {
 public:
  NetworkConnection(const NetworkFilterConfig& config,
                    envoy_dynamic_module_type_network_filter_envoy_ptr envoy,
                    runtime::Environment& env);

  // Envoy hooks (worker thread).
  envoy_dynamic_module_type_on_network_filter_data_status onNewConnection();
  envoy_dynamic_module_type_on_network_filter_data_status onRead(bool end_stream);
  envoy_dynamic_module_type_on_network_filter_data_status onWrite(bool end_stream);
  void onEvent(envoy_dynamic_module_type_network_connection_event event);
  void onScheduled(uint64_t event_id) { onScheduledEvent(event_id); }
  // Ends with `delete this`.
  void onDestroy();

  // bridge::ConnectionHost
  bool inHook() const override { return JsStream::inHook(); }
  bool bufferSlices(bridge::BufferKind buffer, std::vector<std::string_view>& out) override;
  bool bufferLength(bridge::BufferKind buffer, size_t& length) override;
  bool drainBuffer(bridge::BufferKind buffer, size_t length) override;
  bool prependBuffer(bridge::BufferKind buffer, std::string_view data) override;
  bool appendBuffer(bridge::BufferKind buffer, std::string_view data) override;
  void write(std::string_view data, bool end_stream) override;
  void injectRead(std::string_view data, bool end_stream) override;
  void continueReading() override;
  void close(bridge::CloseType type) override;
  void readDisable(bool disabled) override;
  bridge::ConnectionFacts facts() override;
  void setMetadata(std::string_view ns, std::string_view key, std::string_view value) override;
  void setMetadata(std::string_view ns, std::string_view key, double value) override;
  void setMetadata(std::string_view ns, std::string_view key, bool value) override;
  bool setFilterState(std::string_view key, std::string_view value, bool typed) override;
  bool getFilterState(std::string_view key, bool typed, std::string_view& value) override;
  void requestResume() override { requestResumeFromJs(); }
  bool recordMetric(uint32_t index, bridge::MetricOp op, int64_t value,
                    const std::vector<std::string>& labels) override;

 private:
  // The read path is what waits on JS (the write path cannot: Envoy never resumes it).
  static constexpr Phase kReading = 1;
  static constexpr Phase kWriting = 2;

  bridge::Bridge& bridge() { return environment_runtime_.bridge(); }

  ~NetworkConnection() override;
  bridge::HookOutcome runHook(bridge::NetworkHookKind hook, bool end_stream);
  envoy_dynamic_module_type_on_network_filter_data_status statusOf(bridge::HookOutcome outcome);

  // JsStream
  void ensureScheduler() override;
  void commitEvent(uint64_t event_id) override;
  void applyResume(Phase phase, bridge::HookOutcome outcome) override;

  const NetworkFilterConfig& config_;
  envoy_dynamic_module_type_network_filter_envoy_ptr envoy_;
  envoy_dynamic_module_type_network_filter_scheduler_module_ptr scheduler_ = nullptr;
  bool in_write_ = false;
  // Client bytes (or its end) that arrived while JS was waiting: JS sees them before they move on.
  bool read_while_waiting_ = false;
  bool read_ended_ = false;
  std::vector<envoy_dynamic_module_type_envoy_buffer> slice_scratch_;
};

}  // namespace envoy_ts::module
