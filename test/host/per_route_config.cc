#include "per_route_config.h"

#include "logger.h"

namespace EnvoyTsHost {

HttpPerRouteConfig::~HttpPerRouteConfig() {
  if (module_config_ != nullptr) {
    HOST_LOG(Debug, "destroying per-route config of " + module_->path());
    hooks_.config_destroy(module_config_);
  }
}

std::shared_ptr<const HttpPerRouteConfig> HttpPerRouteConfig::create(const PerRouteConfigSpec& spec,
                                                                    std::string& error) {
  std::string module_error;
  std::shared_ptr<HttpPerRouteConfig> config(new HttpPerRouteConfig());
  config->module_ =
      DynamicModule::load(spec.module_name, spec.do_not_close, spec.load_globally, module_error);
  if (config->module_ == nullptr ||
      !config->module_->resolveHttpPerRouteConfigHooks(config->hooks_, module_error)) {
    error = spec.path + ": " + module_error;
    return nullptr;
  }
  const envoy_dynamic_module_type_envoy_buffer name{spec.per_route_config_name.data(),
                                                    spec.per_route_config_name.size()};
  const envoy_dynamic_module_type_envoy_buffer bytes{spec.filter_config.data(),
                                                     spec.filter_config.size()};
  config->module_config_ = config->hooks_.config_new(name, bytes);
  if (config->module_config_ == nullptr) {
    // Envoy: "Failed to create pre-route filter config: Failed to initialize per-route dynamic
    // module" (sic), and the route configuration is rejected.
    error = spec.path + ": Failed to initialize per-route dynamic module";
    return nullptr;
  }
  return config;
}

bool createPerFilterConfigs(const PerFilterConfigSpecs& specs, PerFilterConfigs& configs,
                            std::string& error) {
  for (const auto& [filter_name, spec] : specs) {
    HttpPerRouteConfigConstSharedPtr config = HttpPerRouteConfig::create(spec, error);
    if (config == nullptr) {
      return false;
    }
    configs[filter_name] = std::move(config);
  }
  return true;
}

} // namespace EnvoyTsHost
