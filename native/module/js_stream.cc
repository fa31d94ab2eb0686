#include "native/module/js_stream.h"

namespace envoy_ts::module {

using bridge::HookOutcome;

HookOutcome JsStream::resumeInHook(Phase phase, HookOutcome outcome) {
  while (outcome == HookOutcome::Pending && resume_requested_ && waiting_ == phase) {
    resume_requested_ = false;
    stopWaiting();
    outcome = resumeFromJs();
    if (outcome == HookOutcome::Pending) {
      startWaiting(phase);
    }
    env_.pump();
  }
  return outcome;
}

void JsStream::leaveHook() {
  // Views of Envoy's buffers made during this hook must not outlive it.
  bridge_.detachViews(env_.callDepth());
  --hook_depth_;
  if (hook_depth_ == 0 && resume_requested_) {
    // JS settled a wait of another phase (a nested hook): resume it from the scheduler.
    resume_requested_ = false;
    scheduleResume();
  }
  if (hook_depth_ == 0) {
    leftHooks();
  }
}

void JsStream::onScheduledEvent(uint64_t event_id) {
  if (closed_) {
    return;
  }
  runtime::Environment::CallScope scope(env_);
  ++hook_depth_;
  if (event_id == kResumeEvent && waiting_ != kNotWaiting) {
    resumeWaiting();
  }
  // Both events end by running what the loop has due (and re-arming the waker); the waker's
  // event means the loop's fd is readable: poll it.
  env_.pump(event_id == kPumpEvent ? runtime::Environment::Poll::Now
                                   : runtime::Environment::Poll::IfDue);
  // What settled while the loop ran is applied here, not from one more scheduler event.
  if (waiting_ != kNotWaiting && resume_requested_) {
    resume_requested_ = false;
    resumeWaiting();
  }
  leaveHook();
}

void JsStream::resumeWaiting() {
  const Phase phase = waiting_;
  stopWaiting();
  HookOutcome outcome = resumeFromJs();
  if (outcome == HookOutcome::Pending) {
    startWaiting(phase);
  }
  env_.pump();
  outcome = resumeInHook(phase, outcome);
  applyResume(phase, outcome);
}

void JsStream::requestResumeFromJs() {
  if (closed_) {
    return;
  }
  if (hook_depth_ > 0) {
    resume_requested_ = true;  // applied before the hook on the stack returns
    return;
  }
  scheduleResume();
}

void JsStream::closeJs(bool notify_js) {
  if (closed_) {
    return;
  }
  closed_ = true;
  stopWaiting();
  bridge_.closeStream(ref_, notify_js);
}

void JsStream::startWaiting(Phase phase) {
  if (waiting_ == kNotWaiting) {
    ensureScheduler();
    env_.waker()->addTarget(this);
  }
  waiting_ = phase;  // a body hook of a direction that already waits keeps waiting
}

void JsStream::stopWaiting() {
  if (waiting_ == kNotWaiting) {
    return;
  }
  waiting_ = kNotWaiting;
  env_.waker()->removeTarget(this);
}

void JsStream::scheduleResume() {
  ensureScheduler();
  commitEvent(kResumeEvent);
}

}  // namespace envoy_ts::module
