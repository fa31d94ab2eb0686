#pragma once

#include <event2/event.h>

#include "config.h"
#include "dispatcher.h"

namespace EnvoyTsHost {

// Envoy's stats flush (server.cc InstanceImpl::flushStats): merges every histogram of the store
// (StatsStore::mergeHistograms), which is when recorded values reach GET /stats. It runs every
// stats_flush_interval, the timer being re-armed once a flush completed, or, with
// stats_flush_on_admin, at each GET /stats instead. Counters and gauges do not wait for it.
// As in Envoy, a flush completes in a later loop iteration than the one that started it (Envoy
// posts the merge to every thread and finishes it back on the main thread), so the GET /stats
// that starts a flush still shows what the previous one merged; a flush asked for while one is
// under way is skipped (Envoy counts it in server.dropped_stat_flushes). Main thread.
class StatsFlusher {
public:
  StatsFlusher(Dispatcher& dispatcher, StatsFlushSpec spec);
  ~StatsFlusher();
  StatsFlusher(const StatsFlusher&) = delete;
  StatsFlusher& operator=(const StatsFlusher&) = delete;

  // Arms the interval timer (not with stats_flush_on_admin).
  void start();
  // GET /stats is about to render: starts a flush with stats_flush_on_admin.
  void onAdminStats();

private:
  void flush();
  void armTimer();
  static void onTimer(evutil_socket_t, short, void* arg);

  Dispatcher& dispatcher_;
  const StatsFlushSpec spec_;
  event* timer_{nullptr};
  bool in_progress_{false};
};

} // namespace EnvoyTsHost
