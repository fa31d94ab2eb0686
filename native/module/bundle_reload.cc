#include "native/module/bundle_reload.h"

#include <chrono>
#include <string>

#include "native/bridge/bridge.h"
#include "native/runtime/config_registry.h"
#include "native/runtime/environment.h"
#include "native/runtime/environment_pool.h"
#include "native/runtime/log.h"

namespace envoy_ts::module {

using runtime::LogLevel;

// Why a prepared environment and not the main thread's: the main thread belongs to Envoy, and
// Envoy offers a module no way onto it outside config_new (no HTTP config scheduler in the ABI
// this module targets). A prepared environment is a real worker environment, not yet taken by a
// worker, so validating there is validating where the code will run; while it is attached here
// the pool's lock keeps workers from taking it (runtime::EnvironmentPool::forEachPrepared).
// Metrics need no main thread either: a reload may only use the metrics Envoy already defined.
bool reloadWatchedConfig(uint64_t config_id) {
  runtime::ConfigRegistry& registry = runtime::ConfigRegistry::instance();
  bool validated = false;
  bool gone = false;  // the config was destroyed meanwhile: nothing to say
  std::string error;
  std::shared_ptr<const runtime::BundleSource> fresh;
  std::string path;
  uint64_t revision = 0;
  const auto started = std::chrono::steady_clock::now();
  runtime::EnvironmentPool::forEachPrepared([&](runtime::Environment& env) {
    runtime::Environment::CallScope scope(env);
    bridge::Bridge& bridge = bridge::Bridge::of(env);
    bridge.syncConfigs();  // up to date with every config and revision, this one included
    if (!validated) {
      // The first (the spare): validate the file's new version.
      validated = true;
      auto before = bridge.bundleOf(config_id);
      if (!before) {
        gone = true;
        return false;
      }
      path = before->source->path;
      error = bridge.reloadConfig(config_id);
      auto after = bridge.bundleOf(config_id);
      if (!error.empty() || !after || after->source->hash == before->source->hash) {
        return false;  // rejected, or unchanged
      }
      fresh = after->source;
      revision = registry.replaceBundle(config_id, fresh);
      bridge.noteRevision(config_id, revision);
      return revision != 0;
    }
    return true;  // the others load the new revision like any worker (syncConfigs)
  });
  if (!validated) {
    runtime::log(LogLevel::Debug, "watch: no prepared environment to validate filter config " +
                                      std::to_string(config_id) + " in yet; trying again");
    return false;
  }
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - started)
                      .count();
  if (gone) {
    return true;
  }
  if (!error.empty()) {
    runtime::log(LogLevel::Error, "watch: the new version of " + path +
                                      " was rejected, the running version keeps serving: " + error);
  } else if (fresh != nullptr && revision != 0) {
    runtime::log(LogLevel::Info, "watch: reloaded " + path + " (version " +
                                     fresh->hash.substr(0, 12) + ", filter config " +
                                     std::to_string(config_id) + " revision " +
                                     std::to_string(revision) + ", validated in " +
                                     std::to_string(ms) + " ms); new streams get it");
  }
  return true;
}

}  // namespace envoy_ts::module
