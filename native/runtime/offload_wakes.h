// The pool threads of an environment's offload pool wake its waiting streams themselves (DESIGN.md
// §3). A pool thread that finished a task commits the event on the newest waiting stream's
// scheduler from its own thread, then posts the result on the pool's message port (a uv_async on
// the environment's loop): the worker runs the loop in that event and finds the result there, with
// no waker thread in between. Should the worker get there before the result, the result's arrival
// on the loop is what the waker thread watches for, as for any I/O: the stream still goes on.
#pragma once

#include <cstdint>
#include <mutex>

#include "native/runtime/loop_waker.h"

namespace envoy_ts::runtime {

class OffloadWakes {
 public:
  // Worker thread: the waker of the environment's streams, or null once it goes (before it is
  // destroyed): pool threads still running then wake nothing.
  void setWaker(LoopWaker* waker);

  // Any thread (a pool thread about to post a result): work is due now on the loop.
  void wake();

  // Wake-ups pool threads asked for, and those that committed a stream's event (the others found
  // one on its way, or no stream waiting).
  struct Counts {
    uint64_t requests = 0;
    uint64_t commits = 0;
  };
  Counts counts() const;

 private:
  mutable std::mutex mu_;
  LoopWaker* waker_ = nullptr;  // guarded by mu_: a pool thread wakes under it
  Counts counts_;               // guarded by mu_
};

}  // namespace envoy_ts::runtime
