// The CPU budget (DESIGN.md §6): one thread for the process terminates JavaScript that runs past
// its budget. A worker only writes to its environment's watch slots when it enters JavaScript (no
// syscall, no lock); the watchdog polls the slots and reads the worker thread's CPU clock.
#pragma once

#include <pthread.h>
#include <time.h>

#include <atomic>
#include <cstdint>
#include <string>

namespace v8 {
class Isolate;
}

namespace envoy_ts::runtime {

// Indexes of an environment's watch slots, an Int32Array shared with JS (ts-filters/runtime/codes.ts
// WatchSlot must match).
struct WatchSlot {
  // Odd while JavaScript runs a budgeted section, even otherwise. Bumped by 2 when a new section
  // starts inside the same entry (a filter's hook, a loop pump): each section has its own budget.
  static constexpr int kSequence = 0;
  // The budget of the running section, in milliseconds of CPU time (0: none).
  static constexpr int kBudgetMs = 1;
  // The budget of sections that are not a filter's hook (the runtime, the loop pump's timers and
  // callbacks): the largest budget of the configs the environment holds.
  static constexpr int kDefaultBudgetMs = 2;
  // Not the watchdog's: 1 while the waker thread runs the environment's loop in inspect mode
  // (idle_turns.cc), when binding calls that reach Envoy must fail (ts-filters/runtime/
  // inspector.ts reads it).
  static constexpr int kOffThread = 3;
  static constexpr int kCount = 16;
};

// What the watchdog found: a section ran past its budget and was terminated.
struct BudgetOverrun {
  int32_t budget_ms = 0;
  std::string stack;  // where the JavaScript was when it was stopped
};

class CpuWatchdog {
 public:
  // One environment's state as the watchdog sees it. Owned by the environment; registered while
  // the environment lives.
  class Watched {
   public:
    Watched() = default;
    Watched(const Watched&) = delete;
    Watched& operator=(const Watched&) = delete;

    // Owner thread: the memory JS writes the slots to (it must stay valid while watched).
    void setSlots(int32_t* slots);
    int32_t* slots() const { return slots_; }
    // Owner thread, when the environment moves to a thread: whose CPU clock counts.
    void setThread(pthread_t thread);

    // Owner thread: a budgeted section starts (`restart`: a new one inside the running entry) or
    // the outermost entry ends.
    void enter() { startSection(next(1)); }
    void restart() { startSection(next(2)); }
    void leave() { store(WatchSlot::kSequence, next(1)); }

    // Owner thread: JavaScript was terminated for running past its budget; takes what was found.
    bool overrunPending() const { return overrun_pending_; }
    BudgetOverrun takeOverrun();

    // Owner thread, from the interrupt the watchdog requested: stop the section if it still runs.
    void interruptFired(v8::Isolate* isolate);

   private:
    friend class CpuWatchdog;
    // The sequence advanced by `step`, wrapping like JavaScript's `| 0`.
    int32_t next(uint32_t step) const {
      return static_cast<int32_t>(static_cast<uint32_t>(load(WatchSlot::kSequence)) + step);
    }
    int32_t load(int index) const { return __atomic_load_n(&slots_[index], __ATOMIC_ACQUIRE); }
    void store(int index, int32_t value) { __atomic_store_n(&slots_[index], value, __ATOMIC_RELEASE); }
    void startSection(int32_t sequence) {
      store(WatchSlot::kBudgetMs, load(WatchSlot::kDefaultBudgetMs));
      store(WatchSlot::kSequence, sequence);
    }

    int32_t own_slots_[WatchSlot::kCount] = {};
    int32_t* slots_ = own_slots_;
    v8::Isolate* isolate_ = nullptr;
    std::atomic<clockid_t> cpu_clock_{0};
    std::atomic<bool> has_clock_{false};  // set once the environment is on a thread

    // Watchdog thread only.
    int32_t seen_sequence_ = 0;
    int64_t seen_cpu_ns_ = 0;
    // Written by the watchdog before it requests an interrupt, read by the interrupt (owner).
    std::atomic<int32_t> interrupt_sequence_{0};
    std::atomic<int32_t> interrupt_budget_ms_{0};
    // Owner thread.
    bool overrun_pending_ = false;
    BudgetOverrun overrun_;
  };

  // Starts watching (the watchdog thread starts with the first environment).
  static void watch(Watched& watched, v8::Isolate* isolate);
  // After this returns the watchdog no longer touches `watched` or its isolate.
  static void unwatch(Watched& watched);

  // Watchdog thread: looks at one environment, requesting an interrupt if its section ran past
  // its budget. Returns the smaller of `smallest_budget` and the budgets in force there.
  static int32_t check(Watched& watched, int32_t smallest_budget);
};

}  // namespace envoy_ts::runtime
