// libbaseline_async_resume.so: the work of the TypeScript async-resume bench filter, natively.
// Stops every request in on_http_filter_request_headers and resumes it from Envoy's dispatcher:
// it commits an event on the stream's scheduler, and on_http_filter_scheduled continues decoding.
// Streams that were resumed that way carry x-resumed: 1 on the response.
#include "native/abi/http_filter.h"

#define BASELINE_EXPORT extern "C" __attribute__((visibility("default")))

namespace {

constexpr uint64_t kResumeEvent = 1;

struct AsyncResumeFilter {
  envoy_dynamic_module_type_http_filter_scheduler_module_ptr scheduler = nullptr;
  bool resumed = false;
};

AsyncResumeFilter* self(envoy_dynamic_module_type_http_filter_module_ptr ptr) {
  return static_cast<AsyncResumeFilter*>(const_cast<void*>(ptr));
}

} // namespace

BASELINE_EXPORT envoy_dynamic_module_type_http_filter_module_ptr
envoy_dynamic_module_on_http_filter_new(envoy_dynamic_module_type_http_filter_config_module_ptr,
                                        envoy_dynamic_module_type_http_filter_envoy_ptr) {
  return new AsyncResumeFilter();
}

BASELINE_EXPORT envoy_dynamic_module_type_on_http_filter_request_headers_status
envoy_dynamic_module_on_http_filter_request_headers(
    envoy_dynamic_module_type_http_filter_envoy_ptr envoy,
    envoy_dynamic_module_type_http_filter_module_ptr module, bool) {
  AsyncResumeFilter* filter = self(module);
  // Created on the stream's first wait, as the TS runtime does (JsStream::ensureScheduler).
  filter->scheduler = envoy_dynamic_module_callback_http_filter_scheduler_new(envoy);
  envoy_dynamic_module_callback_http_filter_scheduler_commit(filter->scheduler, kResumeEvent);
  // What the TS runtime answers for a pending promise.
  return envoy_dynamic_module_type_on_http_filter_request_headers_status_StopAllIterationAndWatermark;
}

BASELINE_EXPORT void envoy_dynamic_module_on_http_filter_scheduled(
    envoy_dynamic_module_type_http_filter_envoy_ptr envoy,
    envoy_dynamic_module_type_http_filter_module_ptr module, uint64_t event_id) {
  AsyncResumeFilter* filter = self(module);
  if (event_id != kResumeEvent || filter->resumed) {
    return;
  }
  filter->resumed = true;
  envoy_dynamic_module_callback_http_filter_continue_decoding(envoy);
}

BASELINE_EXPORT envoy_dynamic_module_type_on_http_filter_response_headers_status
envoy_dynamic_module_on_http_filter_response_headers(
    envoy_dynamic_module_type_http_filter_envoy_ptr envoy,
    envoy_dynamic_module_type_http_filter_module_ptr module, bool) {
  static constexpr char kHeader[] = "x-resumed";
  if (self(module)->resumed) {
    envoy_dynamic_module_callback_http_set_header(
        envoy, envoy_dynamic_module_type_http_header_type_ResponseHeader,
        {kHeader, sizeof(kHeader) - 1}, {"1", 1});
  }
  return envoy_dynamic_module_type_on_http_filter_response_headers_status_Continue;
}

BASELINE_EXPORT envoy_dynamic_module_type_on_http_filter_request_body_status
envoy_dynamic_module_on_http_filter_request_body(envoy_dynamic_module_type_http_filter_envoy_ptr,
                                                 envoy_dynamic_module_type_http_filter_module_ptr,
                                                 bool) {
  return envoy_dynamic_module_type_on_http_filter_request_body_status_Continue;
}

BASELINE_EXPORT envoy_dynamic_module_type_on_http_filter_response_body_status
envoy_dynamic_module_on_http_filter_response_body(envoy_dynamic_module_type_http_filter_envoy_ptr,
                                                  envoy_dynamic_module_type_http_filter_module_ptr,
                                                  bool) {
  return envoy_dynamic_module_type_on_http_filter_response_body_status_Continue;
}

BASELINE_EXPORT void envoy_dynamic_module_on_http_filter_destroy(
    envoy_dynamic_module_type_http_filter_module_ptr module) {
  AsyncResumeFilter* filter = self(module);
  if (filter->scheduler != nullptr) {
    envoy_dynamic_module_callback_http_filter_scheduler_delete(filter->scheduler);
  }
  delete filter;
}

#include "bench/baseline/unused_http_hooks.inc"
