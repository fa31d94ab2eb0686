#include "native/runtime/offload_wakes.h"

namespace envoy_ts::runtime {

void OffloadWakes::setWaker(LoopWaker* waker) {
  std::lock_guard<std::mutex> lock(mu_);
  waker_ = waker;
}

void OffloadWakes::wake() {
  std::lock_guard<std::mutex> lock(mu_);
  ++counts_.requests;
  // The waker cannot go meanwhile (setWaker takes this lock), nor can the stream it wakes (it
  // leaves the waker's targets under the waker's lock first).
  if (waker_ != nullptr && waker_->wakeNow()) {
    ++counts_.commits;
  }
}

OffloadWakes::Counts OffloadWakes::counts() const {
  std::lock_guard<std::mutex> lock(mu_);
  return counts_;
}

}  // namespace envoy_ts::runtime
