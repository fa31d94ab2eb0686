#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "native/abi/metrics.h"
#include "native/abi/types.h"
#include "stats.h"

namespace EnvoyTsHost {

// The metrics one dynamic-module filter config defines (Envoy's DynamicModules::MetricRegistry,
// shared by the HTTP and network filter configs): counters, gauges and histograms in the process
// stats store under "<namespace>.<name>", each with optional label names fixed at definition.
//
// As in Envoy, a metric defined without labels and one defined with labels get ids from two
// separate 1-based sequences per kind (0 is never an id), and a record with no label values looks
// the id up among the unlabelled ones, a record with label values among the labelled ones. A
// labelled record resolves the stat "<namespace>.<name>.<label_name_1>.<label_value_1>..." (Envoy's
// name with tags, which its text /stats prints).
//
// Defining is allowed until freeze() (called once the module's config_new hook returned), then
// returns Frozen; after that the registry is read-only, so workers record without locking it.
class ModuleMetrics {
public:
  enum class Kind { Counter, Gauge, Histogram };
  enum class GaugeOp { Increase, Decrease, Set };
  using Labels = std::vector<std::string>;

  // `metrics_namespace` is Envoy's DefaultMetricsNamespace, "dynamicmodulescustom".
  explicit ModuleMetrics(std::string metrics_namespace)
      : prefix_(std::move(metrics_namespace) + ".") {}

  void freeze() { frozen_ = true; }

  envoy_dynamic_module_type_metrics_result define(Kind kind, const std::string& name,
                                                  const Labels& label_names, size_t* id);

  // `label_values` may be null when `label_values_length` is 0.
  envoy_dynamic_module_type_metrics_result
  incrementCounter(size_t id, const envoy_dynamic_module_type_module_buffer* label_values,
                   size_t label_values_length, uint64_t value) const;
  envoy_dynamic_module_type_metrics_result
  updateGauge(size_t id, const envoy_dynamic_module_type_module_buffer* label_values,
              size_t label_values_length, GaugeOp op, uint64_t value) const;
  envoy_dynamic_module_type_metrics_result
  recordHistogram(size_t id, const envoy_dynamic_module_type_module_buffer* label_values,
                  size_t label_values_length, uint64_t value) const;

private:
  struct Family {
    std::string name; // Full name without labels.
    Labels label_names;
  };
  struct Plain { // Created at definition, so it shows in /stats before any record.
    Counter* counter{nullptr};
    Gauge* gauge{nullptr};
    Histogram* histogram{nullptr};
  };
  struct Families {
    std::vector<Plain> plain;
    std::vector<Family> labelled;
  };

  Families& families(Kind kind) { return families_[static_cast<size_t>(kind)]; }
  const Families& families(Kind kind) const { return families_[static_cast<size_t>(kind)]; }
  // The stat `id` (with these label values) stands for, or nullptr with `result` set: a plain
  // metric's cached stat, or a labelled one looked up by its full name.
  template <class T>
  T* resolve(Kind kind, size_t id, const envoy_dynamic_module_type_module_buffer* label_values,
             size_t label_values_length, envoy_dynamic_module_type_metrics_result& result) const;

  const std::string prefix_;
  bool frozen_{false};
  Families families_[3];
};

} // namespace EnvoyTsHost
