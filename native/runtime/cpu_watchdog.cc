#include "native/runtime/cpu_watchdog.h"

#include <algorithm>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "v8.h"

namespace envoy_ts::runtime {
namespace {

// How often the watchdog looks, as a fraction of the smallest budget in force, within bounds: a
// section is stopped between its budget and its budget plus two periods.
constexpr int32_t kPeriodsPerBudget = 10;
constexpr int32_t kMinPeriodMs = 1;
constexpr int32_t kMaxPeriodMs = 10;
// Frames of the stack logged for a stopped section.
constexpr int kStackFrames = 6;

struct WatchdogState {
  std::mutex mu;
  std::vector<CpuWatchdog::Watched*> watched;  // guarded by mu
  bool started = false;                        // guarded by mu
};

// Leaked on purpose: the thread runs for the life of the process.
WatchdogState& state() {
  static WatchdogState* s = new WatchdogState();
  return *s;
}

int64_t cpuNanos(clockid_t clock) {
  timespec ts{};
  if (clock_gettime(clock, &ts) != 0) {
    return -1;
  }
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

std::string currentStack(v8::Isolate* isolate) {
  v8::HandleScope scope(isolate);
  v8::Local<v8::StackTrace> trace = v8::StackTrace::CurrentStackTrace(isolate, kStackFrames);
  std::string out;
  for (int i = 0; i < trace->GetFrameCount(); ++i) {
    v8::Local<v8::StackFrame> frame = trace->GetFrame(isolate, i);
    v8::String::Utf8Value function(isolate, frame->GetFunctionName());
    v8::String::Utf8Value script(isolate, frame->GetScriptName());
    out += "\n    at ";
    out += *function != nullptr && function.length() > 0 ? *function : "<anonymous>";
    out += " (";
    out += *script != nullptr ? *script : "<unknown>";
    out += ":" + std::to_string(frame->GetLineNumber()) + ":" + std::to_string(frame->GetColumn()) +
           ")";
  }
  return out;
}

}  // namespace

void CpuWatchdog::Watched::setSlots(int32_t* slots) {
  std::copy(slots_, slots_ + WatchSlot::kCount, slots);
  slots_ = slots;
}

void CpuWatchdog::Watched::setThread(pthread_t thread) {
  clockid_t clock;
  if (pthread_getcpuclockid(thread, &clock) == 0) {
    cpu_clock_.store(clock, std::memory_order_relaxed);
    has_clock_.store(true, std::memory_order_release);
  }
}

BudgetOverrun CpuWatchdog::Watched::takeOverrun() {
  overrun_pending_ = false;
  return std::move(overrun_);
}

namespace {

// Runs on the owner thread, inside the JavaScript being stopped.
void stopOverrunningSection(v8::Isolate* isolate, void* data) {
  auto* watched = static_cast<CpuWatchdog::Watched*>(data);
  watched->interruptFired(isolate);
}

}  // namespace

void CpuWatchdog::Watched::interruptFired(v8::Isolate* isolate) {
  // The section may have ended between the watchdog's look and this interrupt: then nothing is
  // stopped (the JavaScript running now has its own budget).
  if (load(WatchSlot::kSequence) != interrupt_sequence_.load(std::memory_order_acquire)) {
    return;
  }
  if (!overrun_pending_) {
    overrun_pending_ = true;
    overrun_.budget_ms = interrupt_budget_ms_.load(std::memory_order_relaxed);
    overrun_.stack = currentStack(isolate);
  }
  isolate->TerminateExecution();
}

namespace {

void watchLoop() {
  WatchdogState& s = state();
  while (true) {
    int32_t smallest_budget = 0;
    {
      std::lock_guard<std::mutex> lock(s.mu);
      for (CpuWatchdog::Watched* watched : s.watched) {
        smallest_budget = CpuWatchdog::check(*watched, smallest_budget);
      }
    }
    int32_t period = smallest_budget > 0 ? smallest_budget / kPeriodsPerBudget : kMaxPeriodMs;
    std::this_thread::sleep_for(
        std::chrono::milliseconds(std::clamp(period, kMinPeriodMs, kMaxPeriodMs)));
  }
}

}  // namespace

int32_t CpuWatchdog::check(Watched& watched, int32_t smallest_budget) {
  // The watchdog looks more often when a budget in force is small (0: none).
  auto consider = [&smallest_budget](int32_t budget) {
    if (budget > 0 && (smallest_budget == 0 || budget < smallest_budget)) {
      smallest_budget = budget;
    }
  };
  consider(watched.load(WatchSlot::kDefaultBudgetMs));
  const int32_t sequence = watched.load(WatchSlot::kSequence);
  if ((sequence & 1) == 0 || !watched.has_clock_.load(std::memory_order_acquire)) {
    return smallest_budget;  // not in JavaScript
  }
  const int32_t budget = watched.load(WatchSlot::kBudgetMs);
  if (budget <= 0) {
    return smallest_budget;  // no budget: no clock to read
  }
  consider(budget);
  const int64_t cpu = cpuNanos(watched.cpu_clock_.load(std::memory_order_relaxed));
  if (cpu < 0) {
    return smallest_budget;
  }
  if (sequence != watched.seen_sequence_) {
    // A new section: its CPU time counts from here (at most one period late).
    watched.seen_sequence_ = sequence;
    watched.seen_cpu_ns_ = cpu;
    return smallest_budget;
  }
  if (cpu - watched.seen_cpu_ns_ < static_cast<int64_t>(budget) * 1'000'000) {
    return smallest_budget;
  }
  // Over budget. V8 runs the interrupt at the next safe point of the running JavaScript (a call or
  // a loop's back edge); a blocking native call delays it until the call returns. If the section
  // keeps running, it is asked again one budget later.
  watched.seen_cpu_ns_ = cpu;
  watched.interrupt_budget_ms_.store(budget, std::memory_order_relaxed);
  watched.interrupt_sequence_.store(sequence, std::memory_order_release);
  watched.isolate_->RequestInterrupt(stopOverrunningSection, &watched);
  return smallest_budget;
}

void CpuWatchdog::watch(Watched& watched, v8::Isolate* isolate) {
  WatchdogState& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  watched.isolate_ = isolate;
  s.watched.push_back(&watched);
  if (!s.started) {
    s.started = true;
    std::thread(watchLoop).detach();
  }
}

void CpuWatchdog::unwatch(Watched& watched) {
  WatchdogState& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  s.watched.erase(std::remove(s.watched.begin(), s.watched.end(), &watched), s.watched.end());
}

}  // namespace envoy_ts::runtime
