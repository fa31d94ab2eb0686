// The HTTP filter part of Envoy's dynamic-module C ABI (extension envoy.filters.http.dynamic_modules),
// declared in our own words from the facts of Envoy's public header. Only what envoy-ts uses.
//
// Lifetimes: a filter_envoy pointer is valid from on_http_filter_new until on_http_filter_destroy
// returns; callbacks taking it must run on the stream's worker thread, except scheduler_commit.
#pragma once

#include "native/abi/metrics.h"
#include "native/abi/types.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef void* envoy_dynamic_module_type_http_filter_config_envoy_ptr;
typedef const void* envoy_dynamic_module_type_http_filter_config_module_ptr;
typedef void* envoy_dynamic_module_type_http_filter_envoy_ptr;
typedef const void* envoy_dynamic_module_type_http_filter_module_ptr;
typedef void* envoy_dynamic_module_type_http_filter_scheduler_module_ptr;
typedef const void* envoy_dynamic_module_type_http_filter_per_route_config_module_ptr;

// Which header map a header callback addresses.
typedef enum envoy_dynamic_module_type_http_header_type {
  envoy_dynamic_module_type_http_header_type_RequestHeader = 0,
  envoy_dynamic_module_type_http_header_type_RequestTrailer = 1,
  envoy_dynamic_module_type_http_header_type_ResponseHeader = 2,
  envoy_dynamic_module_type_http_header_type_ResponseTrailer = 3,
} envoy_dynamic_module_type_http_header_type;

// Which body a body callback addresses. "Received" is the chunk the current body hook was called
// with (only inside request_body / response_body); "Buffered" is what the filter manager holds
// for the stream in that direction (after a StopIterationAndBuffer/Watermark or StopAll*).
typedef enum envoy_dynamic_module_type_http_body_type {
  envoy_dynamic_module_type_http_body_type_ReceivedRequestBody = 0,
  envoy_dynamic_module_type_http_body_type_BufferedRequestBody = 1,
  envoy_dynamic_module_type_http_body_type_ReceivedResponseBody = 2,
  envoy_dynamic_module_type_http_body_type_BufferedResponseBody = 3,
} envoy_dynamic_module_type_http_body_type;

// Envoy's FilterHeadersStatus, for request and response headers alike.
typedef enum envoy_dynamic_module_type_on_http_filter_request_headers_status {
  envoy_dynamic_module_type_on_http_filter_request_headers_status_Continue = 0,
  envoy_dynamic_module_type_on_http_filter_request_headers_status_StopIteration = 1,
  envoy_dynamic_module_type_on_http_filter_request_headers_status_ContinueAndDontEndStream = 2,
  envoy_dynamic_module_type_on_http_filter_request_headers_status_StopAllIterationAndBuffer = 3,
  envoy_dynamic_module_type_on_http_filter_request_headers_status_StopAllIterationAndWatermark = 4,
} envoy_dynamic_module_type_on_http_filter_request_headers_status;

typedef enum envoy_dynamic_module_type_on_http_filter_response_headers_status {
  envoy_dynamic_module_type_on_http_filter_response_headers_status_Continue = 0,
  envoy_dynamic_module_type_on_http_filter_response_headers_status_StopIteration = 1,
  envoy_dynamic_module_type_on_http_filter_response_headers_status_ContinueAndDontEndStream = 2,
  envoy_dynamic_module_type_on_http_filter_response_headers_status_StopAllIterationAndBuffer = 3,
  envoy_dynamic_module_type_on_http_filter_response_headers_status_StopAllIterationAndWatermark = 4,
} envoy_dynamic_module_type_on_http_filter_response_headers_status;

// Envoy's FilterDataStatus.
typedef enum envoy_dynamic_module_type_on_http_filter_request_body_status {
  envoy_dynamic_module_type_on_http_filter_request_body_status_Continue = 0,
  envoy_dynamic_module_type_on_http_filter_request_body_status_StopIterationAndBuffer = 1,
  envoy_dynamic_module_type_on_http_filter_request_body_status_StopIterationAndWatermark = 2,
  envoy_dynamic_module_type_on_http_filter_request_body_status_StopIterationNoBuffer = 3,
} envoy_dynamic_module_type_on_http_filter_request_body_status;

typedef enum envoy_dynamic_module_type_on_http_filter_response_body_status {
  envoy_dynamic_module_type_on_http_filter_response_body_status_Continue = 0,
  envoy_dynamic_module_type_on_http_filter_response_body_status_StopIterationAndBuffer = 1,
  envoy_dynamic_module_type_on_http_filter_response_body_status_StopIterationAndWatermark = 2,
  envoy_dynamic_module_type_on_http_filter_response_body_status_StopIterationNoBuffer = 3,
} envoy_dynamic_module_type_on_http_filter_response_body_status;

// Envoy's FilterTrailersStatus.
typedef enum envoy_dynamic_module_type_on_http_filter_request_trailers_status {
  envoy_dynamic_module_type_on_http_filter_request_trailers_status_Continue = 0,
  envoy_dynamic_module_type_on_http_filter_request_trailers_status_StopIteration = 1,
} envoy_dynamic_module_type_on_http_filter_request_trailers_status;

typedef enum envoy_dynamic_module_type_on_http_filter_response_trailers_status {
  envoy_dynamic_module_type_on_http_filter_response_trailers_status_Continue = 0,
  envoy_dynamic_module_type_on_http_filter_response_trailers_status_StopIteration = 1,
} envoy_dynamic_module_type_on_http_filter_response_trailers_status;

// Whether a callout could be started.
typedef enum envoy_dynamic_module_type_http_callout_init_result {
  envoy_dynamic_module_type_http_callout_init_result_Success = 0,
  envoy_dynamic_module_type_http_callout_init_result_MissingRequiredHeaders = 1,  // :method, :path, host
  envoy_dynamic_module_type_http_callout_init_result_ClusterNotFound = 2,
  envoy_dynamic_module_type_http_callout_init_result_DuplicateCalloutId = 3,
  envoy_dynamic_module_type_http_callout_init_result_CannotCreateRequest = 4,  // e.g. no healthy host
} envoy_dynamic_module_type_http_callout_init_result;

// Why a streaming callout was reset (AsyncClient::StreamResetReason).
typedef enum envoy_dynamic_module_type_http_stream_reset_reason {
  envoy_dynamic_module_type_http_stream_reset_reason_ConnectionFailure = 0,
  envoy_dynamic_module_type_http_stream_reset_reason_ConnectionTermination = 1,
  envoy_dynamic_module_type_http_stream_reset_reason_LocalReset = 2,
  envoy_dynamic_module_type_http_stream_reset_reason_LocalRefusedStreamReset = 3,
  envoy_dynamic_module_type_http_stream_reset_reason_Overflow = 4,
  envoy_dynamic_module_type_http_stream_reset_reason_RemoteReset = 5,
  envoy_dynamic_module_type_http_stream_reset_reason_RemoteRefusedStreamReset = 6,
  envoy_dynamic_module_type_http_stream_reset_reason_ProtocolError = 7,
} envoy_dynamic_module_type_http_stream_reset_reason;

// Where metadata is read from (stream dynamic metadata, or the route/cluster/host of the stream).
typedef enum envoy_dynamic_module_type_metadata_source {
  envoy_dynamic_module_type_metadata_source_Dynamic = 0,
  envoy_dynamic_module_type_metadata_source_Route = 1,
  envoy_dynamic_module_type_metadata_source_Cluster = 2,
  envoy_dynamic_module_type_metadata_source_Host = 3,
  envoy_dynamic_module_type_metadata_source_HostLocality = 4,
} envoy_dynamic_module_type_metadata_source;

// Stream attributes (Envoy's CEL attribute names); only those envoy-ts reads are listed.
typedef enum envoy_dynamic_module_type_attribute_id {
  envoy_dynamic_module_type_attribute_id_RequestId = 9,         // request.id
  envoy_dynamic_module_type_attribute_id_RequestProtocol = 10,  // request.protocol
  envoy_dynamic_module_type_attribute_id_SourceAddress = 24,    // source.address
  envoy_dynamic_module_type_attribute_id_SourcePort = 25,       // source.port
  envoy_dynamic_module_type_attribute_id_DestinationAddress = 26,  // destination.address
  envoy_dynamic_module_type_attribute_id_DestinationPort = 27,     // destination.port
  envoy_dynamic_module_type_attribute_id_ConnectionId = 28,        // connection.id
  envoy_dynamic_module_type_attribute_id_ConnectionMtls = 29,      // connection.mtls
  envoy_dynamic_module_type_attribute_id_ConnectionRequestedServerName = 30,
  envoy_dynamic_module_type_attribute_id_ConnectionTlsVersion = 31,
  envoy_dynamic_module_type_attribute_id_XdsRouteName = 61,     // xds.route_name
} envoy_dynamic_module_type_attribute_id;

// ---- Hooks the module exports. Envoy rejects a filter config if any of these is missing. ----

// Main thread. `name` is DynamicModuleFilter.filter_name, `config` the bytes of filter_config
// (Envoy-owned: copy them). NULL rejects the config.
ENVOY_TS_HOOK envoy_dynamic_module_type_http_filter_config_module_ptr
envoy_dynamic_module_on_http_filter_config_new(
    envoy_dynamic_module_type_http_filter_config_envoy_ptr config_envoy,
    envoy_dynamic_module_type_envoy_buffer name, envoy_dynamic_module_type_envoy_buffer config);

// Main thread. No stream of this config exists any more.
ENVOY_TS_HOOK void envoy_dynamic_module_on_http_filter_config_destroy(
    envoy_dynamic_module_type_http_filter_config_module_ptr config_module);

// Main thread: a DynamicModuleFilterPerRoute (typed_per_filter_config of a route or virtual
// host). `name` is its per_route_config_name, `config` the bytes of its filter_config. NULL
// rejects the route configuration. Envoy only looks these hooks up when a per-route config is
// used.
ENVOY_TS_HOOK envoy_dynamic_module_type_http_filter_per_route_config_module_ptr
envoy_dynamic_module_on_http_filter_per_route_config_new(
    envoy_dynamic_module_type_envoy_buffer name, envoy_dynamic_module_type_envoy_buffer config);

ENVOY_TS_HOOK void envoy_dynamic_module_on_http_filter_per_route_config_destroy(
    envoy_dynamic_module_type_http_filter_per_route_config_module_ptr per_route_config);

// Worker thread, once per HTTP stream. NULL closes the stream.
ENVOY_TS_HOOK envoy_dynamic_module_type_http_filter_module_ptr envoy_dynamic_module_on_http_filter_new(
    envoy_dynamic_module_type_http_filter_config_module_ptr config_module,
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy);

ENVOY_TS_HOOK envoy_dynamic_module_type_on_http_filter_request_headers_status
envoy_dynamic_module_on_http_filter_request_headers(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_http_filter_module_ptr filter_module, bool end_of_stream);

// Body hooks receive no data: the module reads it back through the body callbacks.
ENVOY_TS_HOOK envoy_dynamic_module_type_on_http_filter_request_body_status
envoy_dynamic_module_on_http_filter_request_body(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_http_filter_module_ptr filter_module, bool end_of_stream);

ENVOY_TS_HOOK envoy_dynamic_module_type_on_http_filter_request_trailers_status
envoy_dynamic_module_on_http_filter_request_trailers(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_http_filter_module_ptr filter_module);

ENVOY_TS_HOOK envoy_dynamic_module_type_on_http_filter_response_headers_status
envoy_dynamic_module_on_http_filter_response_headers(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_http_filter_module_ptr filter_module, bool end_of_stream);

ENVOY_TS_HOOK envoy_dynamic_module_type_on_http_filter_response_body_status
envoy_dynamic_module_on_http_filter_response_body(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_http_filter_module_ptr filter_module, bool end_of_stream);

ENVOY_TS_HOOK envoy_dynamic_module_type_on_http_filter_response_trailers_status
envoy_dynamic_module_on_http_filter_response_trailers(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_http_filter_module_ptr filter_module);

// The stream is complete (before access logs and before destroy). Since v1.40, end-of-stream work
// belongs here: stream callbacks are no-ops by the time destroy runs.
ENVOY_TS_HOOK void envoy_dynamic_module_on_http_filter_stream_complete(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_http_filter_module_ptr filter_module);

// The stream is gone; free the module's per-stream object. No Envoy pointer is passed.
ENVOY_TS_HOOK void envoy_dynamic_module_on_http_filter_destroy(
    envoy_dynamic_module_type_http_filter_module_ptr filter_module);

// Worker thread: delivers an event committed through this stream's scheduler. Envoy drops events
// committed for a stream that has since been destroyed.
ENVOY_TS_HOOK void envoy_dynamic_module_on_http_filter_scheduled(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_http_filter_module_ptr filter_module, uint64_t event_id);

// Result of a one-shot callout. Headers and body chunks are Envoy-owned, valid during the hook.
ENVOY_TS_HOOK void envoy_dynamic_module_on_http_filter_http_callout_done(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_http_filter_module_ptr filter_module, uint64_t callout_id,
    envoy_dynamic_module_type_http_callout_result result,
    envoy_dynamic_module_type_envoy_http_header* headers, size_t headers_size,
    envoy_dynamic_module_type_envoy_buffer* body_chunks, size_t body_chunks_size);

// Events of a streaming callout: headers, data*, trailers?, then complete or reset.
ENVOY_TS_HOOK void envoy_dynamic_module_on_http_filter_http_stream_headers(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_http_filter_module_ptr filter_module, uint64_t stream_id,
    envoy_dynamic_module_type_envoy_http_header* headers, size_t headers_size, bool end_stream);
ENVOY_TS_HOOK void envoy_dynamic_module_on_http_filter_http_stream_data(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_http_filter_module_ptr filter_module, uint64_t stream_id,
    const envoy_dynamic_module_type_envoy_buffer* data, size_t data_count, bool end_stream);
ENVOY_TS_HOOK void envoy_dynamic_module_on_http_filter_http_stream_trailers(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_http_filter_module_ptr filter_module, uint64_t stream_id,
    envoy_dynamic_module_type_envoy_http_header* trailers, size_t trailers_size);
ENVOY_TS_HOOK void envoy_dynamic_module_on_http_filter_http_stream_complete(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_http_filter_module_ptr filter_module, uint64_t stream_id);
ENVOY_TS_HOOK void envoy_dynamic_module_on_http_filter_http_stream_reset(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_http_filter_module_ptr filter_module, uint64_t stream_id,
    envoy_dynamic_module_type_http_stream_reset_reason reason);

// Downstream write-buffer flow control, for terminal filters; called in matching pairs.
ENVOY_TS_HOOK void envoy_dynamic_module_on_http_filter_downstream_above_write_buffer_high_watermark(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_http_filter_module_ptr filter_module);
ENVOY_TS_HOOK void envoy_dynamic_module_on_http_filter_downstream_below_write_buffer_low_watermark(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_http_filter_module_ptr filter_module);

// ---- Callbacks Envoy exports ----

// Value number `index` of header `key` (lowercase). `optional_count`, when not NULL, receives the
// number of values. A missing key or index yields a null buffer.
bool envoy_dynamic_module_callback_http_get_header(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_http_header_type header_type,
    envoy_dynamic_module_type_module_buffer key, envoy_dynamic_module_type_envoy_buffer* result,
    size_t index, size_t* optional_count);

// Number of entries in a header map (0 if the map is not available yet).
size_t envoy_dynamic_module_callback_http_get_headers_size(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_http_header_type header_type);

// All entries, in order, into `result` (sized by get_headers_size).
bool envoy_dynamic_module_callback_http_get_headers(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_http_header_type header_type,
    envoy_dynamic_module_type_envoy_http_header* result);

// Replaces every value of `key` with `value`; a NULL value.ptr removes the header.
bool envoy_dynamic_module_callback_http_set_header(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_http_header_type header_type,
    envoy_dynamic_module_type_module_buffer key, envoy_dynamic_module_type_module_buffer value);

// Appends one more value for `key`.
bool envoy_dynamic_module_callback_http_add_header(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_http_header_type header_type,
    envoy_dynamic_module_type_module_buffer key, envoy_dynamic_module_type_module_buffer value);

// ---- Bodies ----
// Views returned by get_body_chunks stay valid until the hook returns or a body setter runs.
// Only the latest filter that has seen the body may change the buffered body.

// Total bytes of a body (0 when it does not exist now).
size_t envoy_dynamic_module_callback_http_get_body_size(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_http_body_type body_type);

// Number of slices of a body (0 when it does not exist now), to size get_body_chunks' array.
size_t envoy_dynamic_module_callback_http_get_body_chunks_size(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_http_body_type body_type);

// Every slice of a body into `result` (Envoy's memory, not copied). False when it does not exist.
bool envoy_dynamic_module_callback_http_get_body_chunks(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_http_body_type body_type,
    envoy_dynamic_module_type_envoy_buffer* result);

// Appends `data` to a body. Appending to a buffered body that does not exist yet creates it.
// False when the received body does not exist (outside the body hooks).
bool envoy_dynamic_module_callback_http_append_body(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_http_body_type body_type,
    envoy_dynamic_module_type_module_buffer data);

// Removes up to `number_of_bytes` from the front of a body. False when it does not exist.
bool envoy_dynamic_module_callback_http_drain_body(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_http_body_type body_type, size_t number_of_bytes);

// Whether the chunk the current body hook received is the body an earlier filter buffered and
// has now released in one piece.
bool envoy_dynamic_module_callback_http_received_buffered_request_body(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy);
bool envoy_dynamic_module_callback_http_received_buffered_response_body(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy);

// The stream's buffer limit in bytes (the listener's per_connection_buffer_limit_bytes unless
// changed). A buffered body beyond it ends the stream with 413 (request) or 500 (response); a
// body held with watermarks pauses reading from its source instead.
uint64_t envoy_dynamic_module_callback_http_get_buffer_limit(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy);
void envoy_dynamic_module_callback_http_set_buffer_limit(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy, uint64_t limit);

// Sends a local reply. `details` becomes the response code details (may be empty).
void envoy_dynamic_module_callback_http_send_response(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy, uint32_t status_code,
    envoy_dynamic_module_type_module_http_header* headers, size_t headers_size,
    envoy_dynamic_module_type_module_buffer body, envoy_dynamic_module_type_module_buffer details);

// Resume iteration after a Stop* status.
void envoy_dynamic_module_callback_http_filter_continue_decoding(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy);
void envoy_dynamic_module_callback_http_filter_continue_encoding(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy);

// Starts a one-shot HTTP request to `cluster` through Envoy's async client; `headers` must hold
// :method, :path and host. The response (headers, then the buffered body) arrives in
// on_http_filter_http_callout_done with the id written to `callout_id`. A connect failure or the
// timeout (0 = none) before the response started arrives as Success with Envoy's own 503/504
// reply (its async client runs a router); a reset after that as Reset. Envoy cancels the callout
// if the stream goes away first.
envoy_dynamic_module_type_http_callout_init_result
envoy_dynamic_module_callback_http_filter_http_callout(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy, uint64_t* callout_id,
    envoy_dynamic_module_type_module_buffer cluster_name,
    envoy_dynamic_module_type_module_http_header* headers, size_t headers_size,
    envoy_dynamic_module_type_module_buffer body, uint64_t timeout_milliseconds);

// Starts a streaming request to `cluster` (Envoy's async client stream): headers as for
// http_callout, then `body` (may be empty) and `end_stream`. More data and trailers follow through
// http_stream_send_data / _send_trailers; the response arrives as on_http_filter_http_stream_*
// events (headers, data*, trailers?, then complete, or reset), which carry the id written to
// `stream_id`. A connect failure or the timeout (0 = none) before the response started arrives as
// Envoy's own 503/504 response; a reset after that as on_http_filter_http_stream_reset. Envoy
// resets the stream if the filter is destroyed first.
envoy_dynamic_module_type_http_callout_init_result
envoy_dynamic_module_callback_http_filter_start_http_stream(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy, uint64_t* stream_id,
    envoy_dynamic_module_type_module_buffer cluster_name,
    envoy_dynamic_module_type_module_http_header* headers, size_t headers_size,
    envoy_dynamic_module_type_module_buffer body, bool end_stream, uint64_t timeout_milliseconds);

// More request body for a started stream; false when the stream is unknown or already ended.
bool envoy_dynamic_module_callback_http_stream_send_data(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy, uint64_t stream_id,
    envoy_dynamic_module_type_module_buffer data, bool end_stream);

// Request trailers for a started stream (they end it); false when the stream is unknown or ended.
bool envoy_dynamic_module_callback_http_stream_send_trailers(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy, uint64_t stream_id,
    envoy_dynamic_module_type_module_http_header* trailers, size_t trailers_size);

// Abandons a started stream. Envoy reports it with on_http_filter_http_stream_reset (LocalReset)
// from inside this call; nothing arrives for the stream after that.
void envoy_dynamic_module_callback_http_filter_reset_http_stream(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy, uint64_t stream_id);

// The most specific per-route config of the stream's route (route, then virtual host), as
// returned by on_http_filter_per_route_config_new, or NULL.
envoy_dynamic_module_type_http_filter_per_route_config_module_ptr
envoy_dynamic_module_callback_get_most_specific_route_config(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy);

// Routing: after request headers that routing depends on changed, the route is picked again.
void envoy_dynamic_module_callback_http_clear_route_cache(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy);

// The upstream load balancer picks `host` ("ip:port", an IP address) when the routed cluster has
// it. Without it: `strict` fails the request (503), else load balancing goes on as usual. False
// when `host` is not an IP address.
bool envoy_dynamic_module_callback_http_set_upstream_override_host(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_module_buffer host, bool strict);

// Stream attributes: false when not available (or not of that type).
bool envoy_dynamic_module_callback_http_filter_get_attribute_string(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_attribute_id attribute_id,
    envoy_dynamic_module_type_envoy_buffer* result);
bool envoy_dynamic_module_callback_http_filter_get_attribute_int(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_attribute_id attribute_id, uint64_t* result);
bool envoy_dynamic_module_callback_http_filter_get_attribute_bool(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_attribute_id attribute_id, bool* result);

// Stream dynamic metadata (namespace → key → value), readable by later filters and access logs.
void envoy_dynamic_module_callback_http_set_dynamic_metadata_string(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_module_buffer ns, envoy_dynamic_module_type_module_buffer key,
    envoy_dynamic_module_type_module_buffer value);
void envoy_dynamic_module_callback_http_set_dynamic_metadata_number(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_module_buffer ns, envoy_dynamic_module_type_module_buffer key,
    double value);
void envoy_dynamic_module_callback_http_set_dynamic_metadata_bool(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_module_buffer ns, envoy_dynamic_module_type_module_buffer key,
    bool value);
// Reads from `source`; false when absent or of another type.
bool envoy_dynamic_module_callback_http_get_metadata_string(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_metadata_source source, envoy_dynamic_module_type_module_buffer ns,
    envoy_dynamic_module_type_module_buffer key, envoy_dynamic_module_type_envoy_buffer* result);
bool envoy_dynamic_module_callback_http_get_metadata_number(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_metadata_source source, envoy_dynamic_module_type_module_buffer ns,
    envoy_dynamic_module_type_module_buffer key, double* result);
bool envoy_dynamic_module_callback_http_get_metadata_bool(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_metadata_source source, envoy_dynamic_module_type_module_buffer ns,
    envoy_dynamic_module_type_module_buffer key, bool* result);

// Stream filter state as bytes, shared with other dynamic modules.
bool envoy_dynamic_module_callback_http_set_filter_state_bytes(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_module_buffer key, envoy_dynamic_module_type_module_buffer value);
bool envoy_dynamic_module_callback_http_get_filter_state_bytes(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_module_buffer key, envoy_dynamic_module_type_envoy_buffer* result);

// Metrics with optional labels. Defined on the config, only inside on_http_filter_config_new
// (Envoy freezes stat creation after it); recorded per stream with one value per label name.
envoy_dynamic_module_type_metrics_result
envoy_dynamic_module_callback_http_filter_config_define_counter(
    envoy_dynamic_module_type_http_filter_config_envoy_ptr config_envoy,
    envoy_dynamic_module_type_module_buffer name,
    envoy_dynamic_module_type_module_buffer* label_names, size_t label_names_length,
    size_t* counter_id);
envoy_dynamic_module_type_metrics_result
envoy_dynamic_module_callback_http_filter_config_define_gauge(
    envoy_dynamic_module_type_http_filter_config_envoy_ptr config_envoy,
    envoy_dynamic_module_type_module_buffer name,
    envoy_dynamic_module_type_module_buffer* label_names, size_t label_names_length,
    size_t* gauge_id);
envoy_dynamic_module_type_metrics_result
envoy_dynamic_module_callback_http_filter_config_define_histogram(
    envoy_dynamic_module_type_http_filter_config_envoy_ptr config_envoy,
    envoy_dynamic_module_type_module_buffer name,
    envoy_dynamic_module_type_module_buffer* label_names, size_t label_names_length,
    size_t* histogram_id);
envoy_dynamic_module_type_metrics_result envoy_dynamic_module_callback_http_filter_increment_counter(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy, size_t id,
    envoy_dynamic_module_type_module_buffer* label_values, size_t label_values_length,
    uint64_t value);
envoy_dynamic_module_type_metrics_result envoy_dynamic_module_callback_http_filter_increment_gauge(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy, size_t id,
    envoy_dynamic_module_type_module_buffer* label_values, size_t label_values_length,
    uint64_t value);
envoy_dynamic_module_type_metrics_result envoy_dynamic_module_callback_http_filter_decrement_gauge(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy, size_t id,
    envoy_dynamic_module_type_module_buffer* label_values, size_t label_values_length,
    uint64_t value);
envoy_dynamic_module_type_metrics_result envoy_dynamic_module_callback_http_filter_set_gauge(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy, size_t id,
    envoy_dynamic_module_type_module_buffer* label_values, size_t label_values_length,
    uint64_t value);
envoy_dynamic_module_type_metrics_result
envoy_dynamic_module_callback_http_filter_record_histogram_value(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy, size_t id,
    envoy_dynamic_module_type_module_buffer* label_values, size_t label_values_length,
    uint64_t value);

// A per-stream scheduler. commit may be called from any thread; Envoy posts
// on_http_filter_scheduled(event_id) to the stream's worker, or drops it if the stream is gone.
// The module deletes the scheduler it created.
envoy_dynamic_module_type_http_filter_scheduler_module_ptr
envoy_dynamic_module_callback_http_filter_scheduler_new(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy);
void envoy_dynamic_module_callback_http_filter_scheduler_commit(
    envoy_dynamic_module_type_http_filter_scheduler_module_ptr scheduler, uint64_t event_id);
void envoy_dynamic_module_callback_http_filter_scheduler_delete(
    envoy_dynamic_module_type_http_filter_scheduler_module_ptr scheduler);

#ifdef __cplusplus
}  // extern "C"
#endif
