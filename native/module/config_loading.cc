#include "native/module/config_loading.h"

#include <algorithm>
#include <cstdlib>
#include <thread>

#include "native/abi/types.h"
#include "native/bridge/bridge.h"
#include "native/runtime/config_registry.h"
#include "native/runtime/environment.h"
#include "native/runtime/environment_pool.h"
#include "native/runtime/log.h"

namespace envoy_ts::module {
namespace {

using runtime::Environment;
using runtime::LogLevel;

// The filter_name envoy.yaml selects the TypeScript chain with (HTTP and network alike).
constexpr std::string_view kChainFilterName = "chain";

Environment* mainThreadEnvironment(std::string& error) {
  if (Environment* env = Environment::current()) {
    return env;
  }
  auto env = Environment::create(Environment::Role::MainThread, bridge::Bridge::initBinding, error);
  if (env == nullptr) {
    return nullptr;
  }
  Environment* raw = env.get();
  Environment::setCurrent(std::move(env));
  return raw;
}

// How many worker environments to prepare: ENVOY_TS_WORKER_ENVIRONMENTS, else Envoy's worker
// count, else the number of hardware threads (Envoy's default --concurrency).
size_t workerEnvironmentCount() {
  if (const char* configured = std::getenv("ENVOY_TS_WORKER_ENVIRONMENTS")) {
    long count = std::strtol(configured, nullptr, 10);
    if (count >= 0) {
      return static_cast<size_t>(count);
    }
  }
  if (envoy_dynamic_module_callback_get_concurrency != nullptr) {
    return envoy_dynamic_module_callback_get_concurrency();
  }
  return std::max(1u, std::thread::hardware_concurrency());
}

void reject(const std::string& why) {
  runtime::log(LogLevel::Error, "filter_config rejected: " + why);
}

std::optional<DefinedMetric::Kind> metricKind(const std::string& kind) {
  if (kind == "counter") {
    return DefinedMetric::Kind::Counter;
  }
  if (kind == "gauge") {
    return DefinedMetric::Kind::Gauge;
  }
  if (kind == "histogram") {
    return DefinedMetric::Kind::Histogram;
  }
  return std::nullopt;
}

}  // namespace

std::optional<LoadedConfig> loadFilterConfig(std::string_view filter_name, std::string json,
                                             bridge::ConfigKind kind,
                                             const MetricDefiner& define_metric) {
  if (filter_name != kChainFilterName) {
    const char* field = kind == bridge::ConfigKind::Route ? "per_route_config_name" : "filter_name";
    reject(std::string(field) + " \"" + std::string(filter_name) + "\" is unknown; envoy-ts uses " +
           field + ": chain");
    return std::nullopt;
  }
  std::string error;
  Environment* env = mainThreadEnvironment(error);
  if (env == nullptr) {
    reject(error);
    return std::nullopt;
  }
  runtime::ConfigRegistry& registry = runtime::ConfigRegistry::instance();
  LoadedConfig loaded{registry.reserveId(), {}, 0};
  bridge::Bridge& bridge = bridge::Bridge::of(*env);
  std::vector<bridge::Bridge::MetricDeclaration> declared;
  {
    Environment::CallScope scope(*env);
    error = bridge.loadConfig(loaded.id, json, kind);
    if (error.empty()) {
      declared = bridge.describeMetrics(loaded.id);
      if (kind == bridge::ConfigKind::Http) {
        loaded.body_hooks = bridge.bodyHooks(loaded.id);
      }
    }
    env->pump();
  }
  if (!error.empty()) {
    reject(error);
    return std::nullopt;
  }
  // Envoy only allows defining metrics while config_new runs.
  for (const auto& metric : declared) {
    std::optional<DefinedMetric::Kind> metric_kind = metricKind(metric.kind);
    size_t envoy_id = 0;
    if (!metric_kind || !define_metric(*metric_kind, metric.name, metric.labels, envoy_id)) {
      Environment::CallScope scope(*env);
      bridge.unloadConfig(loaded.id);
      reject("Envoy refused to define the " + metric.kind + " '" + metric.name + "'");
      return std::nullopt;
    }
    loaded.metrics.push_back({*metric_kind, envoy_id, metric.labels.size()});
  }
  registry.add(loaded.id, {std::move(json), static_cast<uint32_t>(kind)});
  runtime::EnvironmentPool::prepare(workerEnvironmentCount());
  return loaded;
}

void unloadFilterConfig(uint64_t id) {
  runtime::ConfigRegistry::instance().remove(id);
  if (Environment* env = Environment::current()) {
    Environment::CallScope scope(*env);
    bridge::Bridge::of(*env).unloadConfig(id);
  }
}

}  // namespace envoy_ts::module
