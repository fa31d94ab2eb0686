#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <random>

namespace EnvoyTsHost {

// Envoy's --drain-strategy: how likely a draining connection is to be closed before the drain
// time ends.
enum class DrainStrategy { Gradual, Immediate };

// Whether the connections of one listener version should close (Envoy's Network::DrainDecision).
// The main thread starts draining once; workers ask drainClose() when a response starts (the
// HTTP connection manager's check before encoding the response headers). Two kinds, as in Envoy:
// - a filter chain replaced by an in-place update (filter_chain_manager_impl.cc
//   PerFilterChainFactoryContextImpl::drainClose: `is_draining_` is set, so always true);
// - a listener replaced by a full update, or removed (drain_manager_impl.cc
//   DrainManagerImpl::drainClose: always true with the immediate strategy; with gradual, true with
//   probability elapsed time / drain time, and always once the drain time is over).
class DrainDecision {
public:
  // Main thread.
  void startDraining(bool filter_chain, std::chrono::seconds drain_time, DrainStrategy strategy) {
    const auto now = std::chrono::steady_clock::now().time_since_epoch();
    start_ns_.store(std::chrono::duration_cast<std::chrono::nanoseconds>(now).count());
    drain_ns_.store(std::chrono::duration_cast<std::chrono::nanoseconds>(drain_time).count());
    always_.store(filter_chain || strategy == DrainStrategy::Immediate || drain_time.count() == 0);
    // Last (seq_cst): a worker that sees draining_ sees the fields above.
    draining_.store(true);
  }

  bool draining() const { return draining_.load(); }

  // Any thread.
  bool drainClose() const {
    if (!draining_.load()) {
      return false;
    }
    if (always_.load()) {
      return true;
    }
    const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                            std::chrono::steady_clock::now().time_since_epoch())
                            .count();
    const int64_t elapsed = now - start_ns_.load();
    const int64_t drain = drain_ns_.load();
    if (elapsed >= drain) {
      return true;
    }
    thread_local std::mt19937_64 random{std::random_device{}()};
    return static_cast<uint64_t>(elapsed) > random() % static_cast<uint64_t>(drain);
  }

private:
  std::atomic<bool> draining_{false};
  std::atomic<bool> always_{false};
  std::atomic<int64_t> start_ns_{0};
  std::atomic<int64_t> drain_ns_{0};
};

} // namespace EnvoyTsHost
