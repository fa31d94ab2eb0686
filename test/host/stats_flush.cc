#include "stats_flush.h"

#include "logger.h"
#include "stats.h"

namespace EnvoyTsHost {

StatsFlusher::StatsFlusher(Dispatcher& dispatcher, StatsFlushSpec spec)
    : dispatcher_(dispatcher), spec_(spec) {}

StatsFlusher::~StatsFlusher() {
  if (timer_ != nullptr) {
    event_free(timer_);
  }
}

void StatsFlusher::start() {
  if (spec_.on_admin) {
    return;
  }
  timer_ = evtimer_new(dispatcher_.base(), &StatsFlusher::onTimer, this);
  armTimer();
}

void StatsFlusher::armTimer() {
  const timeval after{static_cast<time_t>(spec_.interval_ms / 1000),
                      static_cast<suseconds_t>((spec_.interval_ms % 1000) * 1000)};
  evtimer_add(timer_, &after);
}

void StatsFlusher::onAdminStats() {
  if (spec_.on_admin) {
    flush();
  }
}

void StatsFlusher::onTimer(evutil_socket_t, short, void* arg) {
  static_cast<StatsFlusher*>(arg)->flush();
}

void StatsFlusher::flush() {
  if (in_progress_) {
    HOST_LOG(Debug, "skipping stats flush as flush is already in progress");
    return;
  }
  in_progress_ = true;
  HOST_LOG(Debug, "flushing stats");
  // The host's startup is done before its main loop runs, so unlike Envoy's flushStats (which
  // skips the merge until the init manager is done) every flush merges.
  dispatcher_.post([this]() {
    StatsStore::get().mergeHistograms();
    in_progress_ = false;
    if (timer_ != nullptr) {
      armTimer(); // Envoy re-arms the timer once the flush is done.
    }
  });
}

} // namespace EnvoyTsHost
