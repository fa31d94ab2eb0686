// Pass-through definitions of every hook Envoy's loader needs, for the conformance host's broken
// test modules. A module includes it exactly once, after defining PASSTHROUGH_SKIP_<HOOK> for each
// hook it defines itself or leaves out on purpose.
#pragma once

#include "native/abi/http_filter.h"

#define PASSTHROUGH_CONTINUE 0 /* Continue, in every *_status enum */

// Short names for the two per-stream pointers every filter hook takes.
typedef envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy_ptr;
typedef envoy_dynamic_module_type_http_filter_module_ptr filter_module_ptr;

#ifndef PASSTHROUGH_SKIP_PROGRAM_INIT
ENVOY_TS_HOOK const char* envoy_dynamic_module_on_program_init(void) {
  return ENVOY_TS_TARGET_ABI_VERSION;
}
#endif

#ifndef PASSTHROUGH_SKIP_CONFIG_NEW
ENVOY_TS_HOOK envoy_dynamic_module_type_http_filter_config_module_ptr
envoy_dynamic_module_on_http_filter_config_new(
    envoy_dynamic_module_type_http_filter_config_envoy_ptr config_envoy,
    envoy_dynamic_module_type_envoy_buffer name, envoy_dynamic_module_type_envoy_buffer config) {
  static const char config_module = 0;
  return &config_module;
}
#endif

#ifndef PASSTHROUGH_SKIP_CONFIG_DESTROY
ENVOY_TS_HOOK void envoy_dynamic_module_on_http_filter_config_destroy(
    envoy_dynamic_module_type_http_filter_config_module_ptr config_module) {}
#endif

#ifndef PASSTHROUGH_SKIP_FILTER_NEW
ENVOY_TS_HOOK filter_module_ptr envoy_dynamic_module_on_http_filter_new(
    envoy_dynamic_module_type_http_filter_config_module_ptr config_module,
    filter_envoy_ptr filter_envoy) {
  return config_module; // any non-NULL pointer: this module keeps no per-stream state
}
#endif

#ifndef PASSTHROUGH_SKIP_REQUEST_HEADERS
ENVOY_TS_HOOK envoy_dynamic_module_type_on_http_filter_request_headers_status
envoy_dynamic_module_on_http_filter_request_headers(
    filter_envoy_ptr filter_envoy, filter_module_ptr filter_module, bool end_of_stream) {
  return PASSTHROUGH_CONTINUE;
}
#endif

#ifndef PASSTHROUGH_SKIP_REQUEST_BODY
ENVOY_TS_HOOK envoy_dynamic_module_type_on_http_filter_request_body_status
envoy_dynamic_module_on_http_filter_request_body(
    filter_envoy_ptr filter_envoy, filter_module_ptr filter_module, bool end_of_stream) {
  return PASSTHROUGH_CONTINUE;
}
#endif

#ifndef PASSTHROUGH_SKIP_REQUEST_TRAILERS
ENVOY_TS_HOOK envoy_dynamic_module_type_on_http_filter_request_trailers_status
envoy_dynamic_module_on_http_filter_request_trailers(
    filter_envoy_ptr filter_envoy, filter_module_ptr filter_module) {
  return PASSTHROUGH_CONTINUE;
}
#endif

#ifndef PASSTHROUGH_SKIP_RESPONSE_HEADERS
ENVOY_TS_HOOK envoy_dynamic_module_type_on_http_filter_response_headers_status
envoy_dynamic_module_on_http_filter_response_headers(
    filter_envoy_ptr filter_envoy, filter_module_ptr filter_module, bool end_of_stream) {
  return PASSTHROUGH_CONTINUE;
}
#endif

#ifndef PASSTHROUGH_SKIP_RESPONSE_BODY
ENVOY_TS_HOOK envoy_dynamic_module_type_on_http_filter_response_body_status
envoy_dynamic_module_on_http_filter_response_body(
    filter_envoy_ptr filter_envoy, filter_module_ptr filter_module, bool end_of_stream) {
  return PASSTHROUGH_CONTINUE;
}
#endif

#ifndef PASSTHROUGH_SKIP_RESPONSE_TRAILERS
ENVOY_TS_HOOK envoy_dynamic_module_type_on_http_filter_response_trailers_status
envoy_dynamic_module_on_http_filter_response_trailers(
    filter_envoy_ptr filter_envoy, filter_module_ptr filter_module) {
  return PASSTHROUGH_CONTINUE;
}
#endif

#ifndef PASSTHROUGH_SKIP_STREAM_COMPLETE
ENVOY_TS_HOOK void envoy_dynamic_module_on_http_filter_stream_complete(
    filter_envoy_ptr filter_envoy, filter_module_ptr filter_module) {}
#endif

#ifndef PASSTHROUGH_SKIP_DESTROY
ENVOY_TS_HOOK void envoy_dynamic_module_on_http_filter_destroy(
    envoy_dynamic_module_type_http_filter_module_ptr filter_module) {}
#endif

#ifndef PASSTHROUGH_SKIP_SCHEDULED
ENVOY_TS_HOOK void envoy_dynamic_module_on_http_filter_scheduled(
    filter_envoy_ptr filter_envoy, filter_module_ptr filter_module, uint64_t event_id) {}
#endif

#ifndef PASSTHROUGH_SKIP_CALLOUT_DONE
ENVOY_TS_HOOK void envoy_dynamic_module_on_http_filter_http_callout_done(
    filter_envoy_ptr filter_envoy, filter_module_ptr filter_module, uint64_t callout_id,
    envoy_dynamic_module_type_http_callout_result result,
    envoy_dynamic_module_type_envoy_http_header* headers, size_t headers_size,
    envoy_dynamic_module_type_envoy_buffer* body_chunks, size_t body_chunks_size) {}
#endif

#ifndef PASSTHROUGH_SKIP_HTTP_STREAM
ENVOY_TS_HOOK void envoy_dynamic_module_on_http_filter_http_stream_headers(
    filter_envoy_ptr filter_envoy, filter_module_ptr filter_module, uint64_t stream_id,
    envoy_dynamic_module_type_envoy_http_header* headers, size_t headers_size, bool end_stream) {}

ENVOY_TS_HOOK void envoy_dynamic_module_on_http_filter_http_stream_data(
    filter_envoy_ptr filter_envoy, filter_module_ptr filter_module, uint64_t stream_id,
    const envoy_dynamic_module_type_envoy_buffer* data, size_t data_count, bool end_stream) {}

ENVOY_TS_HOOK void envoy_dynamic_module_on_http_filter_http_stream_trailers(
    filter_envoy_ptr filter_envoy, filter_module_ptr filter_module, uint64_t stream_id,
    envoy_dynamic_module_type_envoy_http_header* trailers, size_t trailers_size) {}

ENVOY_TS_HOOK void envoy_dynamic_module_on_http_filter_http_stream_complete(
    filter_envoy_ptr filter_envoy, filter_module_ptr filter_module, uint64_t stream_id) {}

ENVOY_TS_HOOK void envoy_dynamic_module_on_http_filter_http_stream_reset(
    filter_envoy_ptr filter_envoy, filter_module_ptr filter_module, uint64_t stream_id,
    envoy_dynamic_module_type_http_stream_reset_reason reason) {}
#endif

ENVOY_TS_HOOK void envoy_dynamic_module_on_http_filter_downstream_above_write_buffer_high_watermark(
    filter_envoy_ptr filter_envoy, filter_module_ptr filter_module) {}

ENVOY_TS_HOOK void envoy_dynamic_module_on_http_filter_downstream_below_write_buffer_low_watermark(
    filter_envoy_ptr filter_envoy, filter_module_ptr filter_module) {}
