#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config.h"
#include "dynamic_module.h"
#include "native/abi/network_filter.h"
#include "stats.h"

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

  // The network define_* callbacks: Frozen outside config_new. The full stat name is
  // "dynamicmodulescustom.<name>" (Envoy's DefaultMetricsNamespace scope).
  envoy_dynamic_module_type_metrics_result defineCounter(const std::string& name, size_t* id);
  envoy_dynamic_module_type_metrics_result defineGauge(const std::string& name, size_t* id);
  envoy_dynamic_module_type_metrics_result defineHistogram(const std::string& name, size_t* id);
  // nullptr when `id` was not defined by this config (MetricNotFound).
  Counter* counter(size_t id) const { return id < counters_.size() ? counters_[id] : nullptr; }
  Gauge* gauge(size_t id) const { return id < gauges_.size() ? gauges_[id] : nullptr; }
  Histogram* histogram(size_t id) const {
    return id < histograms_.size() ? histograms_[id] : nullptr;
  }

private:
  NetworkFilterConfig() = default;

  DynamicModuleSharedPtr module_;
  NetworkFilterHooks hooks_{};
  envoy_dynamic_module_type_network_filter_config_module_ptr module_config_{nullptr};
  bool defining_metrics_{false};
  std::vector<Counter*> counters_;
  std::vector<Gauge*> gauges_;
  std::vector<Histogram*> histograms_;
};

using NetworkFilterConfigSharedPtr = std::shared_ptr<NetworkFilterConfig>;
using NetworkFilterChainConfig = std::vector<NetworkFilterConfigSharedPtr>;

// Builds every network filter config of a TCP listener; false with `error` set.
bool createNetworkFilterChainConfig(const std::vector<DynamicModuleFilterSpec>& specs,
                                    NetworkFilterChainConfig& chain, std::string& error);

} // namespace EnvoyTsHost
