// Loading a filter_config on Envoy's main thread, shared by the HTTP and network config hooks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "native/bridge/codes.h"

namespace envoy_ts::module {

// A metric a config's filters declared, as Envoy defined it.
struct DefinedMetric {
  enum class Kind { Counter, Gauge, Histogram };
  Kind kind;
  size_t envoy_id;
  size_t label_count;
};

// Defines one metric in Envoy (only possible while config_new runs). False if Envoy refused.
using MetricDefiner =
    std::function<bool(DefinedMetric::Kind kind, const std::string& name,
                       const std::vector<std::string>& labels, size_t& envoy_id)>;

struct LoadedConfig {
  uint64_t id;  // runtime::ConfigRegistry id, shared by every environment
  std::vector<DefinedMetric> metrics;
  uint32_t hooks = 0;       // bridge::hookBit bits: the chain's hooks (HTTP configs)
  bool fail_open = false;   // failurePolicy "open" (HTTP and network configs)
};

// Validates `json` in the main-thread environment, defines the metrics its filters declare,
// publishes it to the workers' environments and makes sure those are prepared. Rejections are
// logged ("filter_config rejected: ...") and return nothing.
std::optional<LoadedConfig> loadFilterConfig(std::string_view filter_name, std::string json,
                                             bridge::ConfigKind kind,
                                             const MetricDefiner& define_metric);

// Main thread: the config is gone.
void unloadFilterConfig(uint64_t id);

}  // namespace envoy_ts::module
