#pragma once

#include <map>
#include <memory>
#include <string>

#include "config.h"
#include "dynamic_module.h"

namespace EnvoyTsHost {

// One DynamicModuleFilterPerRoute of a route or virtual host (Envoy's
// DynamicModuleHttpPerRouteFilterConfig): its own reference to the module, and the module's
// per-route config pointer. Built and destroyed on the main thread with the route table; shared
// read-only by the workers in between.
class HttpPerRouteConfig {
public:
  // Calls the module's per_route_config_destroy.
  ~HttpPerRouteConfig();

  // Loads the module like a filter config does (NOLOAD reuse, same flags), resolves the two
  // per-route hooks and calls per_route_config_new. nullptr with `error` set (naming spec.path).
  static std::shared_ptr<const HttpPerRouteConfig> create(const PerRouteConfigSpec& spec,
                                                          std::string& error);

  envoy_dynamic_module_type_http_filter_per_route_config_module_ptr moduleConfig() const {
    return module_config_;
  }

private:
  HttpPerRouteConfig() = default;

  DynamicModuleSharedPtr module_;
  HttpPerRouteConfigHooks hooks_{};
  envoy_dynamic_module_type_http_filter_per_route_config_module_ptr module_config_{nullptr};
};

using HttpPerRouteConfigConstSharedPtr = std::shared_ptr<const HttpPerRouteConfig>;

// The typed_per_filter_config of one route or virtual host: http filter name -> config.
using PerFilterConfigs = std::map<std::string, HttpPerRouteConfigConstSharedPtr>;

// Builds every entry of `specs` in order; false with `error` set.
bool createPerFilterConfigs(const PerFilterConfigSpecs& specs, PerFilterConfigs& configs,
                            std::string& error);

} // namespace EnvoyTsHost
