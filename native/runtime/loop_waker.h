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
// Envoy scheduler). wake() is called from the waker thread and must be thread-safe.
class WakeTarget {
 public:
  virtual ~WakeTarget() = default;
  virtual void wake() = 0;
};

// The worker's Node loop only runs when the worker pumps it. While any stream of the worker waits
// on JS, a thread watches the loop's backend fd and its next timer deadline; when either is due it
// wakes one waiting stream's scheduler, and the worker pumps the loop inside that stream's
// scheduled callback, then re-arms. Nothing here touches the loop or the isolate off the worker.
class LoopWaker {
 public:
  explicit LoopWaker(uv_loop_s* loop);
  ~LoopWaker();  // stops and joins the thread

  // Worker thread. Targets are the streams waiting on JS; a target must be removed before it dies.
  void addTarget(WakeTarget* target);
  void removeTarget(WakeTarget* target);

  // Worker thread, after every pump: watch again with the loop's current timeout
  // (uv_backend_timeout: -1 for none, 0 for due now).
  void rearm(int timeout_ms);

  LoopWaker(const LoopWaker&) = delete;
  LoopWaker& operator=(const LoopWaker&) = delete;

 private:
  enum class State { Idle, Armed, Fired };

  void run();
  void fireLocked();
  void interrupt();

  int epoll_fd_ = -1;
  int interrupt_fd_ = -1;
  std::mutex mu_;
  std::condition_variable cv_;
  // Written only by the worker (under mu_), so the worker may read it without the lock.
  std::vector<WakeTarget*> targets_;
  bool idle_ = true;                      // worker only: state_ is Idle and stays so

  State state_ = State::Idle;             // guarded by mu_
  int64_t deadline_ms_ = -1;              // absolute, CLOCK_MONOTONIC; -1 = none; guarded by mu_
  int64_t polled_deadline_ms_ = -1;       // the deadline the thread is sleeping on; guarded by mu_
  bool polling_ = false;                  // guarded by mu_
  bool stop_ = false;                     // guarded by mu_
  std::thread thread_;
};

}  // namespace envoy_ts::runtime
