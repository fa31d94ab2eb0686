#include "native/module/js_stream.h"

namespace envoy_ts::module {

using bridge::HookOutcome;

void JsStream::noteWait(Phase phase, HookOutcome outcome, Phase reported) {
  if (reported != kUnreported) {
    setWaiting(reported);
  } else if (outcome == HookOutcome::Pending) {
    setWaiting(phase);
  }
}

HookOutcome JsStream::resumeFromJs(Phase phase) {
  Phase waiting = kUnreported;
  HookOutcome outcome = unlessFailingOpen(runtime_.resume(ref_, waiting));
  noteWait(phase, outcome, waiting);
  return outcome;
}

HookOutcome JsStream::resumeInHook(Phase phase, HookOutcome outcome) {
  while (outcome == HookOutcome::Pending && resume_requested_ && waiting_ == phase) {
    resume_requested_ = false;
    outcome = resumeFromJs(phase);
    runtime_.pump(false);
  }
  return outcome;
}

void JsStream::leaveHook() {
  // Views of Envoy's buffers made during this call must not outlive it.
  runtime_.leaveStreamCall();
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
  StreamRuntime::CallScope scope(runtime_);
  ++hook_depth_;
  if (event_id == kResumeEvent && waiting()) {
    resumeWaiting();
  }
  // Both events end by running what the loop has due (the call's end re-arms the waker); a pump
  // event means the loop has work due or its fd is readable: poll it.
  runtime_.pump(event_id == kPumpEvent);
  // What settled while the loop ran is applied here, not from one more scheduler event.
  if (waiting() && resume_requested_) {
    resume_requested_ = false;
    resumeWaiting();
  }
  leaveHook();
}

void JsStream::resumeWaiting() {
  const Phase phase = waiting_;
  HookOutcome outcome = resumeFromJs(phase);
  runtime_.pump(false);
  outcome = resumeInHook(phase, outcome);
  applyResume(phase, outcome);
}

void JsStream::requestResumeFromJs() {
  if (closed_) {
    return;
  }
  if (hook_depth_ > 0) {
    resume_requested_ = true;  // applied before the call on the stack returns
    return;
  }
  scheduleResume();
}

void JsStream::closeJs(bool notify_js) {
  if (closed_) {
    return;
  }
  closed_ = true;
  setWaiting(kNotWaiting);
  runtime_.close(ref_, notify_js);
}

void JsStream::setWaiting(Phase phase) {
  if (phase == waiting_) {
    return;
  }
  if (waiting_ == kNotWaiting) {
    ensureScheduler();
    runtime_.addWaiter(this);
  } else if (phase == kNotWaiting) {
    runtime_.removeWaiter(this);
  }
  waiting_ = phase;  // a body hook of a direction that already waits keeps waiting
}

void JsStream::scheduleResume() {
  ensureScheduler();
  commitEvent(kResumeEvent);
}

}  // namespace envoy_ts::module
