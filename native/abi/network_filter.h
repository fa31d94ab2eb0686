// The network (L4) filter part of Envoy's dynamic-module C ABI (extension
// envoy.filters.network.dynamic_modules), declared in our own words from the facts of Envoy's
// public header. Only what envoy-ts uses.
//
// Lifetimes: a filter_envoy pointer is valid from on_network_filter_new until
// on_network_filter_destroy returns; callbacks taking it run on the connection's worker thread,
// except scheduler_commit. Buffer views are valid until the hook returns or the buffer changes.
#pragma once

#include "native/abi/metrics.h"
#include "native/abi/types.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef void* envoy_dynamic_module_type_network_filter_config_envoy_ptr;
typedef const void* envoy_dynamic_module_type_network_filter_config_module_ptr;
typedef void* envoy_dynamic_module_type_network_filter_envoy_ptr;
typedef const void* envoy_dynamic_module_type_network_filter_module_ptr;
typedef void* envoy_dynamic_module_type_network_filter_scheduler_module_ptr;

// Envoy's Network::FilterStatus.
typedef enum envoy_dynamic_module_type_on_network_filter_data_status {
  envoy_dynamic_module_type_on_network_filter_data_status_Continue = 0,
  envoy_dynamic_module_type_on_network_filter_data_status_StopIteration = 1,
} envoy_dynamic_module_type_on_network_filter_data_status;

// How close() ends the connection (Network::ConnectionCloseType).
typedef enum envoy_dynamic_module_type_network_connection_close_type {
  envoy_dynamic_module_type_network_connection_close_type_FlushWrite = 0,
  envoy_dynamic_module_type_network_connection_close_type_NoFlush = 1,
  envoy_dynamic_module_type_network_connection_close_type_FlushWriteAndDelay = 2,
  envoy_dynamic_module_type_network_connection_close_type_Abort = 3,
  envoy_dynamic_module_type_network_connection_close_type_AbortReset = 4,
} envoy_dynamic_module_type_network_connection_close_type;

// Connection events (Network::ConnectionEvent).
typedef enum envoy_dynamic_module_type_network_connection_event {
  envoy_dynamic_module_type_network_connection_event_RemoteClose = 0,
  envoy_dynamic_module_type_network_connection_event_LocalClose = 1,
  envoy_dynamic_module_type_network_connection_event_Connected = 2,
  envoy_dynamic_module_type_network_connection_event_ConnectedZeroRtt = 3,
} envoy_dynamic_module_type_network_connection_event;

// What read_disable did (the disable count is reference-counted).
typedef enum envoy_dynamic_module_type_network_read_disable_status {
  envoy_dynamic_module_type_network_read_disable_status_NoTransition = 0,
  envoy_dynamic_module_type_network_read_disable_status_StillReadDisabled = 1,
  envoy_dynamic_module_type_network_read_disable_status_TransitionedToReadEnabled = 2,
  envoy_dynamic_module_type_network_read_disable_status_TransitionedToReadDisabled = 3,
} envoy_dynamic_module_type_network_read_disable_status;

// ---- Hooks the module exports ----

// Main thread. `name` is DynamicModuleNetworkFilter.filter_name, `config` the bytes of
// filter_config (Envoy-owned: copy them). NULL rejects the config.
ENVOY_TS_HOOK envoy_dynamic_module_type_network_filter_config_module_ptr
envoy_dynamic_module_on_network_filter_config_new(
    envoy_dynamic_module_type_network_filter_config_envoy_ptr config_envoy,
    envoy_dynamic_module_type_envoy_buffer name, envoy_dynamic_module_type_envoy_buffer config);

ENVOY_TS_HOOK void envoy_dynamic_module_on_network_filter_config_destroy(
    envoy_dynamic_module_type_network_filter_config_module_ptr config_module);

// Worker thread, once per downstream connection. NULL closes the connection.
ENVOY_TS_HOOK envoy_dynamic_module_type_network_filter_module_ptr
envoy_dynamic_module_on_network_filter_new(
    envoy_dynamic_module_type_network_filter_config_module_ptr config_module,
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy);

// The connection is accepted and the filter chain is set up.
ENVOY_TS_HOOK envoy_dynamic_module_type_on_network_filter_data_status
envoy_dynamic_module_on_network_filter_new_connection(
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_network_filter_module_ptr filter_module);

// Downstream bytes arrived (read filters, in order). The data is the read buffer, reached through
// the read-buffer callbacks; `data_length` is its size. StopIteration keeps it there (it grows with
// later reads) until continue_reading.
ENVOY_TS_HOOK envoy_dynamic_module_type_on_network_filter_data_status
envoy_dynamic_module_on_network_filter_read(
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_network_filter_module_ptr filter_module, size_t data_length,
    bool end_stream);

// Bytes about to be written downstream (write filters, in reverse order), reached through the
// write-buffer callbacks.
ENVOY_TS_HOOK envoy_dynamic_module_type_on_network_filter_data_status
envoy_dynamic_module_on_network_filter_write(
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_network_filter_module_ptr filter_module, size_t data_length,
    bool end_stream);

ENVOY_TS_HOOK void envoy_dynamic_module_on_network_filter_event(
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_network_filter_module_ptr filter_module,
    envoy_dynamic_module_type_network_connection_event event);

// The connection is gone; free the module's object. No Envoy pointer is passed.
ENVOY_TS_HOOK void envoy_dynamic_module_on_network_filter_destroy(
    envoy_dynamic_module_type_network_filter_module_ptr filter_module);

// Worker thread: an event committed through this connection's scheduler. Dropped once the
// connection's filter is destroyed.
ENVOY_TS_HOOK void envoy_dynamic_module_on_network_filter_scheduled(
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_network_filter_module_ptr filter_module, uint64_t event_id);

// Main thread: an event committed through a config scheduler (only the module's config pointer).
ENVOY_TS_HOOK void envoy_dynamic_module_on_network_filter_config_scheduled(
    envoy_dynamic_module_type_network_filter_config_module_ptr config_module, uint64_t event_id);

// Result of a callout started by network_filter_http_callout.
ENVOY_TS_HOOK void envoy_dynamic_module_on_network_filter_http_callout_done(
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_network_filter_module_ptr filter_module, uint64_t callout_id,
    envoy_dynamic_module_type_http_callout_result result,
    envoy_dynamic_module_type_envoy_http_header* headers, size_t headers_size,
    envoy_dynamic_module_type_envoy_buffer* body_chunks, size_t body_chunks_size);

// Downstream write-buffer flow control, called in matching pairs.
ENVOY_TS_HOOK void envoy_dynamic_module_on_network_filter_above_write_buffer_high_watermark(
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_network_filter_module_ptr filter_module);
ENVOY_TS_HOOK void envoy_dynamic_module_on_network_filter_below_write_buffer_low_watermark(
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_network_filter_module_ptr filter_module);

// ---- Callbacks Envoy exports ----

// The read buffer (valid from the first on_network_filter_read) and the write buffer (from the
// first on_network_filter_write): total size, number of slices, and the slices themselves
// (`result` sized by *_chunks_size).
size_t envoy_dynamic_module_callback_network_filter_get_read_buffer_size(
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy);
size_t envoy_dynamic_module_callback_network_filter_get_read_buffer_chunks_size(
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy);
bool envoy_dynamic_module_callback_network_filter_get_read_buffer_chunks(
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_envoy_buffer* result);
size_t envoy_dynamic_module_callback_network_filter_get_write_buffer_size(
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy);
size_t envoy_dynamic_module_callback_network_filter_get_write_buffer_chunks_size(
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy);
bool envoy_dynamic_module_callback_network_filter_get_write_buffer_chunks(
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_envoy_buffer* result);

// Edits of those buffers: drain from the front (clamped to the size), prepend, append.
bool envoy_dynamic_module_callback_network_filter_drain_read_buffer(
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy, size_t length);
bool envoy_dynamic_module_callback_network_filter_drain_write_buffer(
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy, size_t length);
bool envoy_dynamic_module_callback_network_filter_prepend_read_buffer(
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_module_buffer data);
bool envoy_dynamic_module_callback_network_filter_append_read_buffer(
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_module_buffer data);
bool envoy_dynamic_module_callback_network_filter_prepend_write_buffer(
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_module_buffer data);
bool envoy_dynamic_module_callback_network_filter_append_write_buffer(
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_module_buffer data);

// Writes to the downstream connection (through the write filters).
void envoy_dynamic_module_callback_network_filter_write(
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_module_buffer data, bool end_stream);
// Hands bytes to the read filters after this one (toward the upstream).
void envoy_dynamic_module_callback_network_filter_inject_read_data(
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_module_buffer data, bool end_stream);
// Hands bytes to the write filters after this one (toward the downstream).
void envoy_dynamic_module_callback_network_filter_inject_write_data(
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_module_buffer data, bool end_stream);
// Resumes the read filters after this one, after a StopIteration.
void envoy_dynamic_module_callback_network_filter_continue_reading(
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy);
void envoy_dynamic_module_callback_network_filter_close(
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_network_connection_close_type close_type);
// Reference-counted: each disable needs a matching enable.
envoy_dynamic_module_type_network_read_disable_status
envoy_dynamic_module_callback_network_filter_read_disable(
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy, bool disable);

// Connection facts.
uint64_t envoy_dynamic_module_callback_network_filter_get_connection_id(
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy);
// Address as text ("127.0.0.1", "::1") and port; false for a non-IP address.
bool envoy_dynamic_module_callback_network_filter_get_remote_address(
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_envoy_buffer* address, uint32_t* port);
bool envoy_dynamic_module_callback_network_filter_get_local_address(
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_envoy_buffer* address, uint32_t* port);
bool envoy_dynamic_module_callback_network_filter_is_ssl(
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy);
// The SNI the client asked for; false when none.
bool envoy_dynamic_module_callback_network_filter_get_requested_server_name(
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_envoy_buffer* result);

// Stream-info state other filters (e.g. tcp_proxy) can read.
void envoy_dynamic_module_callback_network_set_dynamic_metadata_string(
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_module_buffer filter_namespace,
    envoy_dynamic_module_type_module_buffer key, envoy_dynamic_module_type_module_buffer value);
void envoy_dynamic_module_callback_network_set_dynamic_metadata_number(
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_module_buffer filter_namespace,
    envoy_dynamic_module_type_module_buffer key, double value);
void envoy_dynamic_module_callback_network_set_dynamic_metadata_bool(
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_module_buffer filter_namespace,
    envoy_dynamic_module_type_module_buffer key, bool value);
bool envoy_dynamic_module_callback_network_set_filter_state_bytes(
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_module_buffer key, envoy_dynamic_module_type_module_buffer value);
bool envoy_dynamic_module_callback_network_get_filter_state_bytes(
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_module_buffer key, envoy_dynamic_module_type_envoy_buffer* value);
// Typed filter state: Envoy builds the object with the factory registered for `key` (e.g.
// envoy.tcp_proxy.cluster, which makes tcp_proxy connect to the named cluster); false when no
// factory knows the key or the value does not parse.
bool envoy_dynamic_module_callback_network_set_filter_state_typed(
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_module_buffer key, envoy_dynamic_module_type_module_buffer value);
bool envoy_dynamic_module_callback_network_get_filter_state_typed(
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_module_buffer key, envoy_dynamic_module_type_envoy_buffer* value);

// Metrics. Defined on the config, only inside on_network_filter_config_new (Envoy freezes stat
// creation after it); the returned id is used per connection. No labels for network filters.
envoy_dynamic_module_type_metrics_result
envoy_dynamic_module_callback_network_filter_config_define_counter(
    envoy_dynamic_module_type_network_filter_config_envoy_ptr config_envoy,
    envoy_dynamic_module_type_module_buffer name, size_t* counter_id);
envoy_dynamic_module_type_metrics_result
envoy_dynamic_module_callback_network_filter_config_define_gauge(
    envoy_dynamic_module_type_network_filter_config_envoy_ptr config_envoy,
    envoy_dynamic_module_type_module_buffer name, size_t* gauge_id);
envoy_dynamic_module_type_metrics_result
envoy_dynamic_module_callback_network_filter_config_define_histogram(
    envoy_dynamic_module_type_network_filter_config_envoy_ptr config_envoy,
    envoy_dynamic_module_type_module_buffer name, size_t* histogram_id);
envoy_dynamic_module_type_metrics_result envoy_dynamic_module_callback_network_filter_increment_counter(
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy, size_t id, uint64_t value);
envoy_dynamic_module_type_metrics_result envoy_dynamic_module_callback_network_filter_set_gauge(
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy, size_t id, uint64_t value);
envoy_dynamic_module_type_metrics_result envoy_dynamic_module_callback_network_filter_increment_gauge(
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy, size_t id, uint64_t value);
envoy_dynamic_module_type_metrics_result envoy_dynamic_module_callback_network_filter_decrement_gauge(
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy, size_t id, uint64_t value);
envoy_dynamic_module_type_metrics_result
envoy_dynamic_module_callback_network_filter_record_histogram_value(
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy, size_t id, uint64_t value);

// A per-connection scheduler; commit may be called from any thread (see the HTTP scheduler).
envoy_dynamic_module_type_network_filter_scheduler_module_ptr
envoy_dynamic_module_callback_network_filter_scheduler_new(
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy);
void envoy_dynamic_module_callback_network_filter_scheduler_commit(
    envoy_dynamic_module_type_network_filter_scheduler_module_ptr scheduler, uint64_t event_id);
void envoy_dynamic_module_callback_network_filter_scheduler_delete(
    envoy_dynamic_module_type_network_filter_scheduler_module_ptr scheduler);

#ifdef __cplusplus
}  // extern "C"
#endif
