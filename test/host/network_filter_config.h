#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config.h"
#include "dynamic_module.h"
#include "native/abi/network_filter.h"
#include "module_metrics.h"

namespace EnvoyTsHost {

// One DynamicModuleNetworkFilter of a TCP listener (Envoy's DynamicModuleNetworkFilterConfig).
// Built and destroyed on the main thread; shared read-only by the workers in between. Its address
// is the config_envoy pointer given to the module. Metrics are defined only inside config_new.
class NetworkFilterConfig {
public:
  ~NetworkFilterConfig();

  // Loads the module, resolves the hooks and calls config_new. nullptr with `error` set.
  static std::shared_ptr<NetworkFilterConfig> create(const DynamicModuleFilterSpec& spec,
                                                     std::string& error);

  const NetworkFilterHooks& hooks() const { return hooks_; }
  envoy_dynamic_module_type_network_filter_config_module_ptr moduleConfig() const {
    return module_config_;
  }

  // The module's metrics ("dynamicmodulescustom.<name>"); defining works only inside config_new.
  ModuleMetrics& metrics() { return metrics_; }
  const ModuleMetrics& metrics() const { return metrics_; }

private:
  NetworkFilterConfig() = default;

  DynamicModuleSharedPtr module_;
  NetworkFilterHooks hooks_{};
  envoy_dynamic_module_type_network_filter_config_module_ptr module_config_{nullptr};
  ModuleMetrics metrics_{"dynamicmodulescustom"}; // Envoy's DefaultMetricsNamespace.
};

using NetworkFilterConfigSharedPtr = std::shared_ptr<NetworkFilterConfig>;
using NetworkFilterChainConfig = std::vector<NetworkFilterConfigSharedPtr>;

// Builds every network filter config of a TCP listener; false with `error` set.
bool createNetworkFilterChainConfig(const std::vector<DynamicModuleFilterSpec>& specs,
                                    NetworkFilterChainConfig& chain, std::string& error);

} // namespace EnvoyTsHost
