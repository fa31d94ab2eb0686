// libbaseline_request_id.so: the work of the TypeScript request-id filter, natively. On request
// headers, keep x-request-id or set a fresh UUID v4; echo it on the response headers.
#include <cstdio>
#include <random>
#include <string>

#include "native/abi/http_filter.h"

#define BASELINE_EXPORT extern "C" __attribute__((visibility("default")))

namespace {

struct RequestIdFilter {
  std::string request_id;
};

constexpr char HeaderName[] = "x-request-id";

std::string newUuidV4() {
  // Cheap per-thread PRNG: this is a benchmark baseline, not a security boundary.
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const uint64_t hi = (rng() & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;
  const uint64_t lo = (rng() & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
  char out[37];
  std::snprintf(out, sizeof(out), "%08x-%04x-%04x-%04x-%012llx",
                static_cast<unsigned>(hi >> 32), static_cast<unsigned>((hi >> 16) & 0xffff),
                static_cast<unsigned>(hi & 0xffff), static_cast<unsigned>(lo >> 48),
                static_cast<unsigned long long>(lo & 0xffffffffffffULL));
  return out;
}

RequestIdFilter* self(envoy_dynamic_module_type_http_filter_module_ptr ptr) {
  return static_cast<RequestIdFilter*>(const_cast<void*>(ptr));
}

envoy_dynamic_module_type_module_buffer view(const std::string& s) { return {s.data(), s.size()}; }

} // namespace

BASELINE_EXPORT envoy_dynamic_module_type_http_filter_module_ptr
envoy_dynamic_module_on_http_filter_new(envoy_dynamic_module_type_http_filter_config_module_ptr,
                                        envoy_dynamic_module_type_http_filter_envoy_ptr) {
  return new RequestIdFilter();
}

BASELINE_EXPORT envoy_dynamic_module_type_on_http_filter_request_headers_status
envoy_dynamic_module_on_http_filter_request_headers(
    envoy_dynamic_module_type_http_filter_envoy_ptr envoy,
    envoy_dynamic_module_type_http_filter_module_ptr module, bool) {
  RequestIdFilter* filter = self(module);
  envoy_dynamic_module_type_envoy_buffer value{nullptr, 0};
  const envoy_dynamic_module_type_module_buffer key{HeaderName, sizeof(HeaderName) - 1};
  if (envoy_dynamic_module_callback_http_get_header(
          envoy, envoy_dynamic_module_type_http_header_type_RequestHeader, key, &value, 0,
          nullptr) &&
      value.ptr != nullptr) {
    filter->request_id.assign(value.ptr, value.length);
  } else {
    filter->request_id = newUuidV4();
    envoy_dynamic_module_callback_http_set_header(
        envoy, envoy_dynamic_module_type_http_header_type_RequestHeader, key,
        view(filter->request_id));
  }
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
    envoy_dynamic_module_type_http_filter_module_ptr module, bool) {
  RequestIdFilter* filter = self(module);
  if (!filter->request_id.empty()) {
    const envoy_dynamic_module_type_module_buffer key{HeaderName, sizeof(HeaderName) - 1};
    envoy_dynamic_module_callback_http_set_header(
        envoy, envoy_dynamic_module_type_http_header_type_ResponseHeader, key,
        view(filter->request_id));
  }
  return envoy_dynamic_module_type_on_http_filter_response_headers_status_Continue;
}

BASELINE_EXPORT envoy_dynamic_module_type_on_http_filter_response_body_status
envoy_dynamic_module_on_http_filter_response_body(envoy_dynamic_module_type_http_filter_envoy_ptr,
                                                  envoy_dynamic_module_type_http_filter_module_ptr,
                                                  bool) {
  return envoy_dynamic_module_type_on_http_filter_response_body_status_Continue;
}

BASELINE_EXPORT void
envoy_dynamic_module_on_http_filter_destroy(envoy_dynamic_module_type_http_filter_module_ptr module) {
  delete self(module);
}

BASELINE_EXPORT void envoy_dynamic_module_on_http_filter_scheduled(
    envoy_dynamic_module_type_http_filter_envoy_ptr, envoy_dynamic_module_type_http_filter_module_ptr,
    uint64_t) {}

#include "bench/baseline/unused_http_hooks.inc"
