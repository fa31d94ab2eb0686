// Results of offloaded tasks handed in from pool threads: a result wakes the newest waiting stream
// from the pool thread itself, one wake-up on its way serves every result until the loop runs, a
// result no stream waited for is due at the worker's next rearm, and once the waker is gone a
// result wakes nothing (it is still kept).
#include "native/runtime/offload_results.h"

#include <thread>
#include <utility>

#include "test/native/check.h"
#include "test/native/runtime/wake_recorder.h"

using envoy_ts::runtime::LoopWaker;
using envoy_ts::runtime::OffloadResults;
using envoy_ts::test::Loop;
using envoy_ts::test::Target;

namespace {

OffloadResults::Result resultOf(uint64_t task_id, bool failed = false) {
  OffloadResults::Result result;
  result.task_id = task_id;
  result.failed = failed;
  result.bytes = {0xff, 0x0f, static_cast<uint8_t>(task_id)};
  return result;
}

// A pool thread of its own hands `result` in.
std::thread::id addFromPoolThread(OffloadResults& results, OffloadResults::Result result) {
  std::thread::id id;
  std::thread pool([&] {
    id = std::this_thread::get_id();
    results.add(std::move(result));
  });
  pool.join();
  return id;
}

}  // namespace

TEST(a_result_wakes_the_newest_waiting_stream_from_the_pool_thread) {
  Loop loop;
  LoopWaker waker(&loop.loop, nullptr);
  OffloadResults results;
  results.setWaker(&waker);
  Target older;
  Target newer;
  waker.addTarget(&older);
  waker.addTarget(&newer);
  waker.rearm(-1);  // the calls that made them wait returned with nothing due
  CHECK(!results.waiting());
  const std::thread::id pool = addFromPoolThread(results, resultOf(7, true));
  CHECK_EQ(newer.wakes(), 1);
  CHECK_EQ(older.wakes(), 0);
  CHECK(newer.thread() == pool);
  CHECK(results.waiting());
  std::vector<OffloadResults::Result> taken = results.take();
  CHECK(!results.waiting());
  CHECK_EQ(taken.size(), 1u);
  CHECK_EQ(taken[0].task_id, 7u);
  CHECK(taken[0].failed);
  CHECK(taken[0].bytes == std::vector<uint8_t>({0xff, 0x0f, 7}));
  CHECK_EQ(results.counts().results, 1u);
  CHECK_EQ(results.counts().wakes, 1u);
  results.setWaker(nullptr);
  waker.removeTarget(&newer);
  waker.removeTarget(&older);
}

TEST(one_wake_up_on_its_way_serves_every_result_until_the_loop_runs) {
  Loop loop;
  LoopWaker waker(&loop.loop, nullptr);
  OffloadResults results;
  results.setWaker(&waker);
  Target target;
  waker.addTarget(&target);
  waker.rearm(-1);
  addFromPoolThread(results, resultOf(1));
  addFromPoolThread(results, resultOf(2));
  CHECK_EQ(target.wakes(), 1);
  // That event's pump ran the loop and took both, in order; the next result wakes again.
  waker.pumped();
  std::vector<OffloadResults::Result> taken = results.take();
  CHECK_EQ(taken.size(), 2u);
  CHECK_EQ(taken[0].task_id, 1u);
  CHECK_EQ(taken[1].task_id, 2u);
  addFromPoolThread(results, resultOf(3));
  CHECK_EQ(target.wakes(), 2);
  CHECK_EQ(results.counts().results, 3u);
  CHECK_EQ(results.counts().wakes, 2u);
  results.setWaker(nullptr);
  waker.removeTarget(&target);
}

TEST(a_result_no_stream_waited_for_is_due_when_a_stream_starts_waiting) {
  Loop loop;
  LoopWaker waker(&loop.loop, nullptr);
  OffloadResults results;
  results.setWaker(&waker);
  addFromPoolThread(results, resultOf(4));
  CHECK_EQ(results.counts().wakes, 0u);
  // A stream waits after a call whose pump came before the result: the call's end re-arms with
  // the results as work due now (Environment::leaveOutermost).
  Target target;
  waker.addTarget(&target);
  waker.rearm(results.waiting() ? 0 : -1);
  CHECK_EQ(target.wakes(), 1);
  CHECK(target.thread() == std::this_thread::get_id());
  results.setWaker(nullptr);
  waker.removeTarget(&target);
}

TEST(once_the_waker_is_gone_a_result_wakes_nothing_and_is_kept) {
  Target target;
  OffloadResults results;
  {
    Loop loop;
    LoopWaker waker(&loop.loop, nullptr);
    results.setWaker(&waker);
    waker.addTarget(&target);
    results.setWaker(nullptr);  // the environment lets go of the waker before destroying it
    waker.removeTarget(&target);
  }
  addFromPoolThread(results, resultOf(5));
  CHECK_EQ(target.wakes(), 0);
  CHECK_EQ(results.take().size(), 1u);
}
