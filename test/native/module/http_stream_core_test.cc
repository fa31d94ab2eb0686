// The HTTP stream's logic without Envoy or Node: which hooks call into JavaScript, the statuses
// Envoy gets, the body a filter holds, how a waiting stream resumes, and the answer to a failed
// call. Envoy and the runtime are fakes (fake_http_envoy.h, fake_stream_runtime.h).
#include "native/module/http_stream_core.h"

#include <ostream>

#include "test/native/check.h"
#include "test/native/module/fake_http_envoy.h"
#include "test/native/module/fake_stream_runtime.h"

namespace envoy_ts::module {

std::ostream& operator<<(std::ostream& out, HeadersStatus status) {
  return out << (status == HeadersStatus::Continue ? "Continue" : "StopIteration");
}

std::ostream& operator<<(std::ostream& out, BodyStatus status) {
  switch (status) {
  case BodyStatus::Continue: return out << "Continue";
  case BodyStatus::StopIterationAndBuffer: return out << "StopIterationAndBuffer";
  case BodyStatus::StopIterationAndWatermark: return out << "StopIterationAndWatermark";
  case BodyStatus::StopIterationNoBuffer: break;
  }
  return out << "StopIterationNoBuffer";
}

}  // namespace envoy_ts::module

namespace envoy_ts::bridge {

std::ostream& operator<<(std::ostream& out, HookKind hook) {
  return out << "HookKind(" << static_cast<uint32_t>(hook) << ")";
}

std::ostream& operator<<(std::ostream& out, WholeBodyState state) {
  return out << "WholeBodyState(" << static_cast<uint32_t>(state) << ")";
}

}  // namespace envoy_ts::bridge

namespace bridge = envoy_ts::bridge;
using bridge::BufferKind;
using bridge::HookKind;
using bridge::HookOutcome;
using bridge::WaitReport;
using envoy_ts::module::BodyStatus;
using envoy_ts::module::HeadersStatus;
using envoy_ts::module::HttpChain;
using envoy_ts::module::HttpEnvoy;
using envoy_ts::module::HttpStreamCore;
using envoy_ts::module::JsStream;
using envoy_ts::test::FakeHttpEnvoy;
using envoy_ts::test::FakeStreamRuntime;

namespace {

constexpr uint32_t kAllHooks = bridge::kAllHooks;

uint32_t hooks(std::initializer_list<HookKind> kinds) {
  uint32_t mask = 0;
  for (HookKind kind : kinds) {
    mask |= bridge::hookBit(kind);
  }
  return mask;
}

// A stream of a chain with `mask`'s hooks, over fakes.
struct Stream {
  explicit Stream(uint32_t mask = kAllHooks, bool fail_open = false)
      : core(HttpChain{7, mask, fail_open}, envoy, runtime, bridge::StreamRef{3, 1}) {}
  Stream& answer(HookOutcome outcome, uint32_t waiting = WaitReport::kNone,
                 std::function<void()> meanwhile = nullptr) {
    runtime.answers.push_back({outcome, waiting, std::move(meanwhile)});
    return *this;
  }
  FakeHttpEnvoy envoy;
  FakeStreamRuntime runtime;
  HttpStreamCore core;
};

}  // namespace

// ---- Status mapping ----

TEST(headers_outcomes_map_to_envoy_statuses) {
  Stream s;
  s.answer(HookOutcome::Continue).answer(HookOutcome::Replied);
  CHECK_EQ(s.core.onRequestHeaders(false), HeadersStatus::Continue);
  CHECK_EQ(s.core.onResponseHeaders(true), HeadersStatus::StopIteration);
  CHECK(s.envoy.replies.empty());
  CHECK_EQ(s.runtime.hooks.size(), 2u);
  CHECK_EQ(s.runtime.hooks[0].flags, 0u);
  CHECK_EQ(s.runtime.hooks[1].flags, bridge::HookFlags::kEndOfStream);
}

TEST(a_pending_hook_stops_the_stream_and_waits_on_the_loop) {
  Stream s;
  s.answer(HookOutcome::Pending, WaitReport::kRequest);
  CHECK_EQ(s.core.onRequestHeaders(true), HeadersStatus::StopIteration);
  CHECK(s.core.waiting());
  CHECK(s.envoy.has_scheduler);
  CHECK_EQ(s.runtime.waiters.size(), 1u);
  CHECK(s.envoy.committed.empty());
}

TEST(body_outcomes_map_to_envoy_statuses) {
  Stream watermark;
  watermark.answer(HookOutcome::Pending, WaitReport::kRequest);
  CHECK_EQ(watermark.core.onBody(BufferKind::Read, false), BodyStatus::StopIterationAndWatermark);

  Stream whole;
  CHECK_EQ(whole.core.bufferWholeBody(BufferKind::Read), bridge::WholeBodyState::Buffering);
  whole.answer(HookOutcome::Pending, WaitReport::kRequest);
  CHECK_EQ(whole.core.onBody(BufferKind::Read, false), BodyStatus::StopIterationAndBuffer);

  Stream replied;
  replied.answer(HookOutcome::Replied);
  CHECK_EQ(replied.core.onBody(BufferKind::Write, true), BodyStatus::StopIterationNoBuffer);

  Stream passed;
  passed.answer(HookOutcome::Continue);
  CHECK_EQ(passed.core.onBody(BufferKind::Write, true), BodyStatus::Continue);
}

// ---- Failing closed ----

TEST(a_failed_call_answers_500_whatever_the_hook) {
  Stream headers;
  headers.answer(HookOutcome::Failed);
  CHECK_EQ(headers.core.onRequestHeaders(true), HeadersStatus::StopIteration);
  CHECK_EQ(headers.envoy.replies.size(), 1u);
  CHECK_EQ(headers.envoy.replies[0].status, 500u);
  CHECK_EQ(headers.envoy.replies[0].details, std::string("envoy_ts_runtime_failed"));

  Stream body;
  body.answer(HookOutcome::Failed);
  CHECK_EQ(body.core.onBody(BufferKind::Read, true), BodyStatus::StopIterationNoBuffer);
  CHECK_EQ(body.envoy.replies.size(), 1u);

  Stream trailers;
  trailers.answer(HookOutcome::Failed);
  CHECK_EQ(trailers.core.onTrailers(BufferKind::Write), HeadersStatus::StopIteration);
  CHECK_EQ(trailers.envoy.replies.size(), 1u);
}

TEST(a_stream_without_a_usable_config_fails_closed) {
  Stream s;
  s.runtime.has_config = false;
  CHECK_EQ(s.core.onRequestHeaders(true), HeadersStatus::StopIteration);
  CHECK(s.runtime.hooks.empty());
  CHECK_EQ(s.envoy.replies.size(), 1u);
}

TEST(a_broken_environment_fails_closed_or_goes_on_under_the_open_policy) {
  Stream closed;
  closed.runtime.is_broken = true;
  CHECK_EQ(closed.core.onRequestHeaders(true), HeadersStatus::StopIteration);
  CHECK_EQ(closed.envoy.replies.size(), 1u);

  Stream open(kAllHooks, /*fail_open=*/true);
  open.runtime.is_broken = true;
  CHECK_EQ(open.core.onRequestHeaders(true), HeadersStatus::Continue);
  CHECK(open.envoy.replies.empty());
}

TEST(a_broken_environment_reaches_even_the_hooks_the_chain_lacks) {
  // The request that broke the environment gets the policy at its next hook.
  Stream s(hooks({HookKind::RequestHeaders}));
  s.answer(HookOutcome::Continue);
  CHECK_EQ(s.core.onRequestHeaders(false), HeadersStatus::Continue);
  s.runtime.is_broken = true;
  CHECK_EQ(s.core.onResponseHeaders(true), HeadersStatus::StopIteration);
  CHECK_EQ(s.envoy.replies.size(), 1u);
}

// ---- Crossings only where a filter listens ----

TEST(hooks_the_chain_lacks_make_no_call_into_js) {
  Stream s(hooks({HookKind::RequestHeaders}));
  s.answer(HookOutcome::Continue);
  CHECK_EQ(s.core.onRequestHeaders(false), HeadersStatus::Continue);
  CHECK_EQ(s.core.onBody(BufferKind::Read, false), BodyStatus::Continue);
  CHECK_EQ(s.core.onTrailers(BufferKind::Read), HeadersStatus::Continue);
  CHECK_EQ(s.core.onResponseHeaders(false), HeadersStatus::Continue);
  CHECK_EQ(s.core.onBody(BufferKind::Write, false), BodyStatus::Continue);
  CHECK_EQ(s.core.onTrailers(BufferKind::Write), HeadersStatus::Continue);
  s.core.onStreamComplete();
  CHECK_EQ(s.runtime.hooks.size(), 1u);
  CHECK_EQ(s.runtime.hooks[0].kind, HookKind::RequestHeaders);
  CHECK_EQ(s.runtime.closed.size(), 1u);
  CHECK_EQ(s.runtime.closed[0], false);
  // The request body went on unseen: it can no longer be read whole.
  CHECK_EQ(s.core.bufferWholeBody(BufferKind::Read), bridge::WholeBodyState::Flowed);
}

TEST(a_waiting_stream_crosses_for_hooks_the_chain_lacks_and_drops_a_superseded_wait) {
  Stream s(hooks({HookKind::RequestHeaders}));
  s.answer(HookOutcome::Pending, WaitReport::kRequest);
  CHECK_EQ(s.core.onRequestHeaders(true), HeadersStatus::StopIteration);
  // A local reply from elsewhere starts the response while the request waits: the runtime sees it
  // (and drops the request's wait).
  s.answer(HookOutcome::Continue, WaitReport::kNone);
  CHECK_EQ(s.core.onResponseHeaders(true), HeadersStatus::Continue);
  CHECK_EQ(s.runtime.hooks.size(), 2u);
  CHECK(!s.core.waiting());
  CHECK(s.runtime.waiters.empty());
}

TEST(the_route_config_goes_with_the_first_call_whichever_hook_it_is) {
  Stream s(hooks({HookKind::ResponseHeaders, HookKind::ResponseTrailers}));
  s.envoy.route_config_id = 42;
  CHECK_EQ(s.core.onRequestHeaders(false), HeadersStatus::Continue);
  s.core.onResponseHeaders(false);
  s.core.onTrailers(BufferKind::Write);
  CHECK_EQ(s.runtime.hooks.size(), 2u);
  CHECK_EQ(s.runtime.hooks[0].route_config_id, 42u);
  CHECK_EQ(s.runtime.hooks[1].route_config_id, 0u);
}

// ---- A stream's end ----

TEST(the_end_reaches_js_only_where_something_waits_for_it) {
  Stream quiet(hooks({HookKind::RequestHeaders}));
  quiet.core.onRequestHeaders(true);
  quiet.core.onStreamComplete();
  CHECK_EQ(quiet.runtime.hooks.size(), 1u);

  Stream wanted(hooks({HookKind::RequestHeaders}));
  wanted.core.onRequestHeaders(true);
  wanted.core.wantEnd();
  wanted.core.onResponseHeaders(true);
  wanted.core.onStreamComplete();
  CHECK_EQ(wanted.runtime.hooks.size(), 2u);
  CHECK_EQ(wanted.runtime.hooks[1].kind, HookKind::StreamComplete);
  CHECK_EQ(wanted.runtime.hooks[1].flags, bridge::HookFlags::kResponseStarted);

  Stream listening(hooks({HookKind::StreamComplete}));
  listening.core.onStreamComplete();
  CHECK_EQ(listening.runtime.hooks.size(), 1u);
  CHECK_EQ(listening.runtime.hooks[0].flags, 0u);
}

TEST(stats_are_summed_and_recorded_once_when_the_stream_completes) {
  Stream s;
  s.answer(HookOutcome::Continue, WaitReport::kNone, [&] {
    s.core.addStat(1, bridge::MetricOp::Increment, 1);
    s.core.addStat(2, bridge::MetricOp::Record, 30);
  });
  s.core.onRequestHeaders(false);
  s.core.addStat(1, bridge::MetricOp::Increment, 1);
  s.core.addStat(2, bridge::MetricOp::Record, 12);
  CHECK(s.envoy.metrics.empty());
  s.core.onStreamComplete();
  CHECK_EQ(s.envoy.metrics.size(), 2u);
  CHECK(s.envoy.metrics[0] == std::make_tuple(1u, bridge::MetricOp::Increment, int64_t{2}));
  CHECK(s.envoy.metrics[1] == std::make_tuple(2u, bridge::MetricOp::Record, int64_t{42}));
}

TEST(a_stream_completing_inside_its_own_call_records_its_stats_after_it) {
  // A local reply sent from a hook completes the stream before the hook returns.
  Stream s(hooks({HookKind::RequestHeaders}));
  s.answer(HookOutcome::Replied, WaitReport::kNone, [&] {
    s.core.onStreamComplete();
    s.core.addStat(5, bridge::MetricOp::Increment, 1);
  });
  CHECK_EQ(s.core.onRequestHeaders(true), HeadersStatus::StopIteration);
  CHECK_EQ(s.envoy.metrics.size(), 1u);
  CHECK(s.envoy.metrics[0] == std::make_tuple(5u, bridge::MetricOp::Increment, int64_t{1}));
}

TEST(a_destroyed_waiting_stream_tells_js_and_stops_waiting) {
  Stream s;
  s.answer(HookOutcome::Pending, WaitReport::kRequest);
  s.core.onRequestHeaders(true);
  s.core.onDestroy();
  CHECK(s.runtime.waiters.empty());
  CHECK_EQ(s.runtime.closed.size(), 1u);
  CHECK_EQ(s.runtime.closed[0], true);
}

// ---- Resume ----

TEST(js_that_settles_inside_the_hook_is_resumed_before_it_returns) {
  Stream s;
  s.answer(HookOutcome::Pending, WaitReport::kRequest, [&] { s.core.requestResumeFromJs(); })
      .answer(HookOutcome::Continue, WaitReport::kNone);
  CHECK_EQ(s.core.onRequestHeaders(true), HeadersStatus::Continue);
  CHECK_EQ(s.runtime.resumes, 1);
  CHECK(!s.core.waiting());
  CHECK(s.runtime.waiters.empty());
  CHECK(s.envoy.committed.empty());
  CHECK_EQ(s.envoy.continued_decoding, 0);
}

TEST(js_that_settles_later_is_resumed_from_the_streams_scheduler) {
  Stream s;
  s.answer(HookOutcome::Pending, WaitReport::kRequest);
  CHECK_EQ(s.core.onRequestHeaders(true), HeadersStatus::StopIteration);
  s.core.requestResumeFromJs();
  CHECK_EQ(s.envoy.committed.size(), 1u);
  CHECK_EQ(s.envoy.committed[0], JsStream::kResumeEvent);
  s.answer(HookOutcome::Continue, WaitReport::kNone);
  s.core.onScheduledEvent(JsStream::kResumeEvent);
  CHECK_EQ(s.envoy.continued_decoding, 1);
  CHECK(!s.core.waiting());
  CHECK(s.runtime.waiters.empty());
}

TEST(a_resume_of_the_response_continues_encoding) {
  Stream s;
  s.answer(HookOutcome::Continue).answer(HookOutcome::Pending, WaitReport::kResponse);
  s.core.onRequestHeaders(true);
  CHECK_EQ(s.core.onResponseHeaders(false), HeadersStatus::StopIteration);
  s.core.requestResumeFromJs();
  s.answer(HookOutcome::Continue);
  s.core.onScheduledEvent(JsStream::kResumeEvent);
  CHECK_EQ(s.envoy.continued_encoding, 1);
  CHECK_EQ(s.envoy.continued_decoding, 0);
}

TEST(what_settles_while_a_pump_event_runs_the_loop_is_applied_in_that_event) {
  Stream s;
  s.answer(HookOutcome::Pending, WaitReport::kRequest);
  s.core.onRequestHeaders(true);
  s.runtime.next_pump = [&] { s.core.requestResumeFromJs(); };  // JS settles in the loop
  s.answer(HookOutcome::Continue);
  s.core.onScheduledEvent(JsStream::kPumpEvent);
  CHECK_EQ(s.runtime.resumes, 1);
  CHECK_EQ(s.envoy.continued_decoding, 1);
  CHECK(s.envoy.committed.empty());
}

TEST(a_resume_that_fails_answers_500) {
  Stream s;
  s.answer(HookOutcome::Pending, WaitReport::kRequest);
  s.core.onRequestHeaders(true);
  s.core.requestResumeFromJs();
  s.answer(HookOutcome::Failed);
  s.core.onScheduledEvent(JsStream::kResumeEvent);
  CHECK_EQ(s.envoy.replies.size(), 1u);
  CHECK_EQ(s.envoy.replies[0].status, 500u);
  CHECK_EQ(s.envoy.continued_decoding, 0);
}

TEST(a_closed_stream_ignores_its_events) {
  Stream s;
  s.answer(HookOutcome::Pending, WaitReport::kRequest);
  s.core.onRequestHeaders(true);
  s.core.onStreamComplete();
  s.core.onScheduledEvent(JsStream::kResumeEvent);
  s.core.requestResumeFromJs();
  CHECK_EQ(s.runtime.resumes, 0);
  CHECK_EQ(s.envoy.continued_decoding, 0);
}

// ---- Body arithmetic ----

TEST(the_held_body_is_the_buffered_body_then_the_received_chunk) {
  Stream s;
  s.envoy.buffered[0] = {"ab", "", "cd"};
  s.envoy.received[0] = {"ef"};
  // Held since the headers (stopped): the buffered body counts, then the chunk of the hook.
  s.answer(HookOutcome::Pending, WaitReport::kRequest);
  s.core.onRequestHeaders(false);
  size_t outside = 0;
  s.core.bufferLength(BufferKind::Read, outside);
  CHECK_EQ(outside, 4u);
  size_t length = 0;
  std::vector<std::string> held;  // copies: views last until the body changes
  s.answer(HookOutcome::Pending, WaitReport::kRequest, [&] {
    s.core.bufferLength(BufferKind::Read, length);
    std::vector<std::string_view> slices;
    s.core.bufferSlices(BufferKind::Read, slices);
    held.assign(slices.begin(), slices.end());
    s.core.drainBuffer(BufferKind::Read, 5);
  });
  s.core.onBody(BufferKind::Read, false);
  CHECK_EQ(length, 6u);
  CHECK(held == std::vector<std::string>({"ab", "cd", "ef"}));  // empty slices are left out
  // Drained from the buffered body first, then the chunk.
  CHECK_EQ(s.envoy.text(BufferKind::Read, HttpEnvoy::Body::Buffered), std::string());
  CHECK_EQ(s.envoy.text(BufferKind::Read, HttpEnvoy::Body::Received), std::string("f"));
}

TEST(a_received_chunk_that_is_the_buffered_body_counts_once) {
  Stream s;
  s.envoy.buffered[1] = {"xyz"};
  s.envoy.received[1] = {"xyz"};
  s.envoy.received_is_buffered[1] = true;
  s.answer(HookOutcome::Continue).answer(HookOutcome::Pending, WaitReport::kResponse);
  s.core.onRequestHeaders(true);
  s.core.onResponseHeaders(false);
  size_t length = 0;
  s.answer(HookOutcome::Pending, WaitReport::kResponse,
           [&] { s.core.bufferLength(BufferKind::Write, length); });
  s.core.onBody(BufferKind::Write, false);
  CHECK_EQ(length, 3u);
}

TEST(prepend_puts_the_held_bytes_back_behind_the_new_ones) {
  Stream s;
  s.envoy.received[0] = {"world"};
  s.answer(HookOutcome::Continue, WaitReport::kNone,
           [&] { s.core.prependBuffer(BufferKind::Read, "hello "); });
  s.core.onBody(BufferKind::Read, true);
  CHECK_EQ(s.envoy.text(BufferKind::Read, HttpEnvoy::Body::Received), std::string("hello world"));
}

TEST(only_a_filter_holding_the_body_may_add_to_it_outside_a_body_hook) {
  Stream s;
  CHECK(!s.core.appendBuffer(BufferKind::Read, "x"));
  s.answer(HookOutcome::Pending, WaitReport::kRequest);
  s.core.onRequestHeaders(false);
  CHECK(s.core.appendBuffer(BufferKind::Read, "x"));
  CHECK_EQ(s.envoy.text(BufferKind::Read, HttpEnvoy::Body::Buffered), std::string("x"));
}

TEST(a_whole_body_over_the_buffer_limit_is_reported) {
  Stream s;
  s.envoy.limit = 3;
  s.envoy.buffered[0] = {"abcd"};
  s.answer(HookOutcome::Pending, WaitReport::kRequest);
  s.core.onRequestHeaders(false);
  CHECK_EQ(s.core.bufferWholeBody(BufferKind::Read), bridge::WholeBodyState::OverLimit);
  s.envoy.limit = 0;
  CHECK_EQ(s.core.bufferWholeBody(BufferKind::Read), bridge::WholeBodyState::Buffering);
}
