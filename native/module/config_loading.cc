#include "native/module/config_loading.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <thread>

#include "native/abi/types.h"
#include "native/bridge/bridge.h"
#include "native/runtime/bundle_watcher.h"
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

// ENVOY_TS_WORKER_ENVIRONMENTS is at most this (each environment costs about 13 MiB).
constexpr long kMaxWorkerEnvironments = 256;
constexpr const char* kWorkerEnvironmentsVariable = "ENVOY_TS_WORKER_ENVIRONMENTS";

// How many worker environments to prepare: Envoy's worker count, or ENVOY_TS_WORKER_ENVIRONMENTS
// (for Envoy builds that cannot say; never more than Envoy's workers), else the number of hardware
// threads (Envoy's default --concurrency). Sets `error` when the variable is not a valid count.
size_t workerEnvironmentCount(std::string& error) {
  const bool envoy_knows = envoy_dynamic_module_callback_get_concurrency != nullptr;
  const size_t workers = envoy_knows ? envoy_dynamic_module_callback_get_concurrency()
                                     : std::max(1u, std::thread::hardware_concurrency());
  const char* configured = std::getenv(kWorkerEnvironmentsVariable);
  if (configured == nullptr) {
    return workers;
  }
  char* end = nullptr;
  errno = 0;
  long count = std::strtol(configured, &end, 10);
  if (*configured == '\0' || *end != '\0' || errno != 0 || count < 0 ||
      count > kMaxWorkerEnvironments) {
    error = std::string(kWorkerEnvironmentsVariable) + " must be a whole number from 0 to " +
            std::to_string(kMaxWorkerEnvironments) + ", got \"" + configured + "\"";
    return 0;
  }
  if (envoy_knows && static_cast<size_t>(count) > workers) {
    runtime::log(LogLevel::Warn, std::string(kWorkerEnvironmentsVariable) + "=" + configured +
                                     " is more than Envoy's " + std::to_string(workers) +
                                     " workers; preparing " + std::to_string(workers));
    return workers;
  }
  return static_cast<size_t>(count);
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
  const size_t worker_environments = workerEnvironmentCount(error);
  if (!error.empty()) {
    reject(error);
    return std::nullopt;
  }
  Environment* env = mainThreadEnvironment(error);
  if (env == nullptr) {
    reject(error);
    return std::nullopt;
  }
  runtime::ConfigRegistry& registry = runtime::ConfigRegistry::instance();
  LoadedConfig loaded{registry.reserveId(), {}, 0, false};
  bridge::Bridge& bridge = bridge::Bridge::of(*env);
  std::vector<bridge::Bridge::MetricDeclaration> declared;
  std::optional<bridge::Bridge::LoadedBundle> bundle;
  {
    Environment::CallScope scope(*env);
    error = bridge.loadConfig(loaded.id, json, kind);
    if (error.empty()) {
      bundle = bridge.bundleOf(loaded.id);
      declared = bridge.describeMetrics(loaded.id);
      if (kind == bridge::ConfigKind::Http) {
        loaded.hooks = bridge.hookMask(loaded.id);
      }
      if (kind != bridge::ConfigKind::Route) {
        loaded.fail_open = bridge.failOpen(loaded.id);
      }
    }
    env->pump();
  }
  if (env->broken() != Environment::Broken::No) {
    // Logged when it broke; the next config load makes a new one.
    Environment::discardMainThread();
    reject("the main thread's Node.js environment ran out of memory while loading it: " + error);
    return std::nullopt;
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
  const bool watch = bundle && bundle->watch;
  if (watch && kind == bridge::ConfigKind::Http) {
    // A reloaded version may add hooks: every hook goes to JavaScript (correct for any chain).
    loaded.hooks = bridge::kAllHooks;
  }
  // Every environment compiles the source validated here, not what the file holds when it loads.
  registry.add(loaded.id, {std::move(json), static_cast<uint32_t>(kind),
                           bundle ? bundle->source : nullptr, 0});
  // Validated where it will run: a config that a worker environment cannot load is rejected too.
  error = runtime::EnvironmentPool::prepare(worker_environments, loaded.id);
  if (!error.empty()) {
    registry.remove(loaded.id);
    Environment::CallScope scope(*env);
    bridge.unloadConfig(loaded.id);
    reject("a worker's Node.js environment could not load it: " + error);
    return std::nullopt;
  }
  if (watch) {
    error = runtime::BundleWatcher::watch(loaded.id, bundle->source->path);
    if (!error.empty()) {
      unloadFilterConfig(loaded.id);
      reject("\"watch\": " + error);
      return std::nullopt;
    }
    runtime::log(LogLevel::Info, "watch: reloading " + bundle->source->path +
                                     " when it changes (filter config " +
                                     std::to_string(loaded.id) + ")");
  }
  return loaded;
}

void unloadFilterConfig(uint64_t id) {
  runtime::BundleWatcher::unwatch(id);  // first: no reload of it starts after this
  runtime::ConfigRegistry& registry = runtime::ConfigRegistry::instance();
  registry.remove(id);
  if (registry.empty()) {
    runtime::EnvironmentPool::finishBackgroundWork();
  }
  if (Environment* env = Environment::current()) {
    Environment::CallScope scope(*env);
    bridge::Bridge::of(*env).unloadConfig(id);
  }
}

}  // namespace envoy_ts::module
