// What HTTP streams and network connections share on the native side: the (slot, gen) handle JS
// addresses them by, entering JS for a hook, waiting on JS (a waker target with a scheduler), and
// resuming either inside the hook or from the scheduler (DESIGN.md §3, §5).
#pragma once

#include <cstdint>

#include "native/bridge/bridge.h"
#include "native/runtime/environment.h"
#include "native/runtime/loop_waker.h"

namespace envoy_ts::module {

class JsStream : public runtime::WakeTarget {
 public:
  // runtime::WakeTarget (waker thread): the Node loop has work due.
  void wake() override { commitEvent(kPumpEvent); }

 protected:
  // A direction stopped while JS works. Subclasses name theirs; 0 is "not waiting".
  using Phase = int;
  static constexpr Phase kNotWaiting = 0;

  // Scheduler events.
  static constexpr uint64_t kResumeEvent = 1;  // JS settled: apply its decision
  static constexpr uint64_t kPumpEvent = 2;    // the Node loop has work due (from the waker)

  // `fail_open`: the config's failurePolicy is "open".
  JsStream(runtime::Environment& env, bool fail_open)
      : env_(env), bridge_(bridge::Bridge::of(env)), fail_open_(fail_open) {}
  ~JsStream() override = default;

  // One hook of `phase`: `call` makes the call into JS. A Pending outcome makes the stream wait;
  // JS that settles before the hook returns (an `async` function that never really waited) is
  // resumed right here, without a round trip through the scheduler.
  template <class Call>
  bridge::HookOutcome enter(Phase phase, Call call) {
    if (closed_) {
      return bridge::HookOutcome::Continue;
    }
    runtime::Environment::CallScope scope(env_);
    ++hook_depth_;
    bridge::HookOutcome outcome = unlessFailingOpen(call());
    if (outcome == bridge::HookOutcome::Pending) {
      startWaiting(phase);
    }
    env_.pump();
    outcome = resumeInHook(phase, outcome);
    leaveHook();
    return outcome;
  }

  // on_*_scheduled: apply a resume (through applyResume), then run what the loop has due.
  void onScheduledEvent(uint64_t event_id);

  // An Envoy event for this stream that JS must see (e.g. a callout's response): `call` makes the
  // call into JS. If that settles what the stream waits for, the decision is applied right here.
  template <class Call>
  void deliverToJs(Call call) {
    if (closed_) {
      return;
    }
    runtime::Environment::CallScope scope(env_);
    ++hook_depth_;
    call();
    env_.pump();
    if (waiting_ != kNotWaiting && resume_requested_) {
      resume_requested_ = false;
      resumeWaiting();
    }
    leaveHook();
  }
  // bridge::HostBase::requestResume.
  void requestResumeFromJs();
  // The stream is over (completed, reset or destroyed): JS can no longer reach it and its pending
  // work is aborted (`notify_js` false: JS already dropped the stream). Events already committed
  // for it are ignored.
  void closeJs(bool notify_js = true);

  bool waiting() const { return waiting_ != kNotWaiting; }
  // Whether one of this stream's calls into JS is on the stack.
  bool inHook() const { return hook_depth_ > 0; }
  // The outermost of this stream's calls into JS returned.
  virtual void leftHooks() {}

  // Creates the subclass's Envoy scheduler if needed (worker thread).
  virtual void ensureScheduler() = 0;
  // Commits an event on that scheduler (any thread; only called once ensureScheduler ran).
  virtual void commitEvent(uint64_t event_id) = 0;
  // JS settled what `phase` waited for and decided `outcome` (Pending: it waits again).
  virtual void applyResume(Phase phase, bridge::HookOutcome outcome) = 0;

  runtime::Environment& env_;
  bridge::Bridge& bridge_;
  bridge::StreamRef ref_;
  bool closed_ = false;

 private:
  bridge::HookOutcome resumeInHook(Phase phase, bridge::HookOutcome outcome);
  // JS could not run because the environment broke (runtime::Environment::Broken): under the
  // "open" policy the stream goes on as if its filters had returned; "closed" fails it.
  bridge::HookOutcome unlessFailingOpen(bridge::HookOutcome outcome) const {
    return outcome == bridge::HookOutcome::Failed && fail_open_ &&
                   env_.broken() != runtime::Environment::Broken::No
               ? bridge::HookOutcome::Continue
               : outcome;
  }
  // The resume of a waiting stream, through the policy above.
  bridge::HookOutcome resumeFromJs() { return unlessFailingOpen(bridge_.resume(ref_)); }
  // JS settled what the stream waits for: take its decision and apply it (inside a hook scope).
  void resumeWaiting();
  void leaveHook();
  void startWaiting(Phase phase);
  void stopWaiting();
  void scheduleResume();

  const bool fail_open_;
  Phase waiting_ = kNotWaiting;
  int hook_depth_ = 0;  // this stream's hooks on the stack
  bool resume_requested_ = false;
};

}  // namespace envoy_ts::module
