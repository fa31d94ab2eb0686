// Network filter callbacks Envoy exports to dynamic modules (Envoy's network abi_impl.cc).
// Every filter_envoy pointer is a NetworkFilter on the calling worker's connection.
#include <string>

#include "native/abi/network_filter.h"
#include "network_filter.h"
#include "tcp_connection.h"

using EnvoyTsHost::Buffer;
using EnvoyTsHost::NetworkFilter;
using EnvoyTsHost::NetworkFilterConfig;

namespace {

NetworkFilter& filterOf(envoy_dynamic_module_type_network_filter_envoy_ptr ptr) {
  return *NetworkFilter::fromEnvoyPtr(ptr);
}

std::string text(envoy_dynamic_module_type_module_buffer buffer) {
  return buffer.ptr == nullptr ? std::string() : std::string(buffer.ptr, buffer.length);
}

size_t bufferSize(const Buffer* buffer) { return buffer == nullptr ? 0 : buffer->length(); }

size_t chunkCount(const Buffer* buffer) { return buffer == nullptr ? 0 : buffer->slices().size(); }

bool chunks(const Buffer* buffer, envoy_dynamic_module_type_envoy_buffer* result) {
  if (buffer == nullptr) {
    return false;
  }
  size_t i = 0;
  for (const std::string& slice : buffer->slices()) {
    result[i++] = {slice.data(), slice.size()};
  }
  return true;
}

bool drain(Buffer* buffer, size_t length) {
  if (buffer == nullptr) {
    return false;
  }
  buffer->drain(length);
  return true;
}

bool prepend(Buffer* buffer, envoy_dynamic_module_type_module_buffer data) {
  if (buffer == nullptr) {
    return false;
  }
  if (data.ptr != nullptr) {
    buffer->prepend(data.ptr, data.length);
  }
  return true;
}

bool append(Buffer* buffer, envoy_dynamic_module_type_module_buffer data) {
  if (buffer == nullptr) {
    return false;
  }
  if (data.ptr != nullptr) {
    buffer->append(data.ptr, data.length);
  }
  return true;
}

Buffer copy(envoy_dynamic_module_type_module_buffer data) {
  Buffer buffer;
  if (data.ptr != nullptr) {
    buffer.append(data.ptr, data.length);
  }
  return buffer;
}

bool address(const std::string& text, uint32_t port, envoy_dynamic_module_type_envoy_buffer* out,
             uint32_t* port_out) {
  if (text.empty()) {
    *out = {nullptr, 0};
    *port_out = 0;
    return false;
  }
  *out = {text.data(), text.size()};
  *port_out = port;
  return true;
}

using EnvoyTsHost::ModuleMetrics;

ModuleMetrics&
configMetrics(envoy_dynamic_module_type_network_filter_config_envoy_ptr config_envoy) {
  return static_cast<NetworkFilterConfig*>(config_envoy)->metrics();
}

const ModuleMetrics&
filterMetrics(envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy) {
  return filterOf(filter_envoy).config().metrics();
}

} // namespace

#define HOST_EXPORT __attribute__((visibility("default")))

extern "C" {

// ---- Buffers ----

HOST_EXPORT size_t envoy_dynamic_module_callback_network_filter_get_read_buffer_size(
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy) {
  return bufferSize(filterOf(filter_envoy).readBuffer());
}

HOST_EXPORT size_t envoy_dynamic_module_callback_network_filter_get_read_buffer_chunks_size(
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy) {
  return chunkCount(filterOf(filter_envoy).readBuffer());
}

HOST_EXPORT bool envoy_dynamic_module_callback_network_filter_get_read_buffer_chunks(
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_envoy_buffer* result) {
  return chunks(filterOf(filter_envoy).readBuffer(), result);
}

HOST_EXPORT size_t envoy_dynamic_module_callback_network_filter_get_write_buffer_size(
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy) {
  return bufferSize(filterOf(filter_envoy).writeBuffer());
}

HOST_EXPORT size_t envoy_dynamic_module_callback_network_filter_get_write_buffer_chunks_size(
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy) {
  return chunkCount(filterOf(filter_envoy).writeBuffer());
}

HOST_EXPORT bool envoy_dynamic_module_callback_network_filter_get_write_buffer_chunks(
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_envoy_buffer* result) {
  return chunks(filterOf(filter_envoy).writeBuffer(), result);
}

HOST_EXPORT bool envoy_dynamic_module_callback_network_filter_drain_read_buffer(
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy, size_t length) {
  return drain(filterOf(filter_envoy).readBuffer(), length);
}

HOST_EXPORT bool envoy_dynamic_module_callback_network_filter_drain_write_buffer(
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy, size_t length) {
  return drain(filterOf(filter_envoy).writeBuffer(), length);
}

HOST_EXPORT bool envoy_dynamic_module_callback_network_filter_prepend_read_buffer(
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_module_buffer data) {
  return prepend(filterOf(filter_envoy).readBuffer(), data);
}

HOST_EXPORT bool envoy_dynamic_module_callback_network_filter_append_read_buffer(
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_module_buffer data) {
  return append(filterOf(filter_envoy).readBuffer(), data);
}

HOST_EXPORT bool envoy_dynamic_module_callback_network_filter_prepend_write_buffer(
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_module_buffer data) {
  return prepend(filterOf(filter_envoy).writeBuffer(), data);
}

HOST_EXPORT bool envoy_dynamic_module_callback_network_filter_append_write_buffer(
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_module_buffer data) {
  return append(filterOf(filter_envoy).writeBuffer(), data);
}

// ---- Writes, injection, flow, close ----

HOST_EXPORT void envoy_dynamic_module_callback_network_filter_write(
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_module_buffer data, bool end_stream) {
  Buffer buffer = copy(data);
  filterOf(filter_envoy).connection().write(buffer, end_stream);
}

HOST_EXPORT void envoy_dynamic_module_callback_network_filter_inject_read_data(
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_module_buffer data, bool end_stream) {
  NetworkFilter& filter = filterOf(filter_envoy);
  Buffer buffer = copy(data);
  filter.connection().injectReadData(filter, buffer, end_stream);
}

HOST_EXPORT void envoy_dynamic_module_callback_network_filter_inject_write_data(
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_module_buffer data, bool end_stream) {
  NetworkFilter& filter = filterOf(filter_envoy);
  Buffer buffer = copy(data);
  filter.connection().injectWriteData(filter, buffer, end_stream);
}

HOST_EXPORT void envoy_dynamic_module_callback_network_filter_continue_reading(
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy) {
  NetworkFilter& filter = filterOf(filter_envoy);
  filter.connection().continueReading(filter);
}

HOST_EXPORT void envoy_dynamic_module_callback_network_filter_close(
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_network_connection_close_type close_type) {
  filterOf(filter_envoy).connection().close(close_type);
}

HOST_EXPORT envoy_dynamic_module_type_network_read_disable_status
envoy_dynamic_module_callback_network_filter_read_disable(
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy, bool disable) {
  return filterOf(filter_envoy).connection().readDisable(disable);
}

// ---- Connection facts ----

HOST_EXPORT uint64_t envoy_dynamic_module_callback_network_filter_get_connection_id(
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy) {
  return filterOf(filter_envoy).connection().id();
}

HOST_EXPORT bool envoy_dynamic_module_callback_network_filter_get_remote_address(
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_envoy_buffer* address_out, uint32_t* port_out) {
  const EnvoyTsHost::TcpConnection& connection = filterOf(filter_envoy).connection();
  return address(connection.remoteAddress(), connection.remotePort(), address_out, port_out);
}

HOST_EXPORT bool envoy_dynamic_module_callback_network_filter_get_local_address(
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_envoy_buffer* address_out, uint32_t* port_out) {
  const EnvoyTsHost::TcpConnection& connection = filterOf(filter_envoy).connection();
  return address(connection.localAddress(), connection.localPort(), address_out, port_out);
}

HOST_EXPORT bool envoy_dynamic_module_callback_network_filter_is_ssl(
    envoy_dynamic_module_type_network_filter_envoy_ptr) {
  return false; // No TLS in the host.
}

HOST_EXPORT bool envoy_dynamic_module_callback_network_filter_get_requested_server_name(
    envoy_dynamic_module_type_network_filter_envoy_ptr,
    envoy_dynamic_module_type_envoy_buffer* result) {
  *result = {nullptr, 0};
  return false; // No TLS, so no SNI.
}

// ---- Stream info ----

HOST_EXPORT void envoy_dynamic_module_callback_network_set_dynamic_metadata_string(
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_module_buffer filter_namespace,
    envoy_dynamic_module_type_module_buffer key, envoy_dynamic_module_type_module_buffer value) {
  filterOf(filter_envoy).connection().setDynamicMetadata(text(filter_namespace), text(key),
                                                         "s:" + text(value));
}

HOST_EXPORT void envoy_dynamic_module_callback_network_set_dynamic_metadata_number(
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_module_buffer filter_namespace,
    envoy_dynamic_module_type_module_buffer key, double value) {
  filterOf(filter_envoy).connection().setDynamicMetadata(text(filter_namespace), text(key),
                                                         "n:" + std::to_string(value));
}

HOST_EXPORT void envoy_dynamic_module_callback_network_set_dynamic_metadata_bool(
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_module_buffer filter_namespace,
    envoy_dynamic_module_type_module_buffer key, bool value) {
  filterOf(filter_envoy).connection().setDynamicMetadata(text(filter_namespace), text(key),
                                                         value ? "b:true" : "b:false");
}

HOST_EXPORT bool envoy_dynamic_module_callback_network_set_filter_state_bytes(
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_module_buffer key, envoy_dynamic_module_type_module_buffer value) {
  filterOf(filter_envoy).connection().filterStateBytes()[text(key)] = text(value);
  return true;
}

HOST_EXPORT bool envoy_dynamic_module_callback_network_get_filter_state_bytes(
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_module_buffer key, envoy_dynamic_module_type_envoy_buffer* value) {
  auto& state = filterOf(filter_envoy).connection().filterStateBytes();
  auto it = state.find(text(key));
  if (it == state.end()) {
    *value = {nullptr, 0};
    return false;
  }
  *value = {it->second.data(), it->second.size()};
  return true;
}

HOST_EXPORT bool envoy_dynamic_module_callback_network_set_filter_state_typed(
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_module_buffer key, envoy_dynamic_module_type_module_buffer value) {
  return filterOf(filter_envoy).connection().setFilterStateTyped(text(key), text(value));
}

HOST_EXPORT bool envoy_dynamic_module_callback_network_get_filter_state_typed(
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_module_buffer key, envoy_dynamic_module_type_envoy_buffer* value) {
  const std::string* stored = filterOf(filter_envoy).connection().filterStateTyped(text(key));
  if (stored == nullptr) {
    *value = {nullptr, 0};
    return false;
  }
  *value = {stored->data(), stored->size()};
  return true;
}

// ---- Metrics (no labels in the network ABI) ----

HOST_EXPORT envoy_dynamic_module_type_metrics_result
envoy_dynamic_module_callback_network_filter_config_define_counter(
    envoy_dynamic_module_type_network_filter_config_envoy_ptr config_envoy,
    envoy_dynamic_module_type_module_buffer name, size_t* counter_id) {
  return configMetrics(config_envoy).define(ModuleMetrics::Kind::Counter, text(name), {},
                                            counter_id);
}

HOST_EXPORT envoy_dynamic_module_type_metrics_result
envoy_dynamic_module_callback_network_filter_config_define_gauge(
    envoy_dynamic_module_type_network_filter_config_envoy_ptr config_envoy,
    envoy_dynamic_module_type_module_buffer name, size_t* gauge_id) {
  return configMetrics(config_envoy).define(ModuleMetrics::Kind::Gauge, text(name), {},
                                            gauge_id);
}

HOST_EXPORT envoy_dynamic_module_type_metrics_result
envoy_dynamic_module_callback_network_filter_config_define_histogram(
    envoy_dynamic_module_type_network_filter_config_envoy_ptr config_envoy,
    envoy_dynamic_module_type_module_buffer name, size_t* histogram_id) {
  return configMetrics(config_envoy).define(ModuleMetrics::Kind::Histogram, text(name), {},
                                            histogram_id);
}

HOST_EXPORT envoy_dynamic_module_type_metrics_result
envoy_dynamic_module_callback_network_filter_increment_counter(
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy, size_t id, uint64_t value) {
  return filterMetrics(filter_envoy).incrementCounter(id, nullptr, 0, value);
}

HOST_EXPORT envoy_dynamic_module_type_metrics_result
envoy_dynamic_module_callback_network_filter_set_gauge(
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy, size_t id, uint64_t value) {
  return filterMetrics(filter_envoy).updateGauge(id, nullptr, 0, ModuleMetrics::GaugeOp::Set,
                                                 value);
}

HOST_EXPORT envoy_dynamic_module_type_metrics_result
envoy_dynamic_module_callback_network_filter_increment_gauge(
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy, size_t id, uint64_t value) {
  return filterMetrics(filter_envoy).updateGauge(id, nullptr, 0, ModuleMetrics::GaugeOp::Increase,
                                                 value);
}

HOST_EXPORT envoy_dynamic_module_type_metrics_result
envoy_dynamic_module_callback_network_filter_decrement_gauge(
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy, size_t id, uint64_t value) {
  return filterMetrics(filter_envoy).updateGauge(id, nullptr, 0, ModuleMetrics::GaugeOp::Decrease,
                                                 value);
}

HOST_EXPORT envoy_dynamic_module_type_metrics_result
envoy_dynamic_module_callback_network_filter_record_histogram_value(
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy, size_t id, uint64_t value) {
  return filterMetrics(filter_envoy).recordHistogram(id, nullptr, 0, value);
}

} // extern "C"
