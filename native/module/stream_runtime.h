// What a stream or connection needs of its environment's JavaScript runtime: entering a call from
// Envoy, running the loop, the waker, and the runtime's entries for one stream. The stream logic
// (js_stream.h, http_stream_core.h) reaches JavaScript only through it, so it runs in unit tests
// with a fake (test/native/module); environment_runtime.h is the real one.
#pragma once

#include <cstdint>

#include "native/bridge/codes.h"
#include "native/bridge/stream_table.h"
#include "native/runtime/loop_waker.h"

namespace envoy_ts::module {

class StreamRuntime {
 public:
  virtual ~StreamRuntime() = default;

  // A call from Envoy into the environment starts / ends (runtime::Environment::CallScope: the
  // outermost one pumps the loop, runs the CPU budget's section and re-arms the waker).
  virtual void enterCall() = 0;
  virtual void leaveCall() = 0;
  // Runs what the loop has due (`poll_now`: the loop's fd is readable).
  virtual void pump(bool poll_now) = 0;
  // The environment runs no more JavaScript (runtime::Environment::Broken).
  virtual bool broken() const = 0;
  // The stream starts / stops waiting on the loop (a waker target while it does).
  virtual void addWaiter(runtime::WakeTarget* stream) = 0;
  virtual void removeWaiter(runtime::WakeTarget* stream) = 0;
  // One of the stream's calls from Envoy returns: views of Envoy's buffers made in it go.
  virtual void leaveStreamCall() = 0;

  // The runtime's entries for one stream (bridge::Bridge). `waiting` (HTTP) gets which direction
  // the runtime's pending hook holds after the call (0: none; else 1 + bridge::BufferKind).
  virtual bool hasConfig(uint64_t config_id) = 0;
  virtual bridge::HookOutcome runHook(uint64_t config_id, bridge::StreamRef ref,
                                      bridge::HookKind hook, uint32_t flags,
                                      uint64_t route_config_id, uint32_t& waiting) = 0;
  virtual bridge::HookOutcome runNetworkHook(uint64_t config_id, bridge::StreamRef ref,
                                             bridge::NetworkHookKind hook, bool end_of_stream) = 0;
  virtual bridge::HookOutcome resume(bridge::StreamRef ref, uint32_t& waiting) = 0;
  // The stream is gone for JavaScript; with `notify_js` the runtime hears of it (onDestroy).
  virtual void close(bridge::StreamRef ref, bool notify_js) = 0;

  // Scope of one call from Envoy.
  class CallScope {
   public:
    explicit CallScope(StreamRuntime& runtime) : runtime_(runtime) { runtime_.enterCall(); }
    ~CallScope() { runtime_.leaveCall(); }
    CallScope(const CallScope&) = delete;
    CallScope& operator=(const CallScope&) = delete;

   private:
    StreamRuntime& runtime_;
  };
};

}  // namespace envoy_ts::module
