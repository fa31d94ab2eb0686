#pragma once

#include <event2/event.h>

#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace EnvoyTsHost {

// The cross-thread half of a dispatcher. Shared with schedulers so that a commit from a module
// thread after the dispatcher is gone is dropped instead of touching freed memory.
class PostQueue {
public:
  explicit PostQueue(event* wakeup) : wakeup_(wakeup) {}
  // Any thread. Dropped once closed.
  void post(std::function<void()> callback);
  std::vector<std::function<void()>> take();
  void close();

private:
  std::mutex mutex_;
  std::vector<std::function<void()>> posted_;
  event* wakeup_; // Null once closed.
};

using PostQueueSharedPtr = std::shared_ptr<PostQueue>;

// One event loop (Envoy's Event::Dispatcher): owns a libevent base and a cross-thread post queue.
// evthread_use_pthreads() must have been called before the first Dispatcher is built.
class Dispatcher {
public:
  Dispatcher();
  ~Dispatcher();
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  event_base* base() { return base_; }

  // Any thread: runs `callback` on the loop thread during a later loop iteration, in FIFO order.
  // Posts that never get to run (the dispatcher was destroyed first) are dropped.
  void post(std::function<void()> callback) { queue_->post(std::move(callback)); }
  const PostQueueSharedPtr& postQueue() const { return queue_; }

  // Runs the loop on the calling thread until exit().
  void run();
  // Any thread: makes run() return after the current iteration.
  void exit();
  bool isLoopThread() const { return std::this_thread::get_id() == loop_thread_; }

  // Envoy's deferred deletion: the object is destroyed at the start of a later loop iteration, so
  // code on the current stack may keep using it.
  template <class T> void deferredDelete(std::unique_ptr<T>&& object) {
    std::shared_ptr<T> holder(std::move(object));
    post([holder]() mutable { holder.reset(); });
  }

private:
  static void onPosted(evutil_socket_t, short, void* arg);
  void runPosted();

  event_base* base_;
  event* post_event_;
  PostQueueSharedPtr queue_;
  std::thread::id loop_thread_;
};

} // namespace EnvoyTsHost
