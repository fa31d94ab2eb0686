// Pool threads waking waiting streams as a task ends: the newest waiting stream's event is
// committed from the pool thread itself, one event on its way serves every wake-up until the loop
// runs, a wake-up with no stream waiting commits nothing, and once the waker is gone a wake-up is
// harmless.
#include "native/runtime/offload_wakes.h"

#include <thread>

#include "test/native/check.h"
#include "test/native/runtime/wake_recorder.h"

using envoy_ts::runtime::LoopWaker;
using envoy_ts::runtime::OffloadWakes;
using envoy_ts::test::Loop;
using envoy_ts::test::Target;

namespace {

// A pool thread of its own asks for a wake-up; returns its id.
std::thread::id wakeFromPoolThread(OffloadWakes& wakes) {
  std::thread::id id;
  std::thread pool([&] {
    id = std::this_thread::get_id();
    wakes.wake();
  });
  pool.join();
  return id;
}

}  // namespace

TEST(a_pool_thread_wakes_the_newest_waiting_stream_itself) {
  Loop loop;
  LoopWaker waker(&loop.loop, nullptr);
  OffloadWakes wakes;
  wakes.setWaker(&waker);
  Target older;
  Target newer;
  waker.addTarget(&older);
  waker.addTarget(&newer);
  waker.rearm(-1);  // the calls that made them wait returned with nothing due
  const std::thread::id pool = wakeFromPoolThread(wakes);
  CHECK_EQ(newer.wakes(), 1);
  CHECK_EQ(older.wakes(), 0);
  CHECK(newer.thread() == pool);
  CHECK_EQ(wakes.counts().requests, 1u);
  CHECK_EQ(wakes.counts().commits, 1u);
  wakes.setWaker(nullptr);
  waker.removeTarget(&newer);
  waker.removeTarget(&older);
}

TEST(one_event_on_its_way_serves_every_wake_up_until_the_loop_runs) {
  Loop loop;
  LoopWaker waker(&loop.loop, nullptr);
  OffloadWakes wakes;
  wakes.setWaker(&waker);
  Target target;
  waker.addTarget(&target);
  waker.rearm(-1);
  wakeFromPoolThread(wakes);
  wakeFromPoolThread(wakes);
  CHECK_EQ(target.wakes(), 1);
  // That event's pump ran the loop: the next task's end wakes again.
  waker.pumped();
  wakeFromPoolThread(wakes);
  CHECK_EQ(target.wakes(), 2);
  CHECK_EQ(wakes.counts().requests, 3u);
  CHECK_EQ(wakes.counts().commits, 2u);
  wakes.setWaker(nullptr);
  waker.removeTarget(&target);
}

TEST(a_wake_up_with_no_stream_waiting_commits_nothing) {
  Loop loop;
  LoopWaker waker(&loop.loop, nullptr);
  OffloadWakes wakes;
  wakes.setWaker(&waker);
  wakeFromPoolThread(wakes);
  CHECK_EQ(wakes.counts().requests, 1u);
  CHECK_EQ(wakes.counts().commits, 0u);
  wakes.setWaker(nullptr);
}

TEST(once_the_waker_is_gone_a_wake_up_is_harmless) {
  Target target;
  OffloadWakes wakes;
  {
    Loop loop;
    LoopWaker waker(&loop.loop, nullptr);
    wakes.setWaker(&waker);
    waker.addTarget(&target);
    wakes.setWaker(nullptr);  // the environment lets go of the waker before destroying it
    waker.removeTarget(&target);
  }
  wakeFromPoolThread(wakes);
  CHECK_EQ(target.wakes(), 0);
  CHECK_EQ(wakes.counts().requests, 1u);
  CHECK_EQ(wakes.counts().commits, 0u);
}
