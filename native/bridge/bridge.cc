#include "native/bridge/bridge.h"

#include <chrono>
#include <cstring>

#include "native/bridge/binding.h"
#include "native/runtime/config_registry.h"
#include "native/runtime/environment.h"
#include "native/runtime/log.h"

namespace envoy_ts::bridge {

using runtime::LogLevel;

namespace {

// Calls into the runtime that throw in a row before the environment counts as broken (the
// runtime catches what filters throw: a throw out of it means its own state is wrong).
constexpr int kFailuresToBreak = 10;

napi_value valueOf(napi_env env, napi_ref ref) {
  napi_value value = nullptr;
  napi_get_reference_value(env, ref, &value);
  return value;
}

// Counts a call into JS for a stream while it is on the stack (sendLocalReply is only legal then).
// The stream may be closed during the call, so the entry is looked up again at the end.
class ActiveCall {
 public:
  ActiveCall(StreamTable& streams, StreamRef ref) : streams_(streams), ref_(ref) {
    if (StreamTable::Entry* entry = streams_.find(ref.slot, ref.gen)) {
      ++entry->active_calls;
    }
  }
  ~ActiveCall() {
    if (StreamTable::Entry* entry = streams_.find(ref_.slot, ref_.gen)) {
      --entry->active_calls;
    }
  }

 private:
  StreamTable& streams_;
  StreamRef ref_;
};

// The message and stack of the exception JS left pending, cleared.
std::string takeException(napi_env env) {
  napi_value error = nullptr;
  if (napi_get_and_clear_last_exception(env, &error) != napi_ok || error == nullptr) {
    return "unknown error";
  }
  Napi::Value value(env, error);
  if (value.IsObject()) {
    Napi::Maybe<Napi::Value> stack = value.As<Napi::Object>().Get("stack");
    if (stack.IsJust() && stack.Unwrap().IsString()) {
      return stack.Unwrap().As<Napi::String>().Utf8Value();
    }
  }
  Napi::Maybe<Napi::String> text = value.ToString();
  return text.IsJust() ? text.Unwrap().Utf8Value() : "unprintable error";
}

}  // namespace

Bridge::Bridge(napi_env env, runtime::Environment& owner) : env_(env), owner_(owner) {
  owner_.setClient(this);
}

// JavaScript the loop pump ran was stopped: no stream's call is on the stack.
void Bridge::onBudgetOverrun() {
  napi_value ignored;
  recoverFromOverrun({}, &ignored);
}

// No more JavaScript runs here: every stream waiting on it is resumed from its scheduler, where
// the resume fails (callDispatcher refuses) and the module answers with the failure policy;
// streams not waiting fail at their next hook.
void Bridge::onBroken() {
  streams_.forEachOpen([](StreamTable::Entry& entry) { entry.host->requestResume(); });
}

napi_value Bridge::initBinding(napi_env env, napi_value exports) {
  runtime::Environment* owner = runtime::Environment::beingCreated();
  if (owner == nullptr) {
    napi_throw_error(env, "ETS_ERR_INTERNAL", "the envoy_ts binding is only for envoy-ts runtimes");
    return nullptr;
  }
  auto* bridge = new Bridge(env, *owner);
  napi_set_instance_data(
      env, bridge, [](napi_env, void* data, void*) { delete static_cast<Bridge*>(data); },
      nullptr);
  owner->setNapiEnv(env);
  defineBindingFunctions(Napi::Env(env), Napi::Object(env, exports), *bridge);
  return exports;
}

Bridge& Bridge::of(runtime::Environment& env) {
  void* data = nullptr;
  napi_get_instance_data(env.napiEnv(), &data);
  return *static_cast<Bridge*>(data);
}

bool Bridge::isMainThread() const {
  return owner_.role() == runtime::Environment::Role::MainThread;
}

void Bridge::setDispatcher(Napi::Object dispatcher) {
  dispatcher_ = Napi::Persistent(dispatcher);
  auto ref = [&](const char* name) -> napi_ref {
    Napi::Maybe<Napi::Value> fn = dispatcher.Get(name);
    napi_ref out = nullptr;
    if (fn.IsJust() && fn.Unwrap().IsFunction()) {
      napi_create_reference(env_, fn.Unwrap(), 1, &out);
    }
    return out;
  };
  load_config_ = ref("loadConfig");
  reload_config_ = ref("reloadConfig");
  bundle_of_ = ref("bundleOf");
  unload_config_ = ref("unloadConfig");
  describe_metrics_ = ref("describeMetrics");
  hook_mask_ = ref("hookMask");
  fail_open_ = ref("failOpen");
  on_hook_ = ref("onHook");
  on_network_hook_ = ref("onNetworkHook");
  on_network_event_ = ref("onNetworkEvent");
  on_callout_done_ = ref("onCalloutDone");
  on_fetch_stream_ = ref("onFetchStream");
  on_resume_ = ref("onResume");
  on_destroy_ = ref("onDestroy");
  on_budget_exceeded_ = ref("onBudgetExceeded");
}

Bridge::CallResult Bridge::callDispatcher(napi_ref function, size_t argc, const napi_value* argv,
                                          napi_value* result, const char* what, StreamRef ref) {
  if (function == nullptr) {
    runtime::log(LogLevel::Error, std::string("the runtime registered no dispatcher.") + what);
    return CallResult::Failed;
  }
  if (!jsUsable()) {
    return CallResult::Failed;
  }
  // A plain call, not napi_make_callback: Node's callback scope cost about 0.3 µs per call. The
  // runtime's entry points run what the scope would have on the way out (process.nextTick
  // callbacks, microtasks, rejection tracking): see ts-filters/runtime/index.ts.
  napi_status status = napi_call_function(env_, dispatcher_.Value(),
                                          valueOf(env_, function), argc, argv, result);
  if (status == napi_ok) {
    consecutive_failures_ = 0;
    return CallResult::Ok;
  }
  if (owner_.broken() != runtime::Environment::Broken::No) {
    napi_value termination;  // stopped because the environment broke: nothing to recover
    napi_get_and_clear_last_exception(env_, &termination);
    return CallResult::Failed;
  }
  if (owner_.watched().overrunPending()) {
    napi_value termination;
    napi_get_and_clear_last_exception(env_, &termination);
    // A nested call returns into JavaScript that is still being stopped; the outermost call
    // recovers once all of it has unwound.
    return callDepth() == 1 ? recoverFromOverrun(ref, result) : CallResult::Failed;
  }
  runtime::log(LogLevel::Error,
               std::string("runtime dispatcher.") + what + " failed: " + takeException(env_));
  if (++consecutive_failures_ >= kFailuresToBreak && !isMainThread()) {
    owner_.markBroken(runtime::Environment::Broken::RuntimeFailing);
  }
  return CallResult::Failed;
}

Bridge::CallResult Bridge::recoverFromOverrun(StreamRef ref, napi_value* result) {
  runtime::BudgetOverrun overrun = owner_.watched().takeOverrun();
  owner_.cancelTermination();
  napi_value ignored;
  napi_get_and_clear_last_exception(env_, &ignored);
  Napi::HandleScope scope(env_);
  napi_value args[4] = {Napi::Number::New(env_, ref.slot), Napi::Number::New(env_, ref.gen),
                        Napi::Number::New(env_, overrun.budget_ms),
                        Napi::String::New(env_, overrun.stack)};
  if (on_budget_exceeded_ == nullptr ||
      napi_call_function(env_, dispatcher_.Value(), valueOf(env_, on_budget_exceeded_), 4, args,
                         result) != napi_ok) {
    runtime::log(LogLevel::Error, "JavaScript ran past its CPU budget of " +
                                      std::to_string(overrun.budget_ms) +
                                      " ms and was stopped; the runtime could not recover: " +
                                      takeException(env_));
    return CallResult::Failed;
  }
  return CallResult::Stopped;
}

std::string Bridge::loadConfig(uint64_t config_id, const std::string& json, ConfigKind kind,
                               const runtime::BundleSource* pinned, uint64_t revision) {
  Napi::HandleScope scope(env_);
  napi_value args[5] = {Napi::Number::New(env_, static_cast<double>(config_id)),
                        Napi::String::New(env_, json),
                        Napi::Number::New(env_, static_cast<uint32_t>(kind)),
                        pinned == nullptr ? napi_value(Napi::Env(env_).Undefined())
                                          : napi_value(Napi::String::New(env_, pinned->hash)),
                        pinned == nullptr ? napi_value(Napi::Env(env_).Undefined())
                                          : napi_value(Napi::String::New(env_, pinned->source))};
  const bool had_one = hasConfig(config_id);
  napi_value result = nullptr;
  std::string error;
  switch (callDispatcher(load_config_, 5, args, &result, "loadConfig")) {
  case CallResult::Ok: {
    Napi::Value outcome(env_, result);
    error = outcome.IsString() ? outcome.As<Napi::String>().Utf8Value() : "";
    break;
  }
  case CallResult::Failed:
    error = "the envoy-ts runtime failed while loading the config (see the log)";
    break;
  case CallResult::Stopped:
    error = "loading it ran past its CPU budget and was stopped (the log has the stack)";
    break;
  }
  LoadedHere& here = configs_[config_id];
  here.revision = revision;
  if (error.empty() || !had_one) {
    here.error = error;  // a failed reload leaves the loaded revision serving
  }
  return error;
}

std::string Bridge::reloadConfig(uint64_t config_id) {
  Napi::HandleScope scope(env_);
  napi_value args[1] = {Napi::Number::New(env_, static_cast<double>(config_id))};
  napi_value result = nullptr;
  switch (callDispatcher(reload_config_, 1, args, &result, "reloadConfig")) {
  case CallResult::Ok:
    break;
  case CallResult::Failed:
    return "the envoy-ts runtime failed while reloading the config (see the log)";
  case CallResult::Stopped:
    return "loading it ran past its CPU budget and was stopped (the log has the stack)";
  }
  Napi::Value outcome(env_, result);
  return outcome.IsString() ? outcome.As<Napi::String>().Utf8Value() : "";
}

std::optional<Bridge::LoadedBundle> Bridge::bundleOf(uint64_t config_id) {
  Napi::HandleScope scope(env_);
  napi_value args[1] = {Napi::Number::New(env_, static_cast<double>(config_id))};
  napi_value result = nullptr;
  if (callDispatcher(bundle_of_, 1, args, &result, "bundleOf") != CallResult::Ok) {
    return std::nullopt;
  }
  Napi::Value value(env_, result);
  if (!value.IsArray()) {
    return std::nullopt;  // no bundle file (an injected loader), or an unknown config
  }
  // [path, hash, source, watch].
  Napi::Array fields = value.As<Napi::Array>();
  auto text = [&](uint32_t i) -> std::string {
    Napi::Maybe<Napi::Value> item = fields.Get(i);
    return item.IsJust() && item.Unwrap().IsString() ? item.Unwrap().As<Napi::String>().Utf8Value()
                                                     : std::string();
  };
  Napi::Maybe<Napi::Value> watch = fields.Get(3);
  auto source = std::make_shared<runtime::BundleSource>(
      runtime::BundleSource{text(0), text(1), text(2)});
  return LoadedBundle{std::move(source), watch.IsJust() && watch.Unwrap().IsNumber() &&
                                             watch.Unwrap().As<Napi::Number>().Uint32Value() == 1};
}

void Bridge::noteRevision(uint64_t config_id, uint64_t revision) {
  auto it = configs_.find(config_id);
  if (it != configs_.end()) {
    it->second.revision = revision;
  }
}

uint32_t Bridge::hookMask(uint64_t config_id) {
  Napi::HandleScope scope(env_);
  napi_value args[1] = {Napi::Number::New(env_, static_cast<double>(config_id))};
  napi_value result = nullptr;
  uint32_t hooks = 0;
  if (callDispatcher(hook_mask_, 1, args, &result, "hookMask") != CallResult::Ok ||
      napi_get_value_uint32(env_, result, &hooks) != napi_ok) {
    // Unknown: calling JS for every hook is always correct.
    return kAllHooks;
  }
  return hooks;
}

bool Bridge::failOpen(uint64_t config_id) {
  Napi::HandleScope scope(env_);
  napi_value args[1] = {Napi::Number::New(env_, static_cast<double>(config_id))};
  napi_value result = nullptr;
  uint32_t open = 0;
  // Unknown: closed, the default policy.
  return callDispatcher(fail_open_, 1, args, &result, "failOpen") == CallResult::Ok &&
         napi_get_value_uint32(env_, result, &open) == napi_ok && open == 1;
}

std::vector<Bridge::MetricDeclaration> Bridge::describeMetrics(uint64_t config_id) {
  std::vector<MetricDeclaration> declared;
  Napi::HandleScope scope(env_);
  napi_value args[1] = {Napi::Number::New(env_, static_cast<double>(config_id))};
  napi_value result = nullptr;
  if (callDispatcher(describe_metrics_, 1, args, &result, "describeMetrics") != CallResult::Ok) {
    return declared;
  }
  Napi::Value value(env_, result);
  if (!value.IsArray()) {
    return declared;
  }
  // Flat [name, kind, labels joined by ',', ...].
  Napi::Array flat = value.As<Napi::Array>();
  auto text = [&](uint32_t i) -> std::string {
    Napi::Maybe<Napi::Value> item = flat.Get(i);
    return item.IsJust() && item.Unwrap().IsString() ? item.Unwrap().As<Napi::String>().Utf8Value()
                                                     : std::string();
  };
  for (uint32_t i = 0; i + 2 < flat.Length(); i += 3) {
    MetricDeclaration metric{text(i), text(i + 1), {}};
    std::string labels = text(i + 2);
    for (size_t start = 0; !labels.empty() && start <= labels.size();) {
      size_t comma = labels.find(',', start);
      if (comma == std::string::npos) {
        comma = labels.size();
      }
      metric.labels.push_back(labels.substr(start, comma - start));
      start = comma + 1;
    }
    declared.push_back(std::move(metric));
  }
  return declared;
}

void Bridge::unloadConfig(uint64_t config_id) {
  if (configs_.erase(config_id) == 0) {
    return;
  }
  Napi::HandleScope scope(env_);
  napi_value args[1] = {Napi::Number::New(env_, static_cast<double>(config_id))};
  napi_value result;
  callDispatcher(unload_config_, 1, args, &result, "unloadConfig");
}

void Bridge::syncConfigs() {
  runtime::ConfigRegistry& registry = runtime::ConfigRegistry::instance();
  uint64_t generation = registry.generation();
  if (generation == synced_generation_) {
    return;
  }
  std::map<uint64_t, runtime::ConfigRegistry::Config> live = registry.snapshot();
  for (auto it = configs_.begin(); it != configs_.end();) {
    uint64_t id = (it++)->first;  // unloadConfig erases the current entry
    if (live.count(id) == 0) {
      unloadConfig(id);
    }
  }
  for (const auto& [id, config] : live) {
    auto here = configs_.find(id);
    if (here != configs_.end() && here->second.revision == config.revision) {
      continue;
    }
    // On a worker this runs inside the first stream's on_http_filter_new after the change: the
    // cost is logged (debug) so it can be measured (README "Deploying new filter code").
    auto started = std::chrono::steady_clock::now();
    std::string error = loadConfig(id, config.json, static_cast<ConfigKind>(config.kind),
                                   config.bundle.get(), config.revision);
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                  std::chrono::steady_clock::now() - started)
                  .count();
    if (!error.empty()) {
      runtime::log(LogLevel::Error, "a worker could not load filter config " + std::to_string(id) +
                                        (config.revision > 0 ? " (reload " + std::to_string(config.revision) +
                                                                   "; it keeps the version it had)"
                                                             : "") +
                                        ": " + error);
    } else {
      runtime::log(LogLevel::Debug, "loaded filter config " + std::to_string(id) + " revision " +
                                        std::to_string(config.revision) + " in " +
                                        std::to_string(us) + " us");
    }
  }
  synced_generation_ = generation;
}

bool Bridge::hasConfig(uint64_t config_id) const {
  auto it = configs_.find(config_id);
  return it != configs_.end() && it->second.error.empty();
}

std::string Bridge::configError(uint64_t config_id) const {
  auto it = configs_.find(config_id);
  return it == configs_.end() ? std::string() : it->second.error;
}

void Bridge::closeStream(StreamRef ref, bool notify_js) {
  if (streams_.find(ref.slot, ref.gen) == nullptr) {
    return;
  }
  streams_.close(ref);
  if (!notify_js || !jsUsable()) {
    return;
  }
  Napi::HandleScope scope(env_);
  napi_value args[2] = {Napi::Number::New(env_, ref.slot), Napi::Number::New(env_, ref.gen)};
  napi_value result;
  callDispatcher(on_destroy_, 2, args, &result, "onDestroy", ref);
}

HookOutcome Bridge::toOutcome(CallResult call, napi_value result) {
  if (call == CallResult::Failed) {
    return HookOutcome::Failed;
  }
  uint32_t code = 0;
  if (napi_get_value_uint32(env_, result, &code) != napi_ok || code > 2) {
    runtime::log(LogLevel::Error, "the runtime returned an invalid hook outcome");
    return HookOutcome::Failed;
  }
  return static_cast<HookOutcome>(code);
}

HookOutcome Bridge::runHook(uint64_t config_id, StreamRef ref, HookKind hook, uint32_t flags,
                            uint64_t route_config_id) {
  if (frame_ == nullptr) {
    runtime::log(LogLevel::Error, "the runtime registered no crossing frame");
    return HookOutcome::Failed;
  }
  frame_[CrossingFrame::kConfigId] = static_cast<uint32_t>(config_id);
  frame_[CrossingFrame::kHook] = static_cast<uint32_t>(hook);
  frame_[CrossingFrame::kFlags] = flags;
  frame_[CrossingFrame::kRouteConfigId] = static_cast<uint32_t>(route_config_id);
  return callStreamEntry(on_hook_, "onHook", ref);
}

HookOutcome Bridge::callStreamEntry(napi_ref function, const char* what, StreamRef ref) {
  if (!jsUsable()) {
    return HookOutcome::Failed;
  }
  frame_[CrossingFrame::kSlot] = ref.slot;
  frame_[CrossingFrame::kGen] = ref.gen;
  frame_[CrossingFrame::kStatsRecords] = 0;
  // The stream may complete during the call (a local reply), closing its entry; its object lives
  // until the call returns (Envoy destroys no filter while one of its hooks runs).
  StreamTable::Entry* entry = streams_.find(ref.slot, ref.gen);
  StreamHost* stream = entry == nullptr ? nullptr : entry->http();
  Napi::HandleScope scope(env_);
  napi_value result = nullptr;
  CallResult call;
  {
    ActiveCall active(streams_, ref);
    call = callDispatcher(function, 0, nullptr, &result, what, ref);
  }
  takeStats(stream);
  return toOutcome(call, result);
}

void Bridge::takeStats(StreamHost* stream) {
  const uint32_t triples = frame_[CrossingFrame::kStatsRecords];
  if (triples == 0) {
    return;
  }
  frame_[CrossingFrame::kStatsRecords] = 0;
  if (stream == nullptr || stats_records_ == nullptr || triples * 3 > stats_length_) {
    return;
  }
  for (size_t i = 0; i < triples * 3; i += 3) {
    const auto op = static_cast<uint32_t>(stats_records_[i + 1]);
    if (op <= static_cast<uint32_t>(MetricOp::Record)) {
      stream->addStat(static_cast<uint32_t>(stats_records_[i]), static_cast<MetricOp>(op),
                      static_cast<int64_t>(stats_records_[i + 2]));
    }
  }
}

void Bridge::setWatchSlots(napi_value array, int32_t* slots) {
  if (watch_slots_ref_ != nullptr) {
    napi_delete_reference(env_, watch_slots_ref_);
  }
  // The reference keeps the array's memory (which does not move) alive.
  napi_create_reference(env_, array, 1, &watch_slots_ref_);
  owner_.watched().setSlots(slots);
}

void Bridge::setCrossingFrame(napi_value array, uint32_t* frame) {
  if (frame_ref_ != nullptr) {
    napi_delete_reference(env_, frame_ref_);
  }
  // The reference keeps the array (and its memory, which does not move) alive.
  napi_create_reference(env_, array, 1, &frame_ref_);
  frame_ = frame;
}

void Bridge::setStatsBuffer(napi_value array, const double* records, size_t length) {
  if (stats_buffer_ref_ != nullptr) {
    napi_delete_reference(env_, stats_buffer_ref_);
  }
  // The reference keeps the array (and its memory, which does not move) alive.
  napi_create_reference(env_, array, 1, &stats_buffer_ref_);
  stats_records_ = records;
  stats_length_ = length;
}

HookOutcome Bridge::runNetworkHook(uint64_t config_id, StreamRef ref, NetworkHookKind hook,
                                   bool end_of_stream) {
  if (!jsUsable()) {
    return HookOutcome::Failed;
  }
  Napi::HandleScope scope(env_);
  napi_value args[5] = {Napi::Number::New(env_, static_cast<double>(config_id)),
                        Napi::Number::New(env_, ref.slot), Napi::Number::New(env_, ref.gen),
                        Napi::Number::New(env_, static_cast<uint32_t>(hook)),
                        Napi::Boolean::New(env_, end_of_stream)};
  napi_value result = nullptr;
  ActiveCall active(streams_, ref);
  CallResult call = callDispatcher(on_network_hook_, 5, args, &result, "onNetworkHook", ref);
  return toOutcome(call, result);
}

void Bridge::networkEvent(StreamRef ref, NetworkEvent event) {
  if (streams_.find(ref.slot, ref.gen) == nullptr || !jsUsable()) {
    return;
  }
  Napi::HandleScope scope(env_);
  napi_value args[3] = {Napi::Number::New(env_, ref.slot), Napi::Number::New(env_, ref.gen),
                        Napi::Number::New(env_, static_cast<uint32_t>(event))};
  napi_value result;
  callDispatcher(on_network_event_, 3, args, &result, "onNetworkEvent", ref);
}

namespace {

// Headers as JS gets them: a flat [name, value, ...] string array.
Napi::Array flatHeaders(Napi::Env env, const HeaderList& headers) {
  Napi::Array flat = Napi::Array::New(env, headers.size() * 2);
  uint32_t index = 0;
  for (const auto& [key, value] : headers) {
    flat.Set(index++, Napi::String::New(env, key.data(), key.size()));
    flat.Set(index++, Napi::String::New(env, value.data(), value.size()));
  }
  return flat;
}

// A copy of Envoy's slices: a response outlives the hook that delivered it.
Napi::Uint8Array copiedBytes(Napi::Env env, const std::vector<std::string_view>& chunks) {
  size_t length = 0;
  for (std::string_view chunk : chunks) {
    length += chunk.size();
  }
  Napi::ArrayBuffer bytes = Napi::ArrayBuffer::New(env, length);
  size_t offset = 0;
  for (std::string_view chunk : chunks) {
    std::memcpy(static_cast<char*>(bytes.Data()) + offset, chunk.data(), chunk.size());
    offset += chunk.size();
  }
  return Napi::Uint8Array::New(env, length, bytes, 0);
}

}  // namespace

void Bridge::calloutDone(StreamRef ref, uint64_t callout_id, uint32_t result,
                         const HeaderList& headers, const std::vector<std::string_view>& body) {
  if (streams_.find(ref.slot, ref.gen) == nullptr || !jsUsable()) {
    return;
  }
  Napi::HandleScope scope(env_);
  napi_value args[6] = {Napi::Number::New(env_, ref.slot), Napi::Number::New(env_, ref.gen),
                        Napi::Number::New(env_, static_cast<double>(callout_id)),
                        Napi::Number::New(env_, result), flatHeaders(env_, headers),
                        copiedBytes(env_, body)};
  ActiveCall active(streams_, ref);
  napi_value ignored;
  callDispatcher(on_callout_done_, 6, args, &ignored, "onCalloutDone", ref);
}

void Bridge::fetchStreamEvent(StreamRef ref, uint64_t stream_id, FetchStreamEvent event,
                              const HeaderList& headers, const std::vector<std::string_view>& data,
                              bool end_stream, uint32_t reset_reason) {
  if (streams_.find(ref.slot, ref.gen) == nullptr || !jsUsable()) {
    return;
  }
  Napi::HandleScope scope(env_);
  napi_value payload = nullptr;
  switch (event) {
  case FetchStreamEvent::Headers:
  case FetchStreamEvent::Trailers:
    payload = flatHeaders(env_, headers);
    break;
  case FetchStreamEvent::Data:
    payload = copiedBytes(env_, data);
    break;
  case FetchStreamEvent::Reset:
    payload = Napi::Number::New(env_, reset_reason);
    break;
  case FetchStreamEvent::Complete:
    napi_get_undefined(env_, &payload);
    break;
  }
  napi_value args[6] = {Napi::Number::New(env_, ref.slot), Napi::Number::New(env_, ref.gen),
                        Napi::Number::New(env_, static_cast<double>(stream_id)),
                        Napi::Number::New(env_, static_cast<uint32_t>(event)), payload,
                        Napi::Boolean::New(env_, end_stream)};
  ActiveCall active(streams_, ref);
  napi_value ignored;
  callDispatcher(on_fetch_stream_, 6, args, &ignored, "onFetchStream", ref);
}

int Bridge::callDepth() const { return owner_.callDepth(); }

HookOutcome Bridge::resume(StreamRef ref) {
  if (frame_ == nullptr) {
    runtime::log(LogLevel::Error, "the runtime registered no crossing frame");
    return HookOutcome::Failed;
  }
  return callStreamEntry(on_resume_, "onResume", ref);
}

}  // namespace envoy_ts::bridge
