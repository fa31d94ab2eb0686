// One DynamicModuleFilter config from envoy.yaml (filter_name "chain").
#pragma once

#include <cstdint>
#include <string>

#include "native/abi/http_filter.h"

namespace envoy_ts::module {

// The filter_name envoy.yaml selects the TypeScript chain with.
inline constexpr std::string_view kChainFilterName = "chain";

struct HttpFilterConfig {
  uint64_t id;  // runtime::ConfigRegistry id, shared by every environment
  envoy_dynamic_module_type_http_filter_config_envoy_ptr envoy;
};

}  // namespace envoy_ts::module
