// Wakes an Envoy worker when its Node event loop has work due (DESIGN.md §3).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

struct uv_loop_s;

namespace envoy_ts::runtime {

// Something that can make the owning worker thread call back into the environment (a stream's
// Envoy scheduler). wake() is called from the waker thread, or from the worker as a call returns,
// and must be thread-safe.
class WakeTarget {
 public:
  virtual ~WakeTarget() = default;
  virtual void wake() = 0;
};

// Inspect mode only: runs the loop on the waker thread while no stream waits (the inspector must
// answer on an idle worker; Envoy gives the module no way onto an idle worker thread).
// Environment implements it (native/runtime/idle_turns.cc).
class LoopWaker;
class IdleTurnRunner {
 public:
  enum class Result {
    Ran,          // next_timeout_ms is the loop's next timeout (-1: none)
    StreamsWait,  // nothing ran: a stream waits after all, and pumps the loop when woken
    Stopped,      // nothing ran: the environment runs no more JavaScript
  };
  virtual ~IdleTurnRunner() = default;
  // Waker thread (`waker`'s), with none of the waker's locks held.
  virtual Result runIdleTurn(LoopWaker& waker, int& next_timeout_ms) = 0;
};

// The worker's Node loop only runs when the worker pumps it. While any stream of the worker waits
// on JS, something must make the worker pump it when it has work due: once the outermost call from
// Envoy returns, the worker re-arms the waker with the loop's timeout. Work due now (an immediate,
// a timer past due) makes the worker commit an event on a waiting stream's scheduler itself, with
// no thread hand-off; a future deadline or the loop's I/O is watched by a thread, which wakes a
// waiting stream's scheduler when it is due. The worker pumps the loop inside that stream's
// scheduled callback, then re-arms. Nothing here touches the loop or the isolate off the worker,
// except in inspect mode (`idle` set): while no stream waits the thread keeps watching, and when
// the loop has something due it runs the loop itself through `idle` (idle_turns.cc).
class LoopWaker {
 public:
  LoopWaker(uv_loop_s* loop, IdleTurnRunner* idle);
  ~LoopWaker();  // stops and joins the thread

  // Worker thread. Targets are the streams waiting on JS; a target must be removed before it dies.
  void addTarget(WakeTarget* target);
  void removeTarget(WakeTarget* target);

  // Any thread: whether a stream waits on the loop.
  bool streamsWait();

  // Worker thread: whether the waker needs re-arming after a call (a stream waits, or inspect
  // mode watches the idle loop). Lock-free.
  bool engaged() const { return !(targets_.empty() && idle_); }

  // Worker thread: the loop was just run. An event committed before that is no longer needed to
  // run it (it may still come: a harmless extra pump); the next rearm decides afresh.
  void pumped();

  // Worker thread, when the outermost call from Envoy returns: the loop's current timeout
  // (uv_backend_timeout: -1 for none, 0 for due now). Due now with streams waiting, the newest
  // waiting stream's scheduler gets the event here, from the worker, unless one is on its way.
  void rearm(int timeout_ms);

  // Any thread (an offload pool thread as its task ends): work is due now. The newest waiting
  // stream's scheduler gets the event from the calling thread, unless one is on its way. False
  // when nothing was committed (one is on its way, or no stream waits).
  bool wakeNow();

  LoopWaker(const LoopWaker&) = delete;
  LoopWaker& operator=(const LoopWaker&) = delete;

 private:
  // IdleTurn: the thread runs the loop through idle_ (inspect mode).
  enum class State { Idle, Armed, Fired, IdleTurn };

  void run();
  void fireLocked();
  // Due now: fire unless an event is on its way (no stream waits: nothing to fire on).
  bool fireDueNowLocked();
  void interrupt();
  void runIdleTurn(std::unique_lock<std::mutex>& lock);

  IdleTurnRunner* const idle_runner_;  // null unless inspect mode
  int epoll_fd_ = -1;
  int interrupt_fd_ = -1;
  std::mutex mu_;
  std::condition_variable cv_;
  // Written only by the worker (under mu_), so the worker may read it without the lock.
  std::vector<WakeTarget*> targets_;
  // Worker only: state_ is Idle and stays so. Never true in inspect mode, where the thread
  // watches the loop even while no stream waits.
  bool idle_ = true;

  State state_ = State::Idle;             // guarded by mu_
  int64_t deadline_ms_ = -1;              // absolute, CLOCK_MONOTONIC; -1 = none; guarded by mu_
  int64_t polled_deadline_ms_ = -1;       // the deadline the thread is sleeping on; guarded by mu_
  bool polling_ = false;                  // guarded by mu_
  bool stop_ = false;                     // guarded by mu_
  std::thread thread_;
};

}  // namespace envoy_ts::runtime
