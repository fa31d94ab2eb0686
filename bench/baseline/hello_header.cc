// libbaseline_hello_header.so: the work of the proxy-wasm SDK's add_header example (and of its
// TypeScript twin, the hello-header fixture), natively: `hello: set` added to the response headers.
#include "native/abi/http_filter.h"

#define BASELINE_EXPORT extern "C" __attribute__((visibility("default")))

namespace {

constexpr char HeaderName[] = "hello";
constexpr char HeaderValue[] = "set";
// Stateless: every stream shares one object (any non-NULL pointer is a filter).
const int kFilter = 0;

} // namespace

BASELINE_EXPORT envoy_dynamic_module_type_http_filter_module_ptr
envoy_dynamic_module_on_http_filter_new(envoy_dynamic_module_type_http_filter_config_module_ptr,
                                        envoy_dynamic_module_type_http_filter_envoy_ptr) {
  return &kFilter;
}

BASELINE_EXPORT envoy_dynamic_module_type_on_http_filter_request_headers_status
envoy_dynamic_module_on_http_filter_request_headers(envoy_dynamic_module_type_http_filter_envoy_ptr,
                                                    envoy_dynamic_module_type_http_filter_module_ptr, bool) {
  return envoy_dynamic_module_type_on_http_filter_request_headers_status_Continue;
}

BASELINE_EXPORT envoy_dynamic_module_type_on_http_filter_request_body_status
envoy_dynamic_module_on_http_filter_request_body(envoy_dynamic_module_type_http_filter_envoy_ptr,
                                                 envoy_dynamic_module_type_http_filter_module_ptr,
                                                 bool) {
  return envoy_dynamic_module_type_on_http_filter_request_body_status_Continue;
}

BASELINE_EXPORT envoy_dynamic_module_type_on_http_filter_response_headers_status
envoy_dynamic_module_on_http_filter_response_headers(
    envoy_dynamic_module_type_http_filter_envoy_ptr envoy,
    envoy_dynamic_module_type_http_filter_module_ptr, bool) {
  envoy_dynamic_module_callback_http_add_header(
      envoy, envoy_dynamic_module_type_http_header_type_ResponseHeader,
      {HeaderName, sizeof(HeaderName) - 1}, {HeaderValue, sizeof(HeaderValue) - 1});
  return envoy_dynamic_module_type_on_http_filter_response_headers_status_Continue;
}

BASELINE_EXPORT envoy_dynamic_module_type_on_http_filter_response_body_status
envoy_dynamic_module_on_http_filter_response_body(envoy_dynamic_module_type_http_filter_envoy_ptr,
                                                  envoy_dynamic_module_type_http_filter_module_ptr,
                                                  bool) {
  return envoy_dynamic_module_type_on_http_filter_response_body_status_Continue;
}

BASELINE_EXPORT void
envoy_dynamic_module_on_http_filter_destroy(envoy_dynamic_module_type_http_filter_module_ptr) {}

BASELINE_EXPORT void envoy_dynamic_module_on_http_filter_scheduled(
    envoy_dynamic_module_type_http_filter_envoy_ptr, envoy_dynamic_module_type_http_filter_module_ptr,
    uint64_t) {}

#include "bench/baseline/unused_http_hooks.inc"
