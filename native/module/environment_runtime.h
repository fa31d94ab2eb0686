// The StreamRuntime of a stream or connection: its environment (native/runtime) and the bridge
// that calls the environment's runtime (native/bridge). One per stream: two references.
#pragma once

#include "native/bridge/bridge.h"
#include "native/module/stream_runtime.h"
#include "native/runtime/environment.h"

namespace envoy_ts::module {

class EnvironmentRuntime final : public StreamRuntime {
 public:
  explicit EnvironmentRuntime(runtime::Environment& env)
      : env_(env), bridge_(bridge::Bridge::of(env)) {}

  runtime::Environment& environment() { return env_; }
  bridge::Bridge& bridge() { return bridge_; }

  void enterCall() override { env_.enterCall(); }
  void leaveCall() override { env_.leaveCall(); }
  void pump(bool poll_now) override {
    env_.pump(poll_now ? runtime::Environment::Poll::Now : runtime::Environment::Poll::IfDue);
  }
  bool broken() const override { return env_.broken() != runtime::Environment::Broken::No; }
  void addWaiter(runtime::WakeTarget* stream) override { env_.waker()->addTarget(stream); }
  void removeWaiter(runtime::WakeTarget* stream) override { env_.waker()->removeTarget(stream); }
  void leaveStreamCall() override { bridge_.detachViews(env_.callDepth()); }
  bool hasConfig(uint64_t config_id) override { return bridge_.hasConfig(config_id); }
  bridge::HookOutcome runHook(uint64_t config_id, bridge::StreamRef ref, bridge::HookKind hook,
                              uint32_t flags, uint64_t route_config_id,
                              uint32_t& waiting) override {
    return bridge_.runHook(config_id, ref, hook, flags, route_config_id, waiting);
  }
  bridge::HookOutcome runNetworkHook(uint64_t config_id, bridge::StreamRef ref,
                                     bridge::NetworkHookKind hook, bool end_of_stream) override {
    return bridge_.runNetworkHook(config_id, ref, hook, end_of_stream);
  }
  bridge::HookOutcome resume(bridge::StreamRef ref, uint32_t& waiting) override {
    return bridge_.resume(ref, waiting);
  }
  void close(bridge::StreamRef ref, bool notify_js) override { bridge_.closeStream(ref, notify_js); }

 private:
  runtime::Environment& env_;
  bridge::Bridge& bridge_;
};

}  // namespace envoy_ts::module
