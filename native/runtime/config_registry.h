// The filter configs Envoy has loaded, shared by every environment of the process.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace envoy_ts::runtime {

// Configs are created and destroyed on Envoy's main thread; each worker environment loads the
// ones it has not seen before its next stream (see bridge::Bridge::syncConfigs).
class ConfigRegistry {
 public:
  static ConfigRegistry& instance();

  struct Config {
    std::string json;
    uint32_t kind;  // which Envoy filter it configures (bridge::ConfigKind)
  };

  // An id for a config being validated; it is published by add() once valid.
  uint64_t reserveId();
  void add(uint64_t id, Config config);
  void remove(uint64_t id);

  // Bumped on every change; cheap to compare on the hot path.
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }
  bool empty() const;
  // A copy of the live configs.
  std::map<uint64_t, Config> snapshot() const;

 private:
  mutable std::mutex mu_;
  std::map<uint64_t, Config> configs_;       // guarded by mu_
  uint64_t next_id_ = 1;                     // guarded by mu_
  std::atomic<uint64_t> generation_{0};
};

}  // namespace envoy_ts::runtime
