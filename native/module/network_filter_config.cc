// Network config hooks (main thread).
#include "native/module/network_filter_config.h"

#include <string>

#include "native/module/abi_buffer.h"

using envoy_ts::module::DefinedMetric;
using envoy_ts::module::NetworkFilterConfig;

namespace {

bool defineMetric(envoy_dynamic_module_type_network_filter_config_envoy_ptr config_envoy,
                  DefinedMetric::Kind kind, const std::string& name, size_t& envoy_id) {
  auto name_buffer = envoy_ts::module::moduleBuffer(name);
  auto result = envoy_dynamic_module_type_metrics_result_MetricNotFound;
  switch (kind) {
  case DefinedMetric::Kind::Counter:
    result = envoy_dynamic_module_callback_network_filter_config_define_counter(config_envoy,
                                                                                 name_buffer, &envoy_id);
    break;
  case DefinedMetric::Kind::Gauge:
    result = envoy_dynamic_module_callback_network_filter_config_define_gauge(config_envoy,
                                                                               name_buffer, &envoy_id);
    break;
  case DefinedMetric::Kind::Histogram:
    result = envoy_dynamic_module_callback_network_filter_config_define_histogram(
        config_envoy, name_buffer, &envoy_id);
    break;
  }
  return result == envoy_dynamic_module_type_metrics_result_Success;
}

}  // namespace

extern "C" envoy_dynamic_module_type_network_filter_config_module_ptr
envoy_dynamic_module_on_network_filter_config_new(
    envoy_dynamic_module_type_network_filter_config_envoy_ptr config_envoy,
    envoy_dynamic_module_type_envoy_buffer name, envoy_dynamic_module_type_envoy_buffer config) {
  using namespace envoy_ts;
  auto loaded = module::loadFilterConfig(
      module::viewOf(name), std::string(module::viewOf(config)), bridge::ConfigKind::Network,
      [config_envoy](DefinedMetric::Kind kind, const std::string& metric,
                     const std::vector<std::string>& labels, size_t& envoy_id) {
        // Envoy's network filter metrics have no labels (the runtime rejects labelled ones).
        return labels.empty() && defineMetric(config_envoy, kind, metric, envoy_id);
      });
  if (!loaded) {
    return nullptr;
  }
  return new NetworkFilterConfig{loaded->id, config_envoy, std::move(loaded->metrics),
                                 loaded->fail_open};
}

extern "C" void envoy_dynamic_module_on_network_filter_config_destroy(
    envoy_dynamic_module_type_network_filter_config_module_ptr config_module) {
  auto* config = static_cast<const NetworkFilterConfig*>(config_module);
  envoy_ts::module::unloadFilterConfig(config->id);
  delete config;
}

// No config-level events are ever committed.
extern "C" void envoy_dynamic_module_on_network_filter_config_scheduled(
    envoy_dynamic_module_type_network_filter_config_module_ptr, uint64_t) {}
