#pragma once

#include "module_filter_config.h"

namespace EnvoyTsHost {

struct HttpFilterTraits {
  using Hooks = HttpFilterHooks;
  using ModuleConfigPtr = envoy_dynamic_module_type_http_filter_config_module_ptr;
  static constexpr const char* kKind = "filter";
  static constexpr auto kResolve = &DynamicModule::resolveHttpFilterHooks;
};

// One DynamicModuleFilter of an HTTP filter chain (Envoy's DynamicModuleHttpFilterConfig).
using HttpFilterConfig = ModuleFilterConfig<HttpFilterTraits>;
using HttpFilterConfigSharedPtr = std::shared_ptr<HttpFilterConfig>;
using FilterChainConfig = std::vector<HttpFilterConfigSharedPtr>;

inline bool createFilterChainConfig(const std::vector<DynamicModuleFilterSpec>& specs,
                                    FilterChainConfig& chain, std::string& error) {
  return createModuleFilterChain(specs, chain, error);
}

} // namespace EnvoyTsHost
