#include "network_filter_config.h"

#include "logger.h"

namespace EnvoyTsHost {
NetworkFilterConfig::~NetworkFilterConfig() {
  if (module_config_ != nullptr) {
    HOST_LOG(Debug, "destroying network filter config of " + module_->path());
    hooks_.config_destroy(module_config_);
  }
}

std::shared_ptr<NetworkFilterConfig> NetworkFilterConfig::create(const DynamicModuleFilterSpec& spec,
                                                                 std::string& error) {
  std::string module_error;
  std::shared_ptr<NetworkFilterConfig> config(new NetworkFilterConfig());
  config->module_ =
      DynamicModule::load(spec.module_name, spec.do_not_close, spec.load_globally, module_error);
  if (config->module_ == nullptr ||
      !config->module_->resolveNetworkFilterHooks(config->hooks_, module_error)) {
    error = spec.path + ": " + module_error;
    return nullptr;
  }
  const envoy_dynamic_module_type_envoy_buffer name{spec.filter_name.data(),
                                                    spec.filter_name.size()};
  const envoy_dynamic_module_type_envoy_buffer bytes{spec.filter_config.data(),
                                                     spec.filter_config.size()};
  config->module_config_ = config->hooks_.config_new(config.get(), name, bytes);
  config->metrics_.freeze();
  if (config->module_config_ == nullptr) {
    error = spec.path + ": dynamic module network filter config rejected (see the module's log above)";
    return nullptr;
  }
  return config;
}

bool createNetworkFilterChainConfig(const std::vector<DynamicModuleFilterSpec>& specs,
                                    NetworkFilterChainConfig& chain, std::string& error) {
  for (const DynamicModuleFilterSpec& spec : specs) {
    NetworkFilterConfigSharedPtr config = NetworkFilterConfig::create(spec, error);
    if (config == nullptr) {
      return false;
    }
    chain.push_back(std::move(config));
  }
  return true;
}

} // namespace EnvoyTsHost
