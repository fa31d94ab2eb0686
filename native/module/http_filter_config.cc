// HTTP config hooks (main thread).
#include "native/module/http_filter_config.h"

#include <string>

#include "native/module/abi_buffer.h"

using envoy_ts::module::HttpFilterConfig;

extern "C" envoy_dynamic_module_type_http_filter_config_module_ptr
envoy_dynamic_module_on_http_filter_config_new(
    envoy_dynamic_module_type_http_filter_config_envoy_ptr config_envoy,
    envoy_dynamic_module_type_envoy_buffer name, envoy_dynamic_module_type_envoy_buffer config) {
  using namespace envoy_ts;
  // HTTP filters declare no metrics yet: nothing to define.
  auto loaded = module::loadFilterConfig(
      module::viewOf(name), std::string(module::viewOf(config)), bridge::ConfigKind::Http,
      [](module::DefinedMetric::Kind, const std::string&, size_t&) { return false; });
  if (!loaded) {
    return nullptr;
  }
  return new HttpFilterConfig{loaded->id, config_envoy, std::move(loaded->metrics)};
}

extern "C" void envoy_dynamic_module_on_http_filter_config_destroy(
    envoy_dynamic_module_type_http_filter_config_module_ptr config_module) {
  auto* config = static_cast<const HttpFilterConfig*>(config_module);
  envoy_ts::module::unloadFilterConfig(config->id);
  delete config;
}
