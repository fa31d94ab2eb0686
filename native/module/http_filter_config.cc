// Config hooks (main thread): validate a filter_config in the main-thread environment, publish it
// to the workers' environments, and have those prepared before traffic.
#include "native/module/http_filter_config.h"

#include <algorithm>
#include <cstdlib>
#include <string>
#include <thread>

#include "native/bridge/bridge.h"
#include "native/runtime/config_registry.h"
#include "native/runtime/environment.h"
#include "native/runtime/environment_pool.h"
#include "native/runtime/log.h"

namespace envoy_ts::module {
namespace {

using runtime::Environment;
using runtime::LogLevel;

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

}  // namespace
}  // namespace envoy_ts::module

using envoy_ts::module::HttpFilterConfig;

extern "C" envoy_dynamic_module_type_http_filter_config_module_ptr
envoy_dynamic_module_on_http_filter_config_new(
    envoy_dynamic_module_type_http_filter_config_envoy_ptr config_envoy,
    envoy_dynamic_module_type_envoy_buffer name, envoy_dynamic_module_type_envoy_buffer config) {
  using namespace envoy_ts;
  std::string_view filter_name(name.ptr == nullptr ? "" : name.ptr, name.length);
  if (filter_name != module::kChainFilterName) {
    module::reject("filter_name \"" + std::string(filter_name) +
                   "\" is unknown; envoy-ts HTTP filters use filter_name: chain");
    return nullptr;
  }
  std::string json(config.ptr == nullptr ? "" : config.ptr, config.length);
  std::string error;
  runtime::Environment* env = module::mainThreadEnvironment(error);
  if (env == nullptr) {
    module::reject(error);
    return nullptr;
  }
  runtime::ConfigRegistry& registry = runtime::ConfigRegistry::instance();
  uint64_t id = registry.reserveId();
  {
    runtime::Environment::CallScope scope(*env);
    error = bridge::Bridge::of(*env).loadConfig(id, json);
    env->pump();
  }
  if (!error.empty()) {
    module::reject(error);
    return nullptr;
  }
  registry.add(id, std::move(json));
  runtime::EnvironmentPool::prepare(module::workerEnvironmentCount());
  return new HttpFilterConfig{id, config_envoy};
}

extern "C" void envoy_dynamic_module_on_http_filter_config_destroy(
    envoy_dynamic_module_type_http_filter_config_module_ptr config_module) {
  using namespace envoy_ts;
  auto* config = static_cast<const HttpFilterConfig*>(config_module);
  runtime::ConfigRegistry::instance().remove(config->id);
  if (runtime::Environment* env = runtime::Environment::current()) {
    runtime::Environment::CallScope scope(*env);
    bridge::Bridge::of(*env).unloadConfig(config->id);
  }
  delete config;
}
