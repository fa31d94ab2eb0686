#include "module_metrics.h"

namespace EnvoyTsHost {
namespace {

constexpr auto Success = envoy_dynamic_module_type_metrics_result_Success;
constexpr auto MetricNotFound = envoy_dynamic_module_type_metrics_result_MetricNotFound;
constexpr auto InvalidLabels = envoy_dynamic_module_type_metrics_result_InvalidLabels;
constexpr auto Frozen = envoy_dynamic_module_type_metrics_result_Frozen;

// The cached stat of kind T of a plain (unlabelled) metric.
template <class T> T* plainStat(Counter* c, Gauge* g, Histogram* h);
template <> Counter* plainStat<Counter>(Counter* c, Gauge*, Histogram*) { return c; }
template <> Gauge* plainStat<Gauge>(Counter*, Gauge* g, Histogram*) { return g; }
template <> Histogram* plainStat<Histogram>(Counter*, Gauge*, Histogram* h) { return h; }

// The stat of kind T with this full name in the process store, created on first use.
template <class T> T& storeStat(const std::string& name);
template <> Counter& storeStat<Counter>(const std::string& name) {
  return StatsStore::get().counter(name);
}
template <> Gauge& storeStat<Gauge>(const std::string& name) {
  return StatsStore::get().gauge(name);
}
template <> Histogram& storeStat<Histogram>(const std::string& name) {
  return StatsStore::get().histogram(name);
}

} // namespace

envoy_dynamic_module_type_metrics_result ModuleMetrics::define(Kind kind, const std::string& name,
                                                               const Labels& label_names,
                                                               size_t* id) {
  if (frozen_) {
    return Frozen;
  }
  Families& f = families(kind);
  const std::string full_name = prefix_ + name;
  if (!label_names.empty()) {
    f.labelled.push_back({full_name, label_names});
    *id = f.labelled.size();
    return Success;
  }
  Plain plain;
  switch (kind) {
  case Kind::Counter:
    plain.counter = &storeStat<Counter>(full_name);
    break;
  case Kind::Gauge:
    plain.gauge = &storeStat<Gauge>(full_name);
    break;
  case Kind::Histogram:
    plain.histogram = &storeStat<Histogram>(full_name);
    break;
  }
  f.plain.push_back(plain);
  *id = f.plain.size();
  return Success;
}

template <class T>
T* ModuleMetrics::resolve(Kind kind, size_t id,
                          const envoy_dynamic_module_type_module_buffer* label_values,
                          size_t label_values_length,
                          envoy_dynamic_module_type_metrics_result& result) const {
  const Families& f = families(kind);
  if (label_values_length == 0) {
    if (id == 0 || id > f.plain.size()) {
      result = MetricNotFound;
      return nullptr;
    }
    const Plain& plain = f.plain[id - 1];
    return plainStat<T>(plain.counter, plain.gauge, plain.histogram);
  }
  if (id == 0 || id > f.labelled.size()) {
    result = MetricNotFound;
    return nullptr;
  }
  const Family& family = f.labelled[id - 1];
  if (label_values == nullptr || label_values_length != family.label_names.size()) {
    result = InvalidLabels;
    return nullptr;
  }
  std::string name = family.name;
  for (size_t i = 0; i < label_values_length; ++i) {
    name += '.';
    name += family.label_names[i];
    name += '.';
    if (label_values[i].ptr != nullptr) {
      name.append(label_values[i].ptr, label_values[i].length);
    }
  }
  return &storeStat<T>(name);
}

envoy_dynamic_module_type_metrics_result
ModuleMetrics::incrementCounter(size_t id,
                                const envoy_dynamic_module_type_module_buffer* label_values,
                                size_t label_values_length, uint64_t value) const {
  envoy_dynamic_module_type_metrics_result result = Success;
  Counter* counter =
      resolve<Counter>(Kind::Counter, id, label_values, label_values_length, result);
  if (counter != nullptr) {
    counter->add(value);
  }
  return result;
}

envoy_dynamic_module_type_metrics_result
ModuleMetrics::updateGauge(size_t id, const envoy_dynamic_module_type_module_buffer* label_values,
                           size_t label_values_length, GaugeOp op, uint64_t value) const {
  envoy_dynamic_module_type_metrics_result result = Success;
  Gauge* gauge = resolve<Gauge>(Kind::Gauge, id, label_values, label_values_length, result);
  if (gauge == nullptr) {
    return result;
  }
  switch (op) {
  case GaugeOp::Increase:
    gauge->add(value);
    break;
  case GaugeOp::Decrease:
    gauge->sub(value);
    break;
  case GaugeOp::Set:
    gauge->set(value);
    break;
  }
  return result;
}

envoy_dynamic_module_type_metrics_result
ModuleMetrics::recordHistogram(size_t id,
                               const envoy_dynamic_module_type_module_buffer* label_values,
                               size_t label_values_length, uint64_t value) const {
  envoy_dynamic_module_type_metrics_result result = Success;
  Histogram* histogram =
      resolve<Histogram>(Kind::Histogram, id, label_values, label_values_length, result);
  if (histogram != nullptr) {
    histogram->record(value);
  }
  return result;
}

} // namespace EnvoyTsHost
