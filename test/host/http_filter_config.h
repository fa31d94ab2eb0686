#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config.h"
#include "dynamic_module.h"
#include "module_metrics.h"

namespace EnvoyTsHost {

// One dynamic-module filter of a chain (Envoy's DynamicModuleHttpFilterConfig). Built and destroyed
// on the main thread; shared read-only by the workers in between. Its address is the
// config_envoy pointer given to the module.
class HttpFilterConfig {
public:
  ~HttpFilterConfig();

  // Loads the module, resolves the hooks and calls config_new. nullptr with `error` set.
  static std::shared_ptr<HttpFilterConfig> create(const DynamicModuleFilterSpec& spec,
                                                  std::string& error);

  const HttpFilterHooks& hooks() const { return hooks_; }
  envoy_dynamic_module_type_http_filter_config_module_ptr moduleConfig() const {
    return module_config_;
  }

  // The module's metrics ("dynamicmodulescustom.<name>[.<label>.<value>]..."); defining works
  // only inside config_new (Envoy freezes stat creation once it returns).
  ModuleMetrics& metrics() { return metrics_; }
  const ModuleMetrics& metrics() const { return metrics_; }

private:
  HttpFilterConfig() = default;

  DynamicModuleSharedPtr module_;
  HttpFilterHooks hooks_{};
  envoy_dynamic_module_type_http_filter_config_module_ptr module_config_{nullptr};
  ModuleMetrics metrics_{"dynamicmodulescustom"}; // Envoy's HttpFilters::DefaultMetricsNamespace.
};

using HttpFilterConfigSharedPtr = std::shared_ptr<HttpFilterConfig>;
using FilterChainConfig = std::vector<HttpFilterConfigSharedPtr>;

// Builds every dynamic-module filter config of a chain; false with `error` set.
bool createFilterChainConfig(const std::vector<DynamicModuleFilterSpec>& specs,
                             FilterChainConfig& chain, std::string& error);

} // namespace EnvoyTsHost
