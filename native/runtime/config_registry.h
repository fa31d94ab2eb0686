// The filter configs Envoy has loaded, shared by every environment of the process.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace envoy_ts::runtime {

// One version of a bundle, as the environment that validated a config read it: every other
// environment compiles this source rather than reading the file again, so none runs a file that
// changed after validation (ts-filters/runtime/bundle-versions.ts).
struct BundleSource {
  std::string path;  // resolved
  std::string hash;  // SHA-256 of `source`, hex
  std::string source;
};

// Configs are created and destroyed on Envoy's main thread; a watch-mode reload (on the bundle
// watcher's thread) gives one a new revision. Each worker environment loads the configs and
// revisions it has not seen before its next stream that needs them, ahead of it where another
// stream gives the worker a moment (see bridge::Bridge::syncConfigs, HttpStream::loadConfigsAhead).
// Thread-safety: every member function takes mu_; the generation is an atomic read without it.
class ConfigRegistry {
 public:
  static ConfigRegistry& instance();

  struct Config {
    std::string json;
    uint32_t kind;  // which Envoy filter it configures (bridge::ConfigKind)
    // Null when the runtime had no bundle file to report (it loaded none). Shared, immutable.
    std::shared_ptr<const BundleSource> bundle;
    uint64_t revision = 0;  // bumped by each reload of its bundle (watch mode)
  };

  // An id for a config being validated; it is published by add() once valid.
  uint64_t reserveId();
  void add(uint64_t id, Config config);
  void remove(uint64_t id);
  // A reload of config `id`'s bundle was validated: environments load `bundle` for it from now on.
  // Returns the config's new revision, or 0 if the config is gone.
  uint64_t replaceBundle(uint64_t id, std::shared_ptr<const BundleSource> bundle);

  // Bumped on every change; cheap to compare on the hot path.
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }
  bool empty() const;
  // The revision config `id` has now; nullopt when it is not live.
  std::optional<uint64_t> revisionOf(uint64_t id) const;
  // A copy of the live configs (the bundles are shared, not copied).
  std::map<uint64_t, Config> snapshot() const;

 private:
  mutable std::mutex mu_;
  std::map<uint64_t, Config> configs_;       // guarded by mu_
  uint64_t next_id_ = 1;                     // guarded by mu_
  std::atomic<uint64_t> generation_{0};
};

}  // namespace envoy_ts::runtime
