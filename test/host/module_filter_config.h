#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config.h"
#include "dynamic_module.h"
#include "logger.h"
#include "module_metrics.h"

namespace EnvoyTsHost {

// One dynamic-module filter config (Envoy's DynamicModuleHttpFilterConfig or
// DynamicModuleNetworkFilterConfig). Built and destroyed on the main thread; shared read-only by
// the workers in between. Its address is the config_envoy pointer given to the module. `Traits`
// names the hooks of the filter type, how they are resolved, and how errors call it.
template <class Traits>
class ModuleFilterConfig {
public:
  using Hooks = typename Traits::Hooks;
  using ModuleConfigPtr = typename Traits::ModuleConfigPtr;

  ~ModuleFilterConfig() {
    if (module_config_ != nullptr) {
      HOST_LOG(Debug, std::string("destroying ") + Traits::kKind + " config of " + module_->path());
      hooks_.config_destroy(module_config_);
    }
  }

  // Loads the module, resolves the hooks and calls config_new. nullptr with `error` set.
  static std::shared_ptr<ModuleFilterConfig> create(const DynamicModuleFilterSpec& spec,
                                                    std::string& error) {
    std::string module_error;
    std::shared_ptr<ModuleFilterConfig> config(new ModuleFilterConfig());
    config->config_name_ = spec.config_name;
    config->module_ =
        DynamicModule::load(spec.module_name, spec.do_not_close, spec.load_globally, module_error);
    if (config->module_ == nullptr ||
        !(config->module_.get()->*Traits::kResolve)(config->hooks_, module_error)) {
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
      error = spec.path + ": dynamic module " + Traits::kKind +
              " config rejected (see the module's log above)";
      return nullptr;
    }
    return config;
  }

  const Hooks& hooks() const { return hooks_; }
  // The filter's `name` in its chain (Envoy's filter config name; it keys typed_per_filter_config).
  const std::string& configName() const { return config_name_; }
  ModuleConfigPtr moduleConfig() const { return module_config_; }

  // The module's metrics ("dynamicmodulescustom.<name>[.<label>.<value>]..."); defining works
  // only inside config_new (Envoy freezes stat creation once it returns).
  ModuleMetrics& metrics() { return metrics_; }
  const ModuleMetrics& metrics() const { return metrics_; }

private:
  ModuleFilterConfig() = default;

  std::string config_name_;
  DynamicModuleSharedPtr module_;
  Hooks hooks_{};
  ModuleConfigPtr module_config_{nullptr};
  ModuleMetrics metrics_{"dynamicmodulescustom"}; // Envoy's DefaultMetricsNamespace.
};

// Builds every dynamic-module filter config of a chain; false with `error` set.
template <class Traits>
bool createModuleFilterChain(const std::vector<DynamicModuleFilterSpec>& specs,
                             std::vector<std::shared_ptr<ModuleFilterConfig<Traits>>>& chain,
                             std::string& error) {
  for (const DynamicModuleFilterSpec& spec : specs) {
    auto config = ModuleFilterConfig<Traits>::create(spec, error);
    if (config == nullptr) {
      return false;
    }
    chain.push_back(std::move(config));
  }
  return true;
}

} // namespace EnvoyTsHost
