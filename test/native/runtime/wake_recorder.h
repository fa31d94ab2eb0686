// What the waker tests share: a real libuv loop, and a waiting stream that records its wake-ups.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "native/runtime/loop_waker.h"
#include "uv.h"

namespace envoy_ts::test {

class Target final : public runtime::WakeTarget {
 public:
  void wake() override {
    std::lock_guard<std::mutex> lock(mu_);
    ++wakes_;
    thread_ = std::this_thread::get_id();
    cv_.notify_all();
  }
  int wakes() {
    std::lock_guard<std::mutex> lock(mu_);
    return wakes_;
  }
  std::thread::id thread() {
    std::lock_guard<std::mutex> lock(mu_);
    return thread_;
  }
  // Waits (up to a generous bound, for a busy machine) for the wake-up count to reach `count`.
  bool waitFor(int count) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(30), [&] { return wakes_ >= count; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int wakes_ = 0;
  std::thread::id thread_;
};

struct Loop {
  Loop() { uv_loop_init(&loop); }
  ~Loop() { uv_loop_close(&loop); }
  uv_loop_t loop;
};

}  // namespace envoy_ts::test
