// Worker environments prepared ahead of traffic, so no request pays for creating one (DESIGN §3).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "native/runtime/environment.h"

namespace envoy_ts::runtime {

class EnvironmentPool {
 public:
  // Brings an environment up to date with the filter configs (the bridge loads them there) and
  // answers why config `config_id` could not be loaded there ("" when it could).
  using Warmer = std::string (*)(Environment& env, uint64_t config_id);

  // Once, in program_init.
  static void configure(BindingInitializer binding, Warmer warmer);

  // Main thread, at config load: make sure `count` worker environments exist, plus one spare that
  // no worker takes, creating the missing ones in parallel and waiting for them (config load is
  // where Envoy expects such work), then warm every environment not yet taken by a worker with the
  // current configs. The spare means a new config is always loaded in at least one worker
  // environment before it goes live. Returns why config `config_id` failed to load in one of them
  // ("" when it loaded in all).
  static std::string prepare(size_t count, uint64_t config_id);

  // Main thread, when the last config is gone (Envoy shutting down): waits for an environment
  // being prepared in the background, which must not race the process's exit.
  static void finishBackgroundWork();

  // Any thread but a worker's (the bundle watcher's, for a watch-mode reload): runs `fn` with each
  // prepared environment no worker has taken yet attached to the calling thread, in turn, the
  // spare first, while no worker can take one (they wait for the pool's lock); an environment that
  // broke meanwhile is dropped. `fn` returns false to stop. Returns how many environments it saw.
  static size_t forEachPrepared(const std::function<bool(Environment& env)>& fn);

  // Worker thread: the calling thread's environment, attaching a prepared one on first use and
  // creating one only if none is left. Returns null with `error` set if none can be had.
  static Environment* forWorkerThread(std::string& error);
};

}  // namespace envoy_ts::runtime
