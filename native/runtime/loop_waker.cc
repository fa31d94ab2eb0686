#include "native/runtime/loop_waker.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>

#include "uv.h"

namespace envoy_ts::runtime {
namespace {

int64_t nowMs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

}  // namespace

LoopWaker::LoopWaker(uv_loop_s* loop, IdleTurnRunner* idle) : idle_runner_(idle) {
  idle_ = idle == nullptr;
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  interrupt_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  epoll_event backend{};
  backend.events = EPOLLIN;
  backend.data.fd = uv_backend_fd(loop);
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, backend.data.fd, &backend);
  epoll_event wakeup{};
  wakeup.events = EPOLLIN;
  wakeup.data.fd = interrupt_fd_;
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, interrupt_fd_, &wakeup);
  thread_ = std::thread([this] { run(); });
}

LoopWaker::~LoopWaker() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_one();
  interrupt();
  thread_.join();
  close(interrupt_fd_);
  close(epoll_fd_);
}

void LoopWaker::addTarget(WakeTarget* target) {
  std::lock_guard<std::mutex> lock(mu_);
  targets_.push_back(target);
}

void LoopWaker::removeTarget(WakeTarget* target) {
  std::lock_guard<std::mutex> lock(mu_);
  targets_.erase(std::remove(targets_.begin(), targets_.end(), target), targets_.end());
  // Envoy drops an event committed for a stream that is gone. If the pending wake-up went to this
  // stream, hand it to another waiting stream so the loop is still pumped.
  if (state_ == State::Fired) {
    if (targets_.empty()) {
      state_ = State::Idle;  // nothing waits for it
    } else {
      fireLocked();
    }
  }
}

void LoopWaker::pumped() {
  if (idle_) {
    return;  // nothing was fired since the waker last went idle: lock-free
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (state_ == State::Fired) {
    state_ = State::Idle;
  }
}

void LoopWaker::rearm(int timeout_ms) {
  if (targets_.empty() && idle_) {
    return;  // nothing waits, and the thread already knows: the common case, lock-free
  }
  bool must_interrupt = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (targets_.empty() && idle_runner_ == nullptr) {
      state_ = State::Idle;
      idle_ = true;
      return;
    }
    idle_ = false;
    if (timeout_ms == 0 && !targets_.empty()) {
      // Committing is allowed from any thread: do it here rather than wake the thread to do it.
      // A thread asleep on an older deadline finds the state changed when it wakes.
      fireDueNowLocked();
      return;
    }
    state_ = State::Armed;
    deadline_ms_ = timeout_ms < 0 ? -1 : nowMs() + timeout_ms;
    // A thread already asleep on a later (or no) deadline must re-read it; an earlier one is
    // harmless: it wakes the worker, which finds nothing due and re-arms.
    must_interrupt = polling_ && deadline_ms_ >= 0 &&
                     (polled_deadline_ms_ < 0 || deadline_ms_ < polled_deadline_ms_);
  }
  cv_.notify_one();
  if (must_interrupt) {
    interrupt();
  }
}

bool LoopWaker::wakeNow() {
  std::lock_guard<std::mutex> lock(mu_);
  return fireDueNowLocked();
}

bool LoopWaker::fireDueNowLocked() {
  if (targets_.empty() || state_ == State::Fired) {
    return false;
  }
  fireLocked();
  return true;
}

// The newest waiting stream: the one whose call just returned, when the worker fires.
void LoopWaker::fireLocked() {
  state_ = State::Fired;
  targets_.back()->wake();
}

void LoopWaker::interrupt() {
  uint64_t one = 1;
  // The counter only saturates after 2^64 - 1 writes; a failed write means one is already pending.
  [[maybe_unused]] ssize_t n = write(interrupt_fd_, &one, sizeof(one));
}

void LoopWaker::run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    cv_.wait(lock, [this] {
      return stop_ || (state_ == State::Armed && (!targets_.empty() || idle_runner_ != nullptr));
    });
    if (stop_) {
      return;
    }
    polled_deadline_ms_ = deadline_ms_;
    int timeout = deadline_ms_ < 0 ? -1 : static_cast<int>(std::max<int64_t>(0, deadline_ms_ - nowMs()));
    polling_ = true;
    lock.unlock();

    epoll_event events[2];
    int ready = epoll_wait(epoll_fd_, events, 2, timeout);
    bool interrupted = false;
    for (int i = 0; i < ready; ++i) {
      if (events[i].data.fd == interrupt_fd_) {
        uint64_t count;
        [[maybe_unused]] ssize_t n = read(interrupt_fd_, &count, sizeof(count));
        interrupted = true;
      }
    }

    lock.lock();
    polling_ = false;
    if (stop_) {
      return;
    }
    if (interrupted && ready == 1) {
      continue;  // only the deadline changed: sleep again on the new one
    }
    if (state_ == State::Armed && !targets_.empty()) {
      fireLocked();
    } else if (state_ == State::Armed && idle_runner_ != nullptr) {
      runIdleTurn(lock);
    }
  }
}

bool LoopWaker::streamsWait() {
  std::lock_guard<std::mutex> lock(mu_);
  return !targets_.empty();
}

void LoopWaker::runIdleTurn(std::unique_lock<std::mutex>& lock) {
  state_ = State::IdleTurn;
  lock.unlock();
  int timeout_ms = -1;
  // Waits for the isolate while the worker is in a call; then the worker waits for it.
  const IdleTurnRunner::Result result = idle_runner_->runIdleTurn(*this, timeout_ms);
  lock.lock();
  if (state_ != State::IdleTurn) {
    return;  // the worker re-armed meanwhile, with a fresher view of the loop
  }
  switch (result) {
  case IdleTurnRunner::Result::Ran:
    state_ = State::Armed;
    deadline_ms_ = timeout_ms < 0 ? -1 : nowMs() + timeout_ms;
    break;
  case IdleTurnRunner::Result::StreamsWait:
    // A stream started waiting while this thread waited for the isolate: it pumps the loop.
    if (!targets_.empty()) {
      fireLocked();
    } else {
      state_ = State::Armed;
      deadline_ms_ = nowMs();
    }
    break;
  case IdleTurnRunner::Result::Stopped:
    state_ = State::Idle;  // the environment runs no more JavaScript: stop watching its loop
    break;
  }
}

}  // namespace envoy_ts::runtime
