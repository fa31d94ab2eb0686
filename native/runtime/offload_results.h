// Results of ctx.offload tasks that pool threads hand straight to their environment (DESIGN.md §3):
// the pool thread queues the result here and commits the event on a waiting stream's scheduler
// itself, so no thread stands between the task's end and the worker (the result's message through
// the loop would need the waker thread to see it). The worker takes the results when it pumps the
// loop and the runtime settles the offload promises. V8-free: results are bytes (V8's serializer).
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <vector>

#include "native/runtime/loop_waker.h"

namespace envoy_ts::runtime {

class OffloadResults {
 public:
  struct Result {
    uint64_t task_id = 0;
    bool failed = false;         // the task threw: `bytes` hold what it threw
    std::vector<uint8_t> bytes;  // the value, as v8::ValueSerializer wrote it
  };

  // Worker thread: the waker of the environment's streams, or null once it goes (before it is
  // destroyed). Without one, results still queue: the worker takes them at its next pump.
  void setWaker(LoopWaker* waker);

  // Any thread: queues `result` and wakes the newest waiting stream unless an event is on its way.
  void add(Result result);

  // Worker thread: whether results wait to be taken. Lock-free: the pump asks on every call.
  bool waiting() const { return waiting_.load(std::memory_order_acquire); }
  // Worker thread: the results queued so far, oldest first.
  std::vector<Result> take();

  // How many results went this way, and how many of them committed a stream's event from the
  // pool thread (the rest found one on its way, or no stream waiting).
  struct Counts {
    uint64_t results = 0;
    uint64_t wakes = 0;
  };
  Counts counts() const;

 private:
  mutable std::mutex mu_;
  std::vector<Result> queued_;       // guarded by mu_
  LoopWaker* waker_ = nullptr;       // guarded by mu_: a pool thread wakes under it
  Counts counts_;                    // guarded by mu_
  std::atomic<bool> waiting_{false};  // !queued_.empty(), for the lock-free check
};

}  // namespace envoy_ts::runtime
