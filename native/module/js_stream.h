// What HTTP streams and network connections share on the native side: the (slot, gen) handle JS
// addresses them by, entering JS for a hook, waiting on JS (a waker target with a scheduler), and
// resuming either inside the hook or from the scheduler (DESIGN.md §3, §5). ABI-free: the
// subclass reaches Envoy, StreamRuntime reaches JavaScript.
#pragma once

#include <cstdint>

#include "native/bridge/codes.h"
#include "native/bridge/stream_table.h"
#include "native/module/stream_runtime.h"
#include "native/runtime/loop_waker.h"

namespace envoy_ts::module {

class JsStream : public runtime::WakeTarget {
 public:
  // runtime::WakeTarget (the waker thread, or the worker as a call returns): the Node loop has
  // work due.
  void wake() override { commitEvent(kPumpEvent); }

  // Scheduler events.
  static constexpr uint64_t kResumeEvent = 1;  // JS settled: apply its decision
  static constexpr uint64_t kPumpEvent = 2;    // the Node loop has work due (LoopWaker)

  // Whether one of this stream's calls from Envoy is on the stack (the one count of it).
  bool inHook() const { return hook_depth_ > 0; }
  bool waiting() const { return waiting_ != kNotWaiting; }
  // JS asks to apply what settled (bridge::HostBase::requestResume): before the stream's call on
  // the stack returns, or from its scheduler.
  void requestResumeFromJs();
  // on_*_scheduled: apply a resume (through applyResume), then run what the loop has due.
  void onScheduledEvent(uint64_t event_id);

 protected:
  // A direction stopped while JS works. Subclasses name theirs; 0 is "not waiting". What the
  // runtime reports of an HTTP stream's wait (StreamRuntime::runHook) is such a phase.
  using Phase = uint32_t;
  static constexpr Phase kNotWaiting = 0;
  // A call whose runtime entry reports no wait (network hooks): the outcome says.
  static constexpr Phase kUnreported = bridge::WaitReport::kUnreported;

  // `fail_open`: the config's failurePolicy is "open".
  JsStream(StreamRuntime& runtime, bool fail_open) : runtime_(runtime), fail_open_(fail_open) {}
  ~JsStream() override = default;

  // One hook of `phase`: `call(waiting)` makes the call into JS and sets `waiting` to what the
  // runtime reports (or leaves kUnreported: then a Pending outcome makes the stream wait on
  // `phase`). JS that settles before the hook returns (an `async` function that never really
  // waited) is resumed right here, without a round trip through the scheduler.
  template <class Call>
  bridge::HookOutcome enter(Phase phase, Call call) {
    if (closed_) {
      return bridge::HookOutcome::Continue;
    }
    StreamRuntime::CallScope scope(runtime_);
    ++hook_depth_;
    Phase waiting = kUnreported;
    bridge::HookOutcome outcome = unlessFailingOpen(call(waiting));
    noteWait(phase, outcome, waiting);
    runtime_.pump(false);
    outcome = resumeInHook(phase, outcome);
    leaveHook();
    return outcome;
  }

  // An Envoy event for this stream that JS must see (e.g. a callout's response): `call` makes the
  // call into JS. If that settles what the stream waits for, the decision is applied right here.
  template <class Call>
  void deliverToJs(Call call) {
    if (closed_) {
      return;
    }
    StreamRuntime::CallScope scope(runtime_);
    ++hook_depth_;
    call();
    runtime_.pump(false);
    if (waiting() && resume_requested_) {
      resume_requested_ = false;
      resumeWaiting();
    }
    leaveHook();
  }
  // The stream is over (completed, reset or destroyed): JS can no longer reach it and its pending
  // work is aborted (`notify_js` false: JS already dropped the stream, or nothing there waits for
  // its end). Events already committed for it are ignored.
  void closeJs(bool notify_js = true);

  // Creates the subclass's Envoy scheduler if needed (worker thread).
  virtual void ensureScheduler() = 0;
  // Commits an event on that scheduler (any thread; only called once ensureScheduler ran).
  virtual void commitEvent(uint64_t event_id) = 0;
  // JS settled what `phase` waited for and decided `outcome` (Pending: it waits again).
  virtual void applyResume(Phase phase, bridge::HookOutcome outcome) = 0;
  // The outermost of this stream's calls from Envoy returned.
  virtual void leftHooks() {}

  StreamRuntime& runtime_;
  bridge::StreamRef ref_;
  bool closed_ = false;

 private:
  bridge::HookOutcome resumeInHook(Phase phase, bridge::HookOutcome outcome);
  // JS could not run because the environment broke: under the "open" policy the stream goes on
  // as if its filters had returned; "closed" fails it.
  bridge::HookOutcome unlessFailingOpen(bridge::HookOutcome outcome) const {
    return outcome == bridge::HookOutcome::Failed && fail_open_ && runtime_.broken()
               ? bridge::HookOutcome::Continue
               : outcome;
  }
  // After a call into JS for `phase`: the stream waits on what the runtime reported (its pending
  // hook is the one record of the wait), or without a report on `phase` when JS said Pending.
  void noteWait(Phase phase, bridge::HookOutcome outcome, Phase reported);
  // The resume of a waiting stream, through the policy above.
  bridge::HookOutcome resumeFromJs(Phase phase);
  // JS settled what the stream waits for: take its decision and apply it (inside a hook scope).
  void resumeWaiting();
  void leaveHook();
  void setWaiting(Phase phase);
  void scheduleResume();

  const bool fail_open_;
  Phase waiting_ = kNotWaiting;
  int hook_depth_ = 0;  // this stream's calls from Envoy on the stack (inHook)
  // JS asked to apply what settled while one of this stream's calls was on the stack.
  bool resume_requested_ = false;
};

}  // namespace envoy_ts::module
