// Scheduler callbacks Envoy exports to HTTP and network filter modules; one implementation.
#include "http_filter.h"
#include "native/abi/http_filter.h"
#include "native/abi/network_filter.h"
#include "network_filter.h"
#include "scheduler.h"

namespace EnvoyTsHost {
namespace {

struct FilterScheduler {
  std::shared_ptr<FilterLiveness> liveness;
};

} // namespace

void* newFilterScheduler(std::shared_ptr<FilterLiveness> liveness) {
  return new FilterScheduler{std::move(liveness)};
}

void commitFilterScheduler(void* scheduler, uint64_t event_id) {
  std::shared_ptr<FilterLiveness> liveness = static_cast<FilterScheduler*>(scheduler)->liveness;
  // The liveness check happens on the worker, where the filter is destroyed.
  liveness->queue->post([liveness, event_id]() {
    if (liveness->target != nullptr) {
      liveness->target->onScheduled(event_id);
    }
  });
}

void deleteFilterScheduler(void* scheduler) { delete static_cast<FilterScheduler*>(scheduler); }

} // namespace EnvoyTsHost

extern "C" {

__attribute__((visibility("default"))) envoy_dynamic_module_type_http_filter_scheduler_module_ptr
envoy_dynamic_module_callback_http_filter_scheduler_new(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy) {
  return EnvoyTsHost::newFilterScheduler(
      EnvoyTsHost::HttpFilter::fromEnvoyPtr(filter_envoy)->liveness());
}

__attribute__((visibility("default"))) void envoy_dynamic_module_callback_http_filter_scheduler_commit(
    envoy_dynamic_module_type_http_filter_scheduler_module_ptr scheduler, uint64_t event_id) {
  EnvoyTsHost::commitFilterScheduler(scheduler, event_id);
}

__attribute__((visibility("default"))) void envoy_dynamic_module_callback_http_filter_scheduler_delete(
    envoy_dynamic_module_type_http_filter_scheduler_module_ptr scheduler) {
  EnvoyTsHost::deleteFilterScheduler(scheduler);
}

__attribute__((visibility("default"))) envoy_dynamic_module_type_network_filter_scheduler_module_ptr
envoy_dynamic_module_callback_network_filter_scheduler_new(
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy) {
  return EnvoyTsHost::newFilterScheduler(
      EnvoyTsHost::NetworkFilter::fromEnvoyPtr(filter_envoy)->liveness());
}

__attribute__((visibility("default"))) void
envoy_dynamic_module_callback_network_filter_scheduler_commit(
    envoy_dynamic_module_type_network_filter_scheduler_module_ptr scheduler, uint64_t event_id) {
  EnvoyTsHost::commitFilterScheduler(scheduler, event_id);
}

__attribute__((visibility("default"))) void
envoy_dynamic_module_callback_network_filter_scheduler_delete(
    envoy_dynamic_module_type_network_filter_scheduler_module_ptr scheduler) {
  EnvoyTsHost::deleteFilterScheduler(scheduler);
}

} // extern "C"
