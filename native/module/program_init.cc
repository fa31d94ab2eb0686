// envoy_dynamic_module_on_program_init: the module's entry point (main thread, once).
#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "native/abi/types.h"
#include "native/bridge/bridge.h"
#include "native/module/bundle_reload.h"
#include "native/module/envoy_log.h"
#include "native/runtime/bundle_watcher.h"
#include "native/runtime/environment_pool.h"
#include "native/runtime/log.h"
#include "native/runtime/node_process.h"

namespace envoy_ts::module {
namespace {

using runtime::LogLevel;

// Set in the process environment by the first copy of the module that starts Node. A second
// copy (the module unloaded and loaded again, or loaded from two paths) would re-initialise V8,
// which crashes; it refuses instead.
constexpr const char* kLoadedMarker = "ENVOY_TS_NODE_STARTED_IN_PID";

// V8 cannot be unloaded: keep this library resident even if Envoy dlcloses it (a config without
// do_not_close: true). Envoy then finds it still loaded and reuses it without a second init.
void pinModule() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&pinModule), &info) != 0 && info.dli_fname != nullptr) {
    dlopen(info.dli_fname, RTLD_LAZY | RTLD_NOLOAD | RTLD_NODELETE);
  }
}

bool startedByAnotherCopy() {
  const char* marker = std::getenv(kLoadedMarker);
  return marker != nullptr && std::to_string(getpid()) == marker;
}

// A call into the environment like any other: under the CPU budget, and a heap that runs out
// breaks the environment (the pool then drops it).
std::string warmEnvironment(runtime::Environment& env, uint64_t config_id) {
  runtime::Environment::CallScope scope(env);
  bridge::Bridge& bridge = bridge::Bridge::of(env);
  bridge.syncConfigs();
  return bridge.configError(config_id);
}

}  // namespace
}  // namespace envoy_ts::module

extern "C" const char* envoy_dynamic_module_on_program_init(void) {
  using namespace envoy_ts;
  runtime::setLogSink(module::envoyLogSink());
  if (module::startedByAnotherCopy()) {
    runtime::log(runtime::LogLevel::Critical,
                 "Node.js was already started in this process by another copy of libenvoy_ts.so "
                 "(was the module unloaded and loaded again?). V8 cannot be initialised twice: "
                 "refusing to load. Load it from one path, with do_not_close: true.");
    return nullptr;
  }
  std::string error;
  if (!runtime::NodeProcess::initialize(error)) {
    runtime::log(runtime::LogLevel::Critical, error);
    return nullptr;
  }
  setenv(module::kLoadedMarker, std::to_string(getpid()).c_str(), 1);
  module::pinModule();
  runtime::EnvironmentPool::configure(bridge::Bridge::initBinding, module::warmEnvironment);
  runtime::BundleWatcher::configure(module::reloadWatchedConfig);
  return ENVOY_TS_TARGET_ABI_VERSION;
}
