// Inspect mode: the worker environment's loop runs on the waker thread while no stream waits, so
// Node's inspector answers (and a paused debugger can be resumed) on an idle worker.
//
// Why this is needed. The inspector's server thread hands each message to the environment with a
// V8 interrupt (served only while JavaScript runs) and a uv_async on the environment's loop. A
// worker runs its loop only inside calls from Envoy (a hook, a stream's scheduled event), and
// Envoy offers a module no way onto an idle worker thread: schedulers belong to streams, and the
// config scheduler posts to the main thread. So an idle worker would answer nothing.
//
// What is done instead, only when ENVOY_TS_INSPECT is set:
// - the worker holds the isolate (v8::Locker, isolate and context entered) only while Envoy calls
//   into the environment (Environment::CallScope attaches it on the outermost entry and detaches it
//   when that call returns), instead of for its whole life;
// - the waker thread (loop_waker.h) keeps watching the loop's backend fd and next timer while no
//   stream waits; when either is due it takes the isolate and runs the loop once without blocking
//   (Environment::runIdleTurn, below).
//
// Why it is safe:
// - The isolate: V8 allows any thread holding its v8::Locker to use it. The worker and the waker
//   take the same Locker, so JavaScript of this environment never runs on two threads at once; the
//   Locker's mutex orders everything either thread wrote before releasing it (the Environment's
//   fields, the bridge's and the runtime's state) before what the other reads after taking it.
// - The libuv loop is not thread-safe but has no thread affinity: it is only run with the Locker
//   held, so by one thread at a time.
// - Envoy: callbacks that take a stream's or connection's envoy pointer may only be made on its
//   worker. The idle turn runs only while no stream waits on JavaScript (checked under the Locker;
//   a stream starts waiting only inside a call, which needs the Locker, so none can start during
//   the turn), and with no call from Envoy on the stack. What its JavaScript can still reach: the
//   runtime's binding. While the turn runs the environment's kOffThread watch slot is 1, and in
//   inspect mode the runtime wraps every binding function that may reach Envoy or the worker's
//   stream table so it throws ETS_ERR_WRONG_THREAD then (ts-filters/runtime/inspector.ts); the
//   rest (log, process-wide counters and token buckets) is thread-safe. Promise jobs and timers
//   of a stream that does not wait (fire-and-forget work) get that error instead of reaching the
//   stream; work a stream awaits makes it wait, and then the worker runs the loop as always.
// - Node: Environment state is not thread-local; Node's own worker threads and the inspector
//   already run an environment from a thread other than the one that made it (each worker's
//   environment is built on the parent's). The CPU watchdog clocks the thread that holds the
//   environment (attach sets it, and so does the turn), so a turn that runs away is stopped like
//   a hook that does.
// - Lifetime: ~Environment detaches before it joins the waker, so a turn waiting for the Locker
//   finishes first; the waker reads nothing of the environment but through this call.
//
// Cost when inspect mode is off: none on the hook path beyond CallScope's test of one flag; the
// waker keeps its lock-free fast path (it never watches an idle loop).
#include <pthread.h>

#include "native/runtime/environment.h"
#include "native/runtime/log.h"
#include "node.h"

namespace envoy_ts::runtime {

IdleTurnRunner::Result Environment::runIdleTurn(LoopWaker& waker, int& next_timeout_ms) {
  v8::Isolate* isolate = setup_->isolate();
  v8::Locker locker(isolate);  // waits while the worker is in a call from Envoy
  if (broken_ != Broken::No || retired_) {
    return Result::Stopped;
  }
  if (waker.streamsWait()) {
    return Result::StreamsWait;
  }
  v8::Isolate::Scope isolate_scope(isolate);
  v8::HandleScope handle_scope(isolate);
  v8::Context::Scope context_scope(setup_->context());
  watched_.setThread(pthread_self());
  int32_t* slots = watched_.slots();
  slots[WatchSlot::kOffThread] = 1;
  watched_.enter();
  uv_run(loop(), UV_RUN_NOWAIT);
  watched_.leave();
  slots[WatchSlot::kOffThread] = 0;
  if (watched_.overrunPending()) {
    // No stream's hook ran: nothing gets a failure policy. Stopped JavaScript is logged and the
    // environment goes on, as after a budget overrun in a timer.
    BudgetOverrun overrun = watched_.takeOverrun();
    cancelTermination();
    log(LogLevel::Error, "JavaScript run by the event loop while the worker was idle (inspect "
                         "mode) ran past its CPU budget of " +
                             std::to_string(overrun.budget_ms) + " ms and was stopped:" +
                             overrun.stack);
  }
  next_timeout_ms = uv_backend_timeout(loop());
  return Result::Ran;
}

}  // namespace envoy_ts::runtime
