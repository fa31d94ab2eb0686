#include "native/module/http_stream_core.h"

#include <algorithm>
#include <string>

#include "native/runtime/log.h"

namespace envoy_ts::module {

using bridge::BufferKind;
using bridge::HookKind;
using bridge::HookOutcome;
using Body = HttpEnvoy::Body;

namespace {

uint32_t endFlag(bool end_of_stream) { return end_of_stream ? bridge::HookFlags::kEndOfStream : 0; }

BufferKind directionOf(HookKind hook) {
  return hook == HookKind::RequestHeaders || hook == HookKind::RequestBody ||
                 hook == HookKind::RequestTrailers
             ? BufferKind::Read
             : BufferKind::Write;
}

}  // namespace

HttpStreamCore::HttpStreamCore(const HttpChain& chain, HttpEnvoy& envoy, StreamRuntime& runtime,
                               bridge::StreamRef ref)
    : JsStream(runtime, chain.fail_open), chain_(chain), envoy_(envoy) {
  ref_ = ref;
}

// ---- Hooks ----

HeadersStatus HttpStreamCore::onRequestHeaders(bool end_of_stream) {
  return headersStatus(BufferKind::Read, runHook(HookKind::RequestHeaders, endFlag(end_of_stream)));
}

HeadersStatus HttpStreamCore::onResponseHeaders(bool end_of_stream) {
  response_started_ = true;
  return headersStatus(BufferKind::Write, runHook(HookKind::ResponseHeaders, endFlag(end_of_stream)));
}

HeadersStatus HttpStreamCore::onTrailers(BufferKind direction) {
  const HookKind hook =
      direction == BufferKind::Read ? HookKind::RequestTrailers : HookKind::ResponseTrailers;
  return headersStatus(direction, runHook(hook, bridge::HookFlags::kEndOfStream));
}

HeadersStatus HttpStreamCore::headersStatus(BufferKind direction, HookOutcome outcome) {
  if (outcome == HookOutcome::Failed) {
    failClosed();
  }
  body(direction).stopped = outcome != HookOutcome::Continue;
  return outcome == HookOutcome::Continue ? HeadersStatus::Continue : HeadersStatus::StopIteration;
}

BodyStatus HttpStreamCore::onBody(BufferKind direction, bool end_of_stream) {
  BodyState& state = body(direction);
  const HookKind hook = direction == BufferKind::Read ? HookKind::RequestBody : HookKind::ResponseBody;
  if (!crosses(hook, direction)) {
    // Nothing in JS looks at this chunk: pass it on without a crossing.
    state.flowed_unseen = true;
    return BodyStatus::Continue;
  }
  state.in_body_hook = true;
  HookOutcome outcome = runHook(hook, endFlag(end_of_stream));
  state.in_body_hook = false;
  switch (outcome) {
  case HookOutcome::Continue:
    state.stopped = false;
    return BodyStatus::Continue;
  case HookOutcome::Pending:
    state.stopped = true;
    return state.whole ? BodyStatus::StopIterationAndBuffer : BodyStatus::StopIterationAndWatermark;
  case HookOutcome::Failed:
    failClosed();
    [[fallthrough]];
  case HookOutcome::Replied:
    break;
  }
  state.stopped = true;
  return BodyStatus::StopIterationNoBuffer;
}

bool HttpStreamCore::crosses(HookKind hook, BufferKind direction) {
  const BodyState& state = body(direction);
  return listens(hook) || waiting() || state.stopped || state.whole || runtime_.broken();
}

HookOutcome HttpStreamCore::runHook(HookKind hook, uint32_t flags) {
  const BufferKind direction = directionOf(hook);
  if (hook != HookKind::StreamComplete && !crosses(hook, direction)) {
    return HookOutcome::Continue;
  }
  return enter(direction == BufferKind::Read ? kRequest : kResponse, [&](Phase& waiting) {
    if (!runtime_.hasConfig(chain_.id)) {
      if (hook == HookKind::StreamComplete) {
        return HookOutcome::Continue;  // its hooks said so already
      }
      runtime::log(runtime::LogLevel::Error, "this worker has no usable copy of filter config " +
                                                 std::to_string(chain_.id));
      return HookOutcome::Failed;
    }
    const uint64_t route_config_id = crossed_ ? 0 : envoy_.routeConfigId();
    crossed_ = true;
    return runtime_.runHook(chain_.id, ref_, hook, flags, route_config_id, waiting);
  });
}

void HttpStreamCore::applyResume(Phase phase, HookOutcome outcome) {
  switch (outcome) {
  case HookOutcome::Continue:
    if (phase == kRequest) {
      body(BufferKind::Read).stopped = false;
      envoy_.continueDecoding();
    } else {
      body(BufferKind::Write).stopped = false;
      envoy_.continueEncoding();
    }
    break;
  case HookOutcome::Failed:
    failClosed();
    break;
  case HookOutcome::Pending:
  case HookOutcome::Replied:
    break;
  }
}

void HttpStreamCore::failClosed() {
  static constexpr std::string_view kBody = "internal error";
  static constexpr std::string_view kDetails = "envoy_ts_runtime_failed";
  envoy_.sendLocalReply(500, {}, kBody, kDetails);
}

// JS hears of the stream's end only when something there waits for it: an onStreamComplete hook,
// a pending hook, or what asked with wantEnd (an abort signal, fetches). That call runs the
// end-of-stream hooks while the stream's data can still be read, then JS drops the stream
// (aborting what is pending), so closing needs no second call. The stats JS handed over are
// recorded either way, while Envoy's stream is still there.
void HttpStreamCore::onStreamComplete() {
  if (closed_) {
    return;
  }
  completed_ = true;
  if (listens(HookKind::StreamComplete) || waiting() || end_wanted_) {
    runHook(HookKind::StreamComplete, response_started_ ? bridge::HookFlags::kResponseStarted : 0);
  }
  if (!inHook()) {
    recordStats();
  }
  closeJs(/*notify_js=*/false);
}

// Envoy completes every stream before destroying it; a destroy without that (stream callbacks may
// be no-ops by now) only lets JS go of the stream, telling it when something there waits.
void HttpStreamCore::onDestroy() {
  if (closed_) {
    return;
  }
  if (waiting() || end_wanted_) {
    StreamRuntime::CallScope scope(runtime_);
    closeJs();
    runtime_.pump(false);
  } else {
    closeJs(/*notify_js=*/false);
  }
}

void HttpStreamCore::leftHooks() {
  if (completed_) {
    recordStats();
  }
}

void HttpStreamCore::recordStats() {
  static const std::vector<std::string> kNoLabels;
  stats_.takeEach([&](const bridge::StreamStats::Record& record) {
    envoy_.recordMetric(record.index, record.op, record.value, kNoLabels);
  });
}

// ---- Bodies ----

bool HttpStreamCore::holdsBuffered(BufferKind direction) {
  const BodyState& state = body(direction);
  return state.stopped && !(state.in_body_hook && envoy_.receivedIsBuffered(direction));
}

bool HttpStreamCore::bufferSlices(BufferKind direction, std::vector<std::string_view>& out) {
  out.clear();
  if (holdsBuffered(direction)) {
    envoy_.bodySlices(direction, Body::Buffered, out);
  }
  if (body(direction).in_body_hook) {
    envoy_.bodySlices(direction, Body::Received, out);
  }
  return true;
}

bool HttpStreamCore::bufferLength(BufferKind direction, size_t& length) {
  length = 0;
  if (holdsBuffered(direction)) {
    length += envoy_.bodySize(direction, Body::Buffered);
  }
  if (body(direction).in_body_hook) {
    length += envoy_.bodySize(direction, Body::Received);
  }
  return true;
}

bool HttpStreamCore::drainBuffer(BufferKind direction, size_t length) {
  if (holdsBuffered(direction)) {
    const size_t from_buffered = std::min(envoy_.bodySize(direction, Body::Buffered), length);
    if (from_buffered > 0) {
      envoy_.drainBody(direction, Body::Buffered, from_buffered);
    }
    length -= from_buffered;
  }
  if (body(direction).in_body_hook && length > 0) {
    envoy_.drainBody(direction, Body::Received, length);
  }
  return true;
}

// Envoy's ABI has no prepend for bodies: the held bytes are put back behind `data` (a copy).
bool HttpStreamCore::prependBuffer(BufferKind direction, std::string_view data) {
  std::vector<std::string_view> slices;
  bufferSlices(direction, slices);
  std::string combined(data);
  size_t held = 0;
  for (std::string_view slice : slices) {
    combined.append(slice);
    held += slice.size();
  }
  drainBuffer(direction, held);
  return appendBuffer(direction, combined);
}

bool HttpStreamCore::appendBuffer(BufferKind direction, std::string_view data) {
  const BodyState& state = body(direction);
  if (state.in_body_hook) {
    return envoy_.appendBody(direction, Body::Received, data);
  }
  // Outside a body hook only a filter that holds the direction may add to its buffered body.
  return state.stopped && envoy_.appendBody(direction, Body::Buffered, data);
}

bridge::WholeBodyState HttpStreamCore::bufferWholeBody(BufferKind direction) {
  BodyState& state = body(direction);
  if (state.flowed_unseen) {
    return bridge::WholeBodyState::Flowed;
  }
  state.whole = true;
  const uint64_t limit = envoy_.bufferLimit();
  size_t held = 0;
  bufferLength(direction, held);
  return limit == 0 || held <= limit ? bridge::WholeBodyState::Buffering
                                     : bridge::WholeBodyState::OverLimit;
}

}  // namespace envoy_ts::module
