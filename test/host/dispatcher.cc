#include "dispatcher.h"

#include <cstdlib>

namespace EnvoyTsHost {

void PostQueue::post(std::function<void()> callback) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (wakeup_ == nullptr) {
    return;
  }
  posted_.push_back(std::move(callback));
  // Thread-safe under evthread_use_pthreads(); activating an already-active event is a no-op.
  // Done under the lock so close() cannot free the event meanwhile.
  event_active(wakeup_, EV_READ, 0);
}

std::vector<std::function<void()>> PostQueue::take() {
  std::vector<std::function<void()>> batch;
  std::lock_guard<std::mutex> lock(mutex_);
  batch.swap(posted_);
  return batch;
}

void PostQueue::close() {
  std::lock_guard<std::mutex> lock(mutex_);
  wakeup_ = nullptr;
}

Dispatcher::Dispatcher() : base_(event_base_new()), loop_thread_(std::this_thread::get_id()) {
  if (base_ == nullptr) {
    std::abort();
  }
  post_event_ = event_new(base_, -1, EV_PERSIST, &Dispatcher::onPosted, this);
  queue_ = std::make_shared<PostQueue>(post_event_);
}

Dispatcher::~Dispatcher() {
  queue_->close();
  queue_->take();
  event_free(post_event_);
  event_base_free(base_);
}

void Dispatcher::onPosted(evutil_socket_t, short, void* arg) {
  static_cast<Dispatcher*>(arg)->runPosted();
}

void Dispatcher::runPosted() {
  // Callbacks posted while this batch runs go to the next iteration, keeping FIFO order.
  for (auto& callback : queue_->take()) {
    callback();
  }
}

void Dispatcher::run() {
  loop_thread_ = std::this_thread::get_id();
  event_base_loop(base_, EVLOOP_NO_EXIT_ON_EMPTY);
  // Whatever was still queued (deferred deletions included) runs now, on the loop thread.
  runPosted();
}

void Dispatcher::exit() { event_base_loopexit(base_, nullptr); }

} // namespace EnvoyTsHost
