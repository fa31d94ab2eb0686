// Worker environments prepared ahead of traffic, so no request pays for creating one (DESIGN §3).
#pragma once

#include <cstddef>
#include <string>

#include "native/runtime/environment.h"

namespace envoy_ts::runtime {

class EnvironmentPool {
 public:
  // Brings an environment up to date with the filter configs (the bridge loads them there).
  using Warmer = void (*)(Environment& env);

  // Once, in program_init.
  static void configure(BindingInitializer binding, Warmer warmer);

  // Main thread, at config load: make sure `count` worker environments exist, creating the missing
  // ones in parallel and waiting for them (config load is where Envoy expects such work), then
  // warm every environment not yet taken by a worker with the current configs.
  static void prepare(size_t count);

  // Worker thread: the calling thread's environment, attaching a prepared one on first use and
  // creating one only if none is left. Returns null with `error` set if none can be had.
  static Environment* forWorkerThread(std::string& error);
};

}  // namespace envoy_ts::runtime
