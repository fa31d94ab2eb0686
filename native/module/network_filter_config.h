// One DynamicModuleNetworkFilter config from envoy.yaml (filter_name "chain").
#pragma once

#include <cstdint>
#include <vector>

#include "native/abi/network_filter.h"
#include "native/module/config_loading.h"

namespace envoy_ts::module {

struct NetworkFilterConfig {
  uint64_t id;  // runtime::ConfigRegistry id, shared by every environment
  envoy_dynamic_module_type_network_filter_config_envoy_ptr envoy;
  std::vector<DefinedMetric> metrics;  // by the index JS uses
  bool fail_open;                      // failurePolicy "open"
};

}  // namespace envoy_ts::module
