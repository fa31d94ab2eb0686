// The per-connection network filter hooks Envoy calls (worker thread). Each unwraps the
// connection and makes one call.
#include <string>

#include "native/abi/network_filter.h"
#include "native/module/network_connection.h"
#include "native/module/network_filter_config.h"
#include "native/runtime/environment_pool.h"
#include "native/runtime/log.h"

using envoy_ts::module::NetworkConnection;
using envoy_ts::module::NetworkFilterConfig;

namespace {

NetworkConnection* connectionOf(envoy_dynamic_module_type_network_filter_module_ptr filter_module) {
  return static_cast<NetworkConnection*>(const_cast<void*>(filter_module));
}

}  // namespace

extern "C" {

envoy_dynamic_module_type_network_filter_module_ptr envoy_dynamic_module_on_network_filter_new(
    envoy_dynamic_module_type_network_filter_config_module_ptr config_module,
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy) {
  using namespace envoy_ts;
  std::string error;
  runtime::Environment* env = runtime::EnvironmentPool::forWorkerThread(error);
  if (env == nullptr) {
    runtime::log(runtime::LogLevel::Error, "no Node.js environment for this worker: " + error);
    return nullptr;  // Envoy closes the connection
  }
  bridge::Bridge& bridge = bridge::Bridge::of(*env);
  if (bridge.configsBehind()) {
    // Only what changed is loaded, in a call like any other (the CPU budget, a broken heap).
    runtime::Environment::CallScope scope(*env);
    bridge.syncConfigs();
  }
  return new NetworkConnection(*static_cast<const NetworkFilterConfig*>(config_module),
                               filter_envoy, *env);
}

envoy_dynamic_module_type_on_network_filter_data_status
envoy_dynamic_module_on_network_filter_new_connection(
    envoy_dynamic_module_type_network_filter_envoy_ptr,
    envoy_dynamic_module_type_network_filter_module_ptr filter_module) {
  return connectionOf(filter_module)->onNewConnection();
}

envoy_dynamic_module_type_on_network_filter_data_status envoy_dynamic_module_on_network_filter_read(
    envoy_dynamic_module_type_network_filter_envoy_ptr,
    envoy_dynamic_module_type_network_filter_module_ptr filter_module, size_t, bool end_stream) {
  return connectionOf(filter_module)->onRead(end_stream);
}

envoy_dynamic_module_type_on_network_filter_data_status envoy_dynamic_module_on_network_filter_write(
    envoy_dynamic_module_type_network_filter_envoy_ptr,
    envoy_dynamic_module_type_network_filter_module_ptr filter_module, size_t, bool end_stream) {
  return connectionOf(filter_module)->onWrite(end_stream);
}

void envoy_dynamic_module_on_network_filter_event(
    envoy_dynamic_module_type_network_filter_envoy_ptr,
    envoy_dynamic_module_type_network_filter_module_ptr filter_module,
    envoy_dynamic_module_type_network_connection_event event) {
  connectionOf(filter_module)->onEvent(event);
}

void envoy_dynamic_module_on_network_filter_destroy(
    envoy_dynamic_module_type_network_filter_module_ptr filter_module) {
  connectionOf(filter_module)->onDestroy();
}

void envoy_dynamic_module_on_network_filter_scheduled(
    envoy_dynamic_module_type_network_filter_envoy_ptr,
    envoy_dynamic_module_type_network_filter_module_ptr filter_module, uint64_t event_id) {
  connectionOf(filter_module)->onScheduled(event_id);
}

// Callouts are never started from network filters yet; Envoy may require the hook to exist.
void envoy_dynamic_module_on_network_filter_http_callout_done(
    envoy_dynamic_module_type_network_filter_envoy_ptr,
    envoy_dynamic_module_type_network_filter_module_ptr, uint64_t,
    envoy_dynamic_module_type_http_callout_result, envoy_dynamic_module_type_envoy_http_header*,
    size_t, envoy_dynamic_module_type_envoy_buffer*, size_t) {}

// Flow control is Envoy's: the chain writes through the connection, which applies it.
void envoy_dynamic_module_on_network_filter_above_write_buffer_high_watermark(
    envoy_dynamic_module_type_network_filter_envoy_ptr,
    envoy_dynamic_module_type_network_filter_module_ptr) {}

void envoy_dynamic_module_on_network_filter_below_write_buffer_low_watermark(
    envoy_dynamic_module_type_network_filter_envoy_ptr,
    envoy_dynamic_module_type_network_filter_module_ptr) {}

}  // extern "C"
