// One HTTP stream through the TypeScript chain, without the ABI: which hooks call into JavaScript,
// what each answers Envoy, what this filter holds of each body, how a waiting stream resumes, and
// what a failed call answers. It reaches Envoy through HttpEnvoy and JavaScript through
// StreamRuntime; http_stream.h adapts it to Envoy's ABI. Unit tests: test/native/module.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "native/bridge/codes.h"
#include "native/bridge/stream_stats.h"
#include "native/module/http_envoy.h"
#include "native/module/js_stream.h"

namespace envoy_ts::module {

// What a headers or trailers hook answers.
enum class HeadersStatus { Continue, StopIteration };
// What a body hook answers.
enum class BodyStatus { Continue, StopIterationAndBuffer, StopIterationAndWatermark, StopIterationNoBuffer };

// What the stream knows of its filter config.
struct HttpChain {
  uint64_t id;     // runtime::ConfigRegistry id
  uint32_t hooks;  // bridge::hookBit bits: which hooks the chain has
  bool fail_open;  // failurePolicy "open"
};

class HttpStreamCore final : public JsStream {
 public:
  // `ref`: the stream's handle in the environment's stream table.
  HttpStreamCore(const HttpChain& chain, HttpEnvoy& envoy, StreamRuntime& runtime,
                 bridge::StreamRef ref);

  // Envoy's hooks. While JS works on headers the filter answers StopIteration, not StopAll:
  // Envoy then keeps calling the body and trailer hooks, so JS sees the body arrive (and can read
  // it whole) while each chunk is held with flow control or buffered.
  HeadersStatus onRequestHeaders(bool end_of_stream);
  HeadersStatus onResponseHeaders(bool end_of_stream);
  BodyStatus onBody(bridge::BufferKind direction, bool end_of_stream);
  HeadersStatus onTrailers(bridge::BufferKind direction);
  void onStreamComplete();
  // Envoy destroys the stream (after completing it, unless it is torn down).
  void onDestroy();
  // An Envoy event JS must see (a callout's answer): `call` makes the call into JS.
  template <class Call>
  void deliver(Call call) {
    deliverToJs(call);
  }

  // bridge::StreamHost's part that is the stream's own.
  void addStat(uint32_t index, bridge::MetricOp op, int64_t value) { stats_.add(index, op, value); }
  void wantEnd() { end_wanted_ = true; }
  // The bytes of `direction` this filter may see and change now: the buffered body while
  // iteration is stopped here, then the received chunk inside a body hook. That is what Envoy
  // hands on when the filter continues.
  bool bufferSlices(bridge::BufferKind direction, std::vector<std::string_view>& out);
  bool bufferLength(bridge::BufferKind direction, size_t& length);
  bool drainBuffer(bridge::BufferKind direction, size_t length);
  bool prependBuffer(bridge::BufferKind direction, std::string_view data);
  bool appendBuffer(bridge::BufferKind direction, std::string_view data);
  bridge::WholeBodyState bufferWholeBody(bridge::BufferKind direction);

 private:
  // Which direction is stopped while JS works: 1 + bridge::BufferKind, as the runtime reports it.
  static constexpr Phase kRequest = bridge::WaitReport::kRequest;
  static constexpr Phase kResponse = bridge::WaitReport::kResponse;

  // What this filter knows about one direction's body (index: bridge::BufferKind).
  struct BodyState {
    bool in_body_hook = false;  // the received chunk exists
    // Envoy's iteration stopped at this filter: the buffered body is what this filter holds.
    bool stopped = false;
    // JS reads the whole body: Pending buffers (limit → 413/500) instead of using watermarks.
    bool whole = false;
    // Body bytes went on without JS seeing them (the chain has no body hooks for it).
    bool flowed_unseen = false;
  };

  BodyState& body(bridge::BufferKind direction) { return body_[static_cast<size_t>(direction)]; }
  // Whether a filter of the chain has `hook`.
  bool listens(bridge::HookKind hook) const { return (chain_.hooks & bridge::hookBit(hook)) != 0; }
  // Whether `hook` must call into JS: a filter has it, or the stream waits on JS, or JS holds the
  // direction's body (it must see what comes after). Otherwise the hook goes on natively, unless
  // the environment broke: the stream then gets the failure policy at its next hook.
  bool crosses(bridge::HookKind hook, bridge::BufferKind direction);
  // Runs `hook` in JS if it crosses (Continue otherwise). `flags`: bridge::HookFlags.
  bridge::HookOutcome runHook(bridge::HookKind hook, uint32_t flags);
  // Headers and trailers: Continue, or StopIteration while JS works or after a local reply.
  HeadersStatus headersStatus(bridge::BufferKind direction, bridge::HookOutcome outcome);
  // The call into JS itself failed: answer as the default failure policy ("closed") does.
  void failClosed();
  // The bytes this filter holds of `direction` before the received chunk (the buffered body, when
  // it is not the received chunk itself).
  bool holdsBuffered(bridge::BufferKind direction);
  // Records the stats JS handed over (once, when the stream completes: when it completes inside
  // one of its own calls into JS, e.g. a local reply, once that call returned).
  void recordStats();

  // JsStream
  void ensureScheduler() override { envoy_.ensureScheduler(); }
  void commitEvent(uint64_t event_id) override { envoy_.commitEvent(event_id); }
  void applyResume(Phase phase, bridge::HookOutcome outcome) override;
  void leftHooks() override;

  const HttpChain chain_;
  HttpEnvoy& envoy_;
  BodyState body_[2];
  bool crossed_ = false;           // JS was called for this stream (it has its route config)
  bool response_started_ = false;  // the response headers reached this filter
  bool end_wanted_ = false;        // JS asked to hear of the stream's end (wantEnd)
  bool completed_ = false;         // Envoy completed the stream
  bridge::StreamStats stats_;
};

}  // namespace envoy_ts::module
