// One DynamicModuleFilter config from envoy.yaml (filter_name "chain").
#pragma once

#include <cstdint>
#include <vector>

#include "native/abi/http_filter.h"
#include "native/module/config_loading.h"

namespace envoy_ts::module {

struct HttpFilterConfig {
  uint64_t id;  // runtime::ConfigRegistry id, shared by every environment
  envoy_dynamic_module_type_http_filter_config_envoy_ptr envoy;
  std::vector<DefinedMetric> metrics;
  uint32_t hooks;       // bridge::hookBit bits: which hooks the chain has
  bool fail_open;       // failurePolicy "open"
};

// One DynamicModuleFilterPerRoute (per_route_config_name "chain"): overrides of a route.
struct PerRouteConfig {
  uint64_t id;  // runtime::ConfigRegistry id
};

}  // namespace envoy_ts::module
