#pragma once

#include "module_filter_config.h"
#include "native/abi/network_filter.h"

namespace EnvoyTsHost {

struct NetworkFilterTraits {
  using Hooks = NetworkFilterHooks;
  using ModuleConfigPtr = envoy_dynamic_module_type_network_filter_config_module_ptr;
  static constexpr const char* kKind = "network filter";
  static constexpr auto kResolve = &DynamicModule::resolveNetworkFilterHooks;
};

// One DynamicModuleNetworkFilter of a TCP listener (Envoy's DynamicModuleNetworkFilterConfig).
using NetworkFilterConfig = ModuleFilterConfig<NetworkFilterTraits>;
using NetworkFilterConfigSharedPtr = std::shared_ptr<NetworkFilterConfig>;
using NetworkFilterChainConfig = std::vector<NetworkFilterConfigSharedPtr>;

inline bool createNetworkFilterChainConfig(const std::vector<DynamicModuleFilterSpec>& specs,
                                           NetworkFilterChainConfig& chain, std::string& error) {
  return createModuleFilterChain(specs, chain, error);
}

} // namespace EnvoyTsHost
