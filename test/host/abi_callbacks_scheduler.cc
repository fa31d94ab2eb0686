// Per-stream scheduler callbacks Envoy exports to HTTP filter modules.
#include "filter_manager.h"
#include "native/abi/http_filter.h"

namespace EnvoyTsHost {
namespace {

// Holds only the liveness token, never the filter: commits after the filter died are dropped on
// the worker, and the scheduler itself may outlive the stream.
struct HttpFilterScheduler {
  std::shared_ptr<FilterLiveness> liveness;
};

} // namespace
} // namespace EnvoyTsHost

using EnvoyTsHost::HttpFilterScheduler;

extern "C" {

__attribute__((visibility("default"))) envoy_dynamic_module_type_http_filter_scheduler_module_ptr
envoy_dynamic_module_callback_http_filter_scheduler_new(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy) {
  EnvoyTsHost::HttpFilter* filter = EnvoyTsHost::HttpFilter::fromEnvoyPtr(filter_envoy);
  return new HttpFilterScheduler{filter->liveness()};
}

__attribute__((visibility("default"))) void envoy_dynamic_module_callback_http_filter_scheduler_commit(
    envoy_dynamic_module_type_http_filter_scheduler_module_ptr scheduler, uint64_t event_id) {
  std::shared_ptr<EnvoyTsHost::FilterLiveness> liveness =
      static_cast<HttpFilterScheduler*>(scheduler)->liveness;
  // The liveness check happens on the worker, where the filter is destroyed.
  liveness->queue->post([liveness, event_id]() {
    if (liveness->filter != nullptr) {
      liveness->filter->onScheduled(event_id);
    }
  });
}

__attribute__((visibility("default"))) void envoy_dynamic_module_callback_http_filter_scheduler_delete(
    envoy_dynamic_module_type_http_filter_scheduler_module_ptr scheduler) {
  delete static_cast<HttpFilterScheduler*>(scheduler);
}

} // extern "C"
