#include "native/runtime/offload_results.h"

#include <utility>

namespace envoy_ts::runtime {

void OffloadResults::setWaker(LoopWaker* waker) {
  std::lock_guard<std::mutex> lock(mu_);
  waker_ = waker;
}

void OffloadResults::add(Result result) {
  std::lock_guard<std::mutex> lock(mu_);
  queued_.push_back(std::move(result));
  waiting_.store(true, std::memory_order_release);
  ++counts_.results;
  // Queued before the wake: the event's pump finds it. The waker cannot go meanwhile (setWaker
  // takes this lock), nor can the stream it wakes (it leaves the waker's targets under the
  // waker's lock first).
  if (waker_ != nullptr && waker_->wakeNow()) {
    ++counts_.wakes;
  }
}

std::vector<OffloadResults::Result> OffloadResults::take() {
  std::lock_guard<std::mutex> lock(mu_);
  waiting_.store(false, std::memory_order_release);
  return std::exchange(queued_, {});
}

OffloadResults::Counts OffloadResults::counts() const {
  std::lock_guard<std::mutex> lock(mu_);
  return counts_;
}

}  // namespace envoy_ts::runtime
