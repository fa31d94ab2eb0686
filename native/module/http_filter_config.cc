// HTTP config hooks (main thread).
#include "native/module/http_filter_config.h"

#include <string>

#include "native/module/abi_buffer.h"

using envoy_ts::module::DefinedMetric;
using envoy_ts::module::HttpFilterConfig;

namespace {

bool defineMetric(envoy_dynamic_module_type_http_filter_config_envoy_ptr config_envoy,
                  DefinedMetric::Kind kind, const std::string& name,
                  const std::vector<std::string>& labels, size_t& envoy_id) {
  std::vector<envoy_dynamic_module_type_module_buffer> label_names;
  for (const std::string& label : labels) {
    label_names.push_back(envoy_ts::module::moduleBuffer(label));
  }
  auto name_buffer = envoy_ts::module::moduleBuffer(name);
  auto result = envoy_dynamic_module_type_metrics_result_MetricNotFound;
  switch (kind) {
  case DefinedMetric::Kind::Counter:
    result = envoy_dynamic_module_callback_http_filter_config_define_counter(
        config_envoy, name_buffer, label_names.data(), label_names.size(), &envoy_id);
    break;
  case DefinedMetric::Kind::Gauge:
    result = envoy_dynamic_module_callback_http_filter_config_define_gauge(
        config_envoy, name_buffer, label_names.data(), label_names.size(), &envoy_id);
    break;
  case DefinedMetric::Kind::Histogram:
    result = envoy_dynamic_module_callback_http_filter_config_define_histogram(
        config_envoy, name_buffer, label_names.data(), label_names.size(), &envoy_id);
    break;
  }
  return result == envoy_dynamic_module_type_metrics_result_Success;
}

}  // namespace

extern "C" envoy_dynamic_module_type_http_filter_config_module_ptr
envoy_dynamic_module_on_http_filter_config_new(
    envoy_dynamic_module_type_http_filter_config_envoy_ptr config_envoy,
    envoy_dynamic_module_type_envoy_buffer name, envoy_dynamic_module_type_envoy_buffer config) {
  using namespace envoy_ts;
  auto loaded = module::loadFilterConfig(
      module::viewOf(name), std::string(module::viewOf(config)), bridge::ConfigKind::Http,
      [config_envoy](DefinedMetric::Kind kind, const std::string& metric,
                     const std::vector<std::string>& labels, size_t& envoy_id) {
        return defineMetric(config_envoy, kind, metric, labels, envoy_id);
      });
  if (!loaded) {
    return nullptr;
  }
  return new HttpFilterConfig{loaded->id, config_envoy, std::move(loaded->metrics),
                              loaded->hooks, loaded->fail_open};
}

extern "C" void envoy_dynamic_module_on_http_filter_config_destroy(
    envoy_dynamic_module_type_http_filter_config_module_ptr config_module) {
  auto* config = static_cast<const HttpFilterConfig*>(config_module);
  envoy_ts::module::unloadFilterConfig(config->id);
  delete config;
}

extern "C" envoy_dynamic_module_type_http_filter_per_route_config_module_ptr
envoy_dynamic_module_on_http_filter_per_route_config_new(envoy_dynamic_module_type_envoy_buffer name,
                                                         envoy_dynamic_module_type_envoy_buffer config) {
  using namespace envoy_ts;
  auto loaded = module::loadFilterConfig(
      module::viewOf(name), std::string(module::viewOf(config)), bridge::ConfigKind::Route,
      [](DefinedMetric::Kind, const std::string&, const std::vector<std::string>&, size_t&) {
        return false;  // route configs declare no metrics
      });
  if (!loaded) {
    return nullptr;
  }
  return new envoy_ts::module::PerRouteConfig{loaded->id};
}

extern "C" void envoy_dynamic_module_on_http_filter_per_route_config_destroy(
    envoy_dynamic_module_type_http_filter_per_route_config_module_ptr per_route_config) {
  auto* config = static_cast<const envoy_ts::module::PerRouteConfig*>(per_route_config);
  envoy_ts::module::unloadFilterConfig(config->id);
  delete config;
}
