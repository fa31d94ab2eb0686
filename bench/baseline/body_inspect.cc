// libbaseline_body_inspect.so: the work of the TypeScript body-inspect bench filter, natively.
// Counts the newlines of the request body as it streams through (reading Envoy's slices in place)
// and reports the count in the response header x-body-newlines.
#include <cstring>
#include <string>
#include <vector>

#include "native/abi/http_filter.h"

#define BASELINE_EXPORT extern "C" __attribute__((visibility("default")))

namespace {

struct BodyInspectFilter {
  uint64_t newlines = 0;
  std::vector<envoy_dynamic_module_type_envoy_buffer> slices;
};

BodyInspectFilter* self(envoy_dynamic_module_type_http_filter_module_ptr ptr) {
  return static_cast<BodyInspectFilter*>(const_cast<void*>(ptr));
}

} // namespace

BASELINE_EXPORT envoy_dynamic_module_type_http_filter_module_ptr
envoy_dynamic_module_on_http_filter_new(envoy_dynamic_module_type_http_filter_config_module_ptr,
                                        envoy_dynamic_module_type_http_filter_envoy_ptr) {
  return new BodyInspectFilter();
}

BASELINE_EXPORT envoy_dynamic_module_type_on_http_filter_request_headers_status
envoy_dynamic_module_on_http_filter_request_headers(envoy_dynamic_module_type_http_filter_envoy_ptr,
                                                   envoy_dynamic_module_type_http_filter_module_ptr,
                                                   bool) {
  return envoy_dynamic_module_type_on_http_filter_request_headers_status_Continue;
}

BASELINE_EXPORT envoy_dynamic_module_type_on_http_filter_request_body_status
envoy_dynamic_module_on_http_filter_request_body(envoy_dynamic_module_type_http_filter_envoy_ptr envoy,
                                                 envoy_dynamic_module_type_http_filter_module_ptr module,
                                                 bool) {
  BodyInspectFilter* filter = self(module);
  const auto received = envoy_dynamic_module_type_http_body_type_ReceivedRequestBody;
  filter->slices.resize(envoy_dynamic_module_callback_http_get_body_chunks_size(envoy, received));
  if (!filter->slices.empty() &&
      envoy_dynamic_module_callback_http_get_body_chunks(envoy, received, filter->slices.data())) {
    for (const auto& slice : filter->slices) {
      const char* at = slice.ptr;
      const char* end = slice.ptr + slice.length;
      while ((at = static_cast<const char*>(std::memchr(at, '\n', end - at))) != nullptr) {
        ++filter->newlines;
        ++at;
      }
    }
  }
  return envoy_dynamic_module_type_on_http_filter_request_body_status_Continue;
}

BASELINE_EXPORT envoy_dynamic_module_type_on_http_filter_response_headers_status
envoy_dynamic_module_on_http_filter_response_headers(
    envoy_dynamic_module_type_http_filter_envoy_ptr envoy,
    envoy_dynamic_module_type_http_filter_module_ptr module, bool) {
  static constexpr char kHeader[] = "x-body-newlines";
  const std::string count = std::to_string(self(module)->newlines);
  envoy_dynamic_module_callback_http_set_header(
      envoy, envoy_dynamic_module_type_http_header_type_ResponseHeader, {kHeader, sizeof(kHeader) - 1},
      {count.data(), count.size()});
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
