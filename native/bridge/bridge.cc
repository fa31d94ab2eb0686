#include "native/bridge/bridge.h"

#include <chrono>
#include <cstring>
#include <ctime>

#include "native/bridge/binding.h"
#include "native/runtime/config_registry.h"
#include "native/runtime/environment.h"
#include "native/runtime/log.h"

namespace envoy_ts::bridge {

using runtime::LogLevel;

Bridge::Bridge(napi_env env, runtime::Environment& owner)
    : env_(env), isolate_(v8::Isolate::GetCurrent()), owner_(owner) {
  owner_.setClient(this);
}

// JavaScript the loop pump ran was stopped: no stream's call is on the stack.
void Bridge::onBudgetOverrun() {
  v8::HandleScope scope(isolate_);
  v8::Local<v8::Value> ignored;
  finish(recoverFromOverrun({}, ignored), ignored, {});
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
  addOffloadPoolBinding(*owner);
  return exports;
}

// The environment's client is its bridge (the constructor registers it): no Node-API call, so
// it may be asked before a call attaches the environment.
Bridge& Bridge::of(runtime::Environment& env) { return *static_cast<Bridge*>(env.client()); }

bool Bridge::isMainThread() const {
  return owner_.role() == runtime::Environment::Role::MainThread;
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
  switch (callDispatcher(Entry::LoadConfig, 5, args, &result)) {
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
  switch (callDispatcher(Entry::ReloadConfig, 1, args, &result)) {
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
  if (callDispatcher(Entry::BundleOf, 1, args, &result) != CallResult::Ok) {
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
  if (callDispatcher(Entry::HookMask, 1, args, &result) != CallResult::Ok ||
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
  return callDispatcher(Entry::FailOpen, 1, args, &result) == CallResult::Ok &&
         napi_get_value_uint32(env_, result, &open) == napi_ok && open == 1;
}

std::vector<Bridge::MetricDeclaration> Bridge::describeMetrics(uint64_t config_id) {
  std::vector<MetricDeclaration> declared;
  Napi::HandleScope scope(env_);
  napi_value args[1] = {Napi::Number::New(env_, static_cast<double>(config_id))};
  napi_value result = nullptr;
  if (callDispatcher(Entry::DescribeMetrics, 1, args, &result) != CallResult::Ok) {
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
  callDispatcher(Entry::UnloadConfig, 1, args, &result);
}

bool Bridge::configsBehind() const {
  return runtime::ConfigRegistry::instance().generation() != synced_generation_;
}

bool Bridge::runsLatest(uint64_t config_id) const {
  auto here = configs_.find(config_id);
  if (here == configs_.end() || !here->second.error.empty()) {
    return false;
  }
  std::optional<uint64_t> live = runtime::ConfigRegistry::instance().revisionOf(config_id);
  return live.has_value() && *live == here->second.revision;
}

namespace {

const char* occasionNote(Bridge::SyncOccasion occasion) {
  switch (occasion) {
    case Bridge::SyncOccasion::StreamStart:
      return " (on a worker, at the start of a stream that needed it)";
    case Bridge::SyncOccasion::AheadOfStreams:
      return " (on a worker, ahead of the streams that need it)";
    case Bridge::SyncOccasion::Prepared:
      break;
  }
  return "";
}

}  // namespace

void Bridge::syncConfigs(SyncOccasion occasion) {
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
    // On a worker this runs in a scheduler event ahead of the streams that need the change, or
    // inside the first such stream's on_http_filter_new: the cost and the occasion are logged
    // (debug) so they can be measured (README "Deploying new filter code").
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
      runtime::log(LogLevel::Debug, "loaded filter config " + std::to_string(id) +
                                        (config.bundle ? " (bundle " + config.bundle->path + ")" : "") +
                                        " revision " +
                                        std::to_string(config.revision) + " in " +
                                        std::to_string(us) + " us" + occasionNote(occasion));
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
  callDispatcher(Entry::OnDestroy, 2, args, &result, ref);
}

HookOutcome Bridge::runHook(uint64_t config_id, StreamRef ref, HookKind hook, uint32_t flags,
                            uint64_t route_config_id, uint32_t& waiting) {
  if (!frame_.adopted()) {
    runtime::log(LogLevel::Error, "the runtime registered no crossing frame");
    return HookOutcome::Failed;
  }
  frame_[CrossingFrame::kConfigId] = static_cast<uint32_t>(config_id);
  frame_[CrossingFrame::kHook] = static_cast<uint32_t>(hook);
  frame_[CrossingFrame::kFlags] = flags;
  frame_[CrossingFrame::kRouteConfigId] = static_cast<uint32_t>(route_config_id);
  return callStreamEntry(Entry::OnHook, ref, waiting);
}

HookOutcome Bridge::callStreamEntry(Entry entry, StreamRef ref, uint32_t& waiting) {
  waiting = WaitReport::kUnreported;
  if (!jsUsable()) {
    return HookOutcome::Failed;
  }
  frame_[CrossingFrame::kSlot] = ref.slot;
  frame_[CrossingFrame::kGen] = ref.gen;
  frame_[CrossingFrame::kStatsRecords] = 0;
  frame_[CrossingFrame::kWaiting] = WaitReport::kUnreported;
  // The stream may complete during the call (a local reply), closing its entry; its object lives
  // until the call returns (Envoy destroys no filter while one of its hooks runs).
  StreamTable::Entry* entry_of_stream = streams_.find(ref.slot, ref.gen);
  StreamHost* stream = entry_of_stream == nullptr ? nullptr : entry_of_stream->http();
  v8::HandleScope scope(isolate_);
  v8::Local<v8::Value> result;
  CallResult outcome = invoke(entry, 0, nullptr, result, ref);
  // Before anything the call queued runs: nothing can overwrite the report then.
  takeStats(stream);
  waiting = frame_[CrossingFrame::kWaiting];
  return toOutcome(finish(outcome, result, ref), result);
}

void Bridge::takeStats(StreamHost* stream) {
  const uint32_t triples = frame_[CrossingFrame::kStatsRecords];
  if (triples == 0) {
    return;
  }
  frame_[CrossingFrame::kStatsRecords] = 0;
  if (stream == nullptr || !stats_records_.adopted() || triples * 3 > stats_records_.length()) {
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

void Bridge::setWatchSlots(napi_value array, int32_t* slots, size_t length) {
  watch_slots_.adopt(env_, array, slots, length);
  owner_.watched().setSlots(slots);
}

void Bridge::stampClock() {
  if (!clock_cell_.adopted()) {
    return;
  }
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  const uint64_t now_ns = static_cast<uint64_t>(now.tv_sec) * 1000000000 + now.tv_nsec;
  clock_cell_[0] = static_cast<double>(now_ns) / 1e3;
  owner_.noteClockReading(now_ns);
}

HookOutcome Bridge::runNetworkHook(uint64_t config_id, StreamRef ref, NetworkHookKind hook,
                                   bool end_of_stream) {
  if (!jsUsable()) {
    return HookOutcome::Failed;
  }
  v8::HandleScope scope(isolate_);
  v8::Local<v8::Value> args[5] = {
      v8::Number::New(isolate_, static_cast<double>(config_id)),
      v8::Integer::NewFromUnsigned(isolate_, ref.slot),
      v8::Integer::NewFromUnsigned(isolate_, ref.gen),
      v8::Integer::NewFromUnsigned(isolate_, static_cast<uint32_t>(hook)),
      v8::Boolean::New(isolate_, end_of_stream)};
  v8::Local<v8::Value> result;
  CallResult outcome = call(Entry::OnNetworkHook, 5, args, result, ref);
  return toOutcome(outcome, result);
}

void Bridge::networkEvent(StreamRef ref, NetworkEvent event) {
  if (streams_.find(ref.slot, ref.gen) == nullptr || !jsUsable()) {
    return;
  }
  Napi::HandleScope scope(env_);
  napi_value args[3] = {Napi::Number::New(env_, ref.slot), Napi::Number::New(env_, ref.gen),
                        Napi::Number::New(env_, static_cast<uint32_t>(event))};
  napi_value result;
  callDispatcher(Entry::OnNetworkEvent, 3, args, &result, ref);
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
  napi_value ignored;
  callDispatcher(Entry::OnCalloutDone, 6, args, &ignored, ref);
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
  napi_value ignored;
  callDispatcher(Entry::OnFetchStream, 6, args, &ignored, ref);
}

int Bridge::callDepth() const { return owner_.callDepth(); }

HookOutcome Bridge::resume(StreamRef ref, uint32_t& waiting) {
  if (!frame_.adopted()) {
    runtime::log(LogLevel::Error, "the runtime registered no crossing frame");
    return HookOutcome::Failed;
  }
  return callStreamEntry(Entry::OnResume, ref, waiting);
}

}  // namespace envoy_ts::bridge
