// The JS-facing side of one embedded environment: the binding JS calls, and the calls into the
// runtime's dispatcher (ts-filters/runtime/native.d.ts). Knows no threads: everything here runs
// on the thread the environment is attached to.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "napi.h"
#include "native/bridge/buffer_views.h"
#include "native/bridge/codes.h"
#include "native/bridge/kept_array.h"
#include "native/bridge/runtime_entries.h"
#include "native/bridge/stream_table.h"
#include "native/runtime/config_registry.h"
#include "native/runtime/environment.h"


namespace envoy_ts::bridge {

class Bridge : public runtime::EnvironmentClient {
 public:
  // Registers process._linkedBinding('envoy_ts') in a new environment (runtime::BindingInitializer).
  static napi_value initBinding(napi_env env, napi_value exports);
  // The bridge of an environment whose runtime has started.
  static Bridge& of(runtime::Environment& env);

  // ---- Configs ----
  // Loads and validates a filter config in this environment. Returns "" or the problem. With
  // `pinned`, its bundle is compiled from that source (what the validating environment read)
  // rather than read from the file. Loading a config id again (a newer `revision`) replaces it
  // only if the new load succeeds: otherwise the loaded revision keeps serving.
  std::string loadConfig(uint64_t config_id, const std::string& json, ConfigKind kind,
                         const runtime::BundleSource* pinned = nullptr, uint64_t revision = 0);
  // Watch mode: loads the config's bundle again from its file if it changed, validated against the
  // metrics Envoy defined for it. Returns "" (reloaded, or unchanged: compare bundleOf's hash) or
  // why the new version was rejected (the config keeps its version).
  std::string reloadConfig(uint64_t config_id);
  // The bundle version a loaded config runs, and whether the config is in watch mode.
  struct LoadedBundle {
    std::shared_ptr<const runtime::BundleSource> source;
    bool watch = false;
  };
  std::optional<LoadedBundle> bundleOf(uint64_t config_id);
  // The revision of config `config_id` this environment loaded (a reload validated here).
  void noteRevision(uint64_t config_id, uint64_t revision);
  // The metrics a loaded config's filters declare, in the order JS addresses them.
  struct MetricDeclaration {
    std::string name;                 // "<filter>.<metric>"
    std::string kind;                 // "counter" | "gauge" | "histogram"
    std::vector<std::string> labels;  // label names
  };
  std::vector<MetricDeclaration> describeMetrics(uint64_t config_id);
  // Which hooks a loaded HTTP config's chain has (hookBit bits).
  uint32_t hookMask(uint64_t config_id);
  // Whether a loaded config's failurePolicy is "open".
  bool failOpen(uint64_t config_id);
  void unloadConfig(uint64_t config_id);
  // Loads the configs registered since the last call and drops the removed ones. Cheap when
  // nothing changed. `occasion` says in the log when a worker did it (see syncOccasion).
  enum class SyncOccasion { Prepared, StreamStart, AheadOfStreams };
  void syncConfigs(SyncOccasion occasion = SyncOccasion::Prepared);
  // Whether configs changed since the last syncConfigs (lock-free).
  bool configsBehind() const;
  // Whether this environment runs config `config_id` as it is live now (its latest revision).
  bool runsLatest(uint64_t config_id) const;
  bool hasConfig(uint64_t config_id) const;
  // Why the config could not be loaded here ("" when it was, or was never tried).
  std::string configError(uint64_t config_id) const;

  // ---- Streams ----
  StreamRef openStream(StreamHost* host) { return streams_.open(host, StreamTable::Kind::Http); }
  StreamRef openConnection(ConnectionHost* host) {
    return streams_.open(host, StreamTable::Kind::Network);
  }
  // Invalidates the stream for JS first, then (with `notify_js`) tells the runtime, which aborts
  // pending work. Without it the runtime already let go (the StreamComplete hook does), or nothing
  // waits for the stream's end (its state goes when its slot is used again).
  void closeStream(StreamRef ref, bool notify_js = true);
  // `flags`: HookFlags. `route_config_id`: the stream's per-route config (0 for none), given on
  // its first call. The built-in stats the call leaves go to the stream (StreamHost::addStat);
  // `waiting` gets what the runtime reports of the stream's wait (WaitReport).
  // StreamComplete: JS runs its end-of-stream hooks and drops the stream (outcome Continue).
  HookOutcome runHook(uint64_t config_id, StreamRef ref, HookKind hook, uint32_t flags,
                      uint64_t route_config_id, uint32_t& waiting);
  HookOutcome runNetworkHook(uint64_t config_id, StreamRef ref, NetworkHookKind hook,
                             bool end_of_stream);
  void networkEvent(StreamRef ref, NetworkEvent event);
  // A callout of the stream finished: `result` is Envoy's callout result (0 success); headers and
  // body are Envoy's, valid during the call (JS gets copies).
  void calloutDone(StreamRef ref, uint64_t callout_id, uint32_t result, const HeaderList& headers,
                   const std::vector<std::string_view>& body);
  // An event of a streaming callout: headers or trailers (`headers`), a piece of the body
  // (`data`: Envoy's slices, copied for JS), completion, or a reset (`reset_reason`).
  void fetchStreamEvent(StreamRef ref, uint64_t stream_id, FetchStreamEvent event,
                        const HeaderList& headers, const std::vector<std::string_view>& data,
                        bool end_stream, uint32_t reset_reason);
  HookOutcome resume(StreamRef ref, uint32_t& waiting);

  // ---- Buffer views ----
  BufferViews& views() { return views_; }
  // The hook at call depth `depth` is returning to Envoy: its views must not outlive it.
  void detachViews(int depth) {
    if (jsUsable()) {
      views_.detachFrom(depth);
    }
  }
  int callDepth() const;

  // ---- For the binding functions ----
  StreamTable& streams() { return streams_; }
  void setDispatcher(Napi::Object dispatcher);
  // The runtime's typed arrays that native code reads and writes in place (KeptArray).
  // Streams' stats ([index, op, value] triples), a Float64Array.
  void setStatsBuffer(napi_value array, const double* records, size_t length) {
    stats_records_.adopt(env_, array, records, length);
  }
  // The crossing frame (CrossingFrame slots), a Uint32Array.
  void setCrossingFrame(napi_value array, uint32_t* frame, size_t length) {
    frame_.adopt(env_, array, frame, length);
  }
  // The clock cell, where stampClock leaves the time: a Float64Array.
  void setClockCell(napi_value array, double* cell, size_t length) {
    clock_cell_.adopt(env_, array, cell, length);
  }
  // binding.stampClock(): the monotonic clock's reading, in µs, to the clock cell; the
  // environment's next loop pump takes it as its time (Environment::noteClockReading).
  void stampClock();
  // Node's tick info (binding.setTickInfo): [a nextTick callback is queued, a rejection waits to
  // be reported], a Uint8Array over memory of Node's.
  void setTickInfo(napi_value array, const uint8_t* tick_info, size_t length) {
    tick_info_.adopt(env_, array, tick_info, length);
  }
  // The runtime's own code keeps failing here (binding.environmentBroken).
  void environmentBroken() { owner_.markBroken(runtime::Environment::Broken::RuntimeFailing); }
  // The runtime's Int32Array of watch slots (runtime::WatchSlot), for the CPU watchdog.
  void setWatchSlots(napi_value array, int32_t* slots, size_t length);
  bool isMainThread() const;

  // runtime::EnvironmentClient.
  void onBudgetOverrun() override;
  void onBroken() override;
  bool holdsStreams() override { return streams_.openCount() > 0; }
  runtime::Environment& environment() { return owner_; }

  explicit Bridge(napi_env env, runtime::Environment& owner);
  Bridge(const Bridge&) = delete;
  Bridge& operator=(const Bridge&) = delete;

 private:
  // How a call into the runtime went.
  enum class CallResult {
    Ok,
    Failed,   // JS threw (logged)
    Stopped,  // the CPU watchdog stopped it; `result` holds the runtime's answer for the stream
  };
  // One call into the runtime, `result` valid in the caller's handle scope. `ref` is the stream
  // the call is for (none: gen 0): if the watchdog stops the call, the runtime applies the failure
  // policy to it and says what to do. An outermost call then runs what it queued (finish).
  CallResult call(Entry entry, int argc, v8::Local<v8::Value>* argv,
                  v8::Local<v8::Value>& result, StreamRef ref = {}) {
    return finish(invoke(entry, argc, argv, result, ref), result, ref);
  }
  // The same with Node-API values, for the calls whose results are read with Node-API.
  CallResult callDispatcher(Entry entry, size_t argc, const napi_value* argv, napi_value* result,
                            StreamRef ref = {});
  // The call itself (runtime_calls.cc).
  CallResult invoke(Entry entry, int argc, v8::Local<v8::Value>* argv,
                    v8::Local<v8::Value>& result, StreamRef ref);
  // Once the outermost call from Envoy into JS returned: what Node's callback scope does on its
  // way out. The microtasks the call queued run here; nextTick callbacks and rejection reports
  // (Dispatcher.drainTicks) only when Node's tick info says some are queued. If the watchdog stops
  // them, the runtime answers for `ref` with what the call returned.
  CallResult finish(CallResult call, v8::Local<v8::Value>& result, StreamRef ref);
  // JavaScript was stopped for running past its budget: end the termination and let the runtime,
  // in a section of its own, repair its state, log and count it, and answer for `ref`'s stream
  // (`returned`: what the stopped call had returned, if it had). A recovery stopped in turn (a
  // filter hook it ran went past its own budget) is recovered from again, a bounded number of
  // times. Outermost calls only.
  CallResult recoverFromOverrun(StreamRef ref, v8::Local<v8::Value>& result,
                                v8::Local<v8::Value> returned = {});
  // Its call into the runtime (Dispatcher.onBudgetExceeded), once the recovery's section started:
  // whether it returned (`result`), else what it threw (`error`).
  bool recoverWithRuntime(const runtime::BudgetOverrun& overrun, StreamRef ref,
                          v8::Local<v8::Value>& result, v8::Local<v8::Value> returned,
                          std::string& error);
  HookOutcome toOutcome(CallResult call, v8::Local<v8::Value> result);
  // Whether JavaScript may still run here: a broken environment (runtime::Environment::Broken)
  // runs none, and once retired it is not even attached to a thread.
  bool jsUsable() const { return owner_.broken() == runtime::Environment::Broken::No; }
  // Calls onHook() or onResume() for `ref` with the crossing frame as written (slot and gen are
  // filled in), hands the stream the stats the call left and `waiting` its wait report, then
  // finishes the call.
  HookOutcome callStreamEntry(Entry entry, StreamRef ref, uint32_t& waiting);
  // The stats triples a call left (CrossingFrame::kStatsRecords) go to its stream.
  void takeStats(StreamHost* stream);

  napi_env env_;
  v8::Isolate* const isolate_;
  runtime::Environment& owner_;
  StreamTable streams_;
  RuntimeEntries entries_;
  // The environment's microtask queue (its context's: the same for the environment's life).
  v8::MicrotaskQueue* microtasks_ = nullptr;
  int consecutive_failures_ = 0;  // calls into the runtime that threw, in a row
  KeptArray<int32_t> watch_slots_;
  struct LoadedHere {
    uint64_t revision = 0;  // the newest revision tried (runtime::ConfigRegistry::Config)
    std::string error;      // why the config has no usable copy here ("" if one loaded)
  };
  std::map<uint64_t, LoadedHere> configs_;
  uint64_t synced_generation_ = 0;
  BufferViews views_;
  KeptArray<const double> stats_records_;
  KeptArray<uint32_t> frame_;
  KeptArray<double> clock_cell_;
  KeptArray<const uint8_t> tick_info_;  // not adopted: this Node has none (drain after every call)
};

}  // namespace envoy_ts::bridge
