// Worker environments prepared ahead of traffic, so no request pays for creating one (DESIGN §3).
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "native/runtime/environment.h"

namespace envoy_ts::runtime {

class EnvironmentPool {
 public:
  // Runs on each prepared environment before it is handed out (the bridge loads configs there).
  using Warmer = void (*)(Environment& env);

  // Once, in program_init.
  static void configure(BindingInitializer binding, Warmer warmer);

  // Main thread, at config load: make sure `count` worker environments exist or are being made.
  // They are created one after another on a background thread.
  static void prepare(size_t count);

  // Worker thread: the calling thread's environment, attaching a prepared one on first use
  // (waiting for one that is being prepared, creating one only if none is coming).
  // Returns null with `error` set if no environment can be had.
  static Environment* forWorkerThread(std::string& error);
};

}  // namespace envoy_ts::runtime
