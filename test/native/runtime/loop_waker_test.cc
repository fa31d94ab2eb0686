// The waker over a real libuv loop, with targets that record their wake-ups: work due now wakes a
// waiting stream from the calling (worker) thread, a later deadline from the waker's thread, and a
// wake-up is neither lost nor doubled while one is on its way.
#include "native/runtime/loop_waker.h"

#include <thread>

#include "test/native/check.h"
#include "test/native/runtime/wake_recorder.h"

using envoy_ts::runtime::LoopWaker;
using envoy_ts::test::Loop;
using envoy_ts::test::Target;

TEST(work_due_now_wakes_a_waiting_stream_from_the_calling_thread) {
  Loop loop;
  LoopWaker waker(&loop.loop, nullptr);
  Target target;
  waker.addTarget(&target);
  waker.rearm(0);
  CHECK_EQ(target.wakes(), 1);
  CHECK(target.thread() == std::this_thread::get_id());
  // One is on its way: a second call returning with work due adds none.
  waker.rearm(0);
  CHECK_EQ(target.wakes(), 1);
  // The loop ran (that event's pump): the next due work wakes again.
  waker.pumped();
  waker.rearm(0);
  CHECK_EQ(target.wakes(), 2);
  waker.removeTarget(&target);
}

TEST(a_later_deadline_wakes_from_the_wakers_thread) {
  Loop loop;
  LoopWaker waker(&loop.loop, nullptr);
  Target target;
  waker.addTarget(&target);
  waker.rearm(5);
  CHECK(target.waitFor(1));
  CHECK(target.thread() != std::this_thread::get_id());
  waker.removeTarget(&target);
}

TEST(the_newest_waiting_stream_gets_the_wake_up_and_hands_it_over_when_it_goes) {
  Loop loop;
  LoopWaker waker(&loop.loop, nullptr);
  Target older;
  Target newer;
  waker.addTarget(&older);
  waker.addTarget(&newer);
  waker.rearm(0);
  CHECK_EQ(newer.wakes(), 1);
  CHECK_EQ(older.wakes(), 0);
  // Envoy drops the event of a stream that is gone: the other waiting stream gets one.
  waker.removeTarget(&newer);
  CHECK_EQ(older.wakes(), 1);
  waker.removeTarget(&older);
}

TEST(nothing_wakes_when_no_stream_waits) {
  Loop loop;
  LoopWaker waker(&loop.loop, nullptr);
  Target target;
  waker.rearm(0);
  waker.addTarget(&target);
  CHECK_EQ(target.wakes(), 0);
  waker.removeTarget(&target);
  // A stream that stopped waiting leaves no wake-up on its way: the next one gets its own.
  waker.addTarget(&target);
  waker.rearm(0);
  waker.removeTarget(&target);
  Target next;
  waker.addTarget(&next);
  waker.rearm(0);
  CHECK_EQ(next.wakes(), 1);
  waker.removeTarget(&next);
}
