#include "native/bridge/binding.h"

#include <cstring>
#include <string>

#include "native/bridge/binding_args.h"
#include "native/bridge/bridge.h"
#include "native/runtime/cpu_watchdog.h"
#include "native/runtime/log.h"
#include "native/runtime/shared_counters.h"
#include "native/runtime/shared_token_buckets.h"

namespace envoy_ts::bridge {
namespace {

// Views of a flat [name, value, ...] list read by Args::stringPairs (valid while `flat` lives).
HeaderList headerViews(const std::vector<std::string>& flat) {
  HeaderList headers;
  headers.reserve(flat.size() / 2);
  for (size_t i = 0; i + 1 < flat.size(); i += 2) {
    headers.emplace_back(flat[i], flat[i + 1]);
  }
  return headers;
}

napi_value sendLocalReply(napi_env env, napi_callback_info info) {
  Args args(env, info);
  StreamTable::Entry* entry = args.entry();
  StreamHost* stream = entry == nullptr ? nullptr : args.stream();
  if (stream == nullptr) {
    return nullptr;
  }
  uint32_t status = 0;
  std::vector<std::string> flat;
  std::string body;
  std::string_view body_bytes;
  std::string details;
  // The body is a string (sent as UTF-8) or a Uint8Array (sent as is).
  const bool body_ok = args.bytes(4, body_bytes) ? (body.assign(body_bytes), true) : args.utf8(4, body);
  if (!args.uint32(2, status) || !args.stringPairs(3, flat) || !body_ok || !args.latin1(5, details)) {
    args.throwTypeError("expected (slot, gen, status, headers[], body (string or Uint8Array), details)");
    return nullptr;
  }
  if (!stream->inHook()) {
    napi_throw_error(env, "ETS_ERR_NOT_IN_HOOK",
                     "a local reply can only be sent while the stream's own hook runs");
    return nullptr;
  }
  stream->sendLocalReply(status, headerViews(flat), body, details);
  return undefinedValue(env);
}

napi_value requestResume(napi_env env, napi_callback_info info) {
  Args args(env, info);
  uint32_t slot = 0;
  uint32_t gen = 0;
  if (!args.uint32(0, slot) || !args.uint32(1, gen)) {
    args.throwTypeError("expected (slot, generation)");
    return nullptr;
  }
  // A stream that is gone ignores it: its promise may settle after a client disconnect.
  if (StreamTable::Entry* entry = args.bridge().streams().find(slot, gen)) {
    entry->host->requestResume();
  }
  return undefinedValue(env);
}

napi_value wantStreamEnd(napi_env env, napi_callback_info info) {
  Args args(env, info);
  StreamHost* stream = args.stream();
  if (stream == nullptr) {
    return nullptr;
  }
  stream->wantEnd();
  return undefinedValue(env);
}

napi_value log(napi_env env, napi_callback_info info) {
  Args args(env, info);
  uint32_t level = 0;
  std::string message;
  if (!args.uint32(0, level) || level > 5 || !args.utf8(1, message)) {
    args.throwTypeError("expected (level, message)");
    return nullptr;
  }
  // The runtime prefixes its own lines; write them as they are.
  runtime::writeLine(static_cast<runtime::LogLevel>(level), message);
  return undefinedValue(env);
}

napi_value logEnabled(napi_env env, napi_callback_info info) {
  Args args(env, info);
  uint32_t level = 0;
  if (!args.uint32(0, level) || level > 5) {
    args.throwTypeError("expected (level)");
    return nullptr;
  }
  napi_value result;
  napi_get_boolean(env, runtime::logEnabled(static_cast<runtime::LogLevel>(level)), &result);
  return result;
}

napi_value setMetadata(napi_env env, napi_callback_info info) {
  Args args(env, info);
  StreamTable::Entry* entry = args.entry();
  std::string ns;
  std::string key;
  if (entry == nullptr) {
    return nullptr;
  }
  if (!args.utf8(2, ns) || !args.utf8(3, key)) {
    args.throwTypeError("expected (slot, gen, namespace, key, value)");
    return nullptr;
  }
  switch (args.typeOf(4)) {
  case napi_string: {
    std::string value;
    args.utf8(4, value);
    entry->host->setMetadata(ns, key, std::string_view(value));
    break;
  }
  case napi_number: {
    double value = 0;
    args.number(4, value);
    entry->host->setMetadata(ns, key, value);
    break;
  }
  case napi_boolean: {
    bool value = false;
    args.boolean(4, value);
    entry->host->setMetadata(ns, key, value);
    break;
  }
  default:
    args.throwTypeError("metadata values are strings, numbers or booleans");
    return nullptr;
  }
  return undefinedValue(env);
}

napi_value setFilterState(napi_env env, napi_callback_info info) {
  Args args(env, info);
  StreamTable::Entry* entry = args.entry();
  std::string key;
  std::string_view value;
  bool typed = false;
  if (entry == nullptr) {
    return nullptr;
  }
  if (!args.utf8(2, key) || !args.bytes(3, value) || !args.boolean(4, typed)) {
    args.throwTypeError("expected (slot, gen, key, Uint8Array, typed)");
    return nullptr;
  }
  if (!entry->host->setFilterState(key, value, typed)) {
    std::string message = "Envoy refused filter state '" + key + "'" +
                          (typed ? " (no object factory for this key, or the value does not parse)"
                                 : "");
    napi_throw_error(env, "ETS_ERR_FILTER_STATE", message.c_str());
    return nullptr;
  }
  return undefinedValue(env);
}

napi_value getFilterState(napi_env env, napi_callback_info info) {
  Args args(env, info);
  StreamTable::Entry* entry = args.entry();
  std::string key;
  bool typed = false;
  if (entry == nullptr) {
    return nullptr;
  }
  if (!args.utf8(2, key) || !args.boolean(3, typed)) {
    args.throwTypeError("expected (slot, gen, key, typed)");
    return nullptr;
  }
  std::string_view value;
  if (!entry->host->getFilterState(key, typed, value)) {
    return undefinedValue(env);
  }
  // A copy: filter state outlives any hook.
  void* data = nullptr;
  napi_value array_buffer;
  napi_create_arraybuffer(env, value.size(), &data, &array_buffer);
  if (!value.empty()) {
    std::memcpy(data, value.data(), value.size());
  }
  napi_value result;
  napi_create_typedarray(env, napi_uint8_array, value.size(), array_buffer, 0, &result);
  return result;
}

napi_value scalarValue(napi_env env, const std::optional<ScalarValue>& value) {
  if (!value) {
    return undefinedValue(env);
  }
  napi_value result;
  if (const auto* text = std::get_if<std::string_view>(&*value)) {
    napi_create_string_utf8(env, text->data(), text->size(), &result);
  } else if (const auto* number = std::get_if<double>(&*value)) {
    napi_create_double(env, *number, &result);
  } else {
    napi_get_boolean(env, std::get<bool>(*value), &result);
  }
  return result;
}

napi_value getAttribute(napi_env env, napi_callback_info info) {
  Args args(env, info);
  StreamHost* stream = args.stream();
  uint32_t id = 0;
  uint32_t type = 0;
  if (stream == nullptr) {
    return nullptr;
  }
  if (!args.uint32(2, id) || !args.uint32(3, type) || type > 2) {
    args.throwTypeError("expected (slot, gen, attributeId, type)");
    return nullptr;
  }
  return scalarValue(env, stream->getAttribute(id, static_cast<AttributeType>(type)));
}

napi_value getMetadata(napi_env env, napi_callback_info info) {
  Args args(env, info);
  StreamHost* stream = args.stream();
  uint32_t source = 0;
  std::string ns;
  std::string key;
  if (stream == nullptr) {
    return nullptr;
  }
  if (!args.uint32(2, source) || source > 3 || !args.utf8(3, ns) || !args.utf8(4, key)) {
    args.throwTypeError("expected (slot, gen, source, namespace, key)");
    return nullptr;
  }
  return scalarValue(env, stream->getMetadata(source, ns, key));
}

// startCallout: (slot, gen, cluster, headers[], Uint8Array, timeoutMs);
// startFetchStream: (slot, gen, cluster, headers[], Uint8Array, timeoutMs, endStream).
// Both return the id Envoy gave, or throw ETS_ERR_FETCH naming why it could not start.
template <bool kStreaming>
napi_value startFetch(napi_env env, napi_callback_info info) {
  Args args(env, info);
  StreamHost* stream = args.stream();
  std::string cluster;
  std::vector<std::string> flat;
  std::string_view body;
  double timeout_ms = 0;
  bool end_stream = true;
  if (stream == nullptr) {
    return nullptr;
  }
  if (!args.utf8(2, cluster) || !args.stringPairs(3, flat) || !args.bytes(4, body) ||
      !args.number(5, timeout_ms) || timeout_ms < 0 || (kStreaming && !args.boolean(6, end_stream))) {
    args.throwTypeError(kStreaming ? "expected (slot, gen, cluster, headers[], Uint8Array, timeoutMs, endStream)"
                                   : "expected (slot, gen, cluster, headers[], Uint8Array, timeoutMs)");
    return nullptr;
  }
  const HeaderList headers = headerViews(flat);
  static constexpr const char* kInitResults[] = {
      "started", "the request lacks :method, :path or host", "no such cluster",
      "duplicate callout id", "Envoy cannot create the request (no healthy host?)"};
  uint64_t id = 0;
  const auto timeout = static_cast<uint64_t>(timeout_ms);
  uint32_t result = kStreaming ? stream->startFetchStream(cluster, headers, body, end_stream, timeout, id)
                               : stream->startCallout(cluster, headers, body, timeout, id);
  if (result != 0) {
    std::string message = "fetch to cluster '" + cluster + "' could not start: " +
                          (result < 5 ? kInitResults[result] : "unknown reason");
    napi_throw_error(env, "ETS_ERR_FETCH", message.c_str());
    return nullptr;
  }
  napi_value out;
  napi_create_double(env, static_cast<double>(id), &out);
  return out;
}

// (slot, gen, id, Uint8Array, endStream) → false when the stream is unknown or already ended.
napi_value fetchStreamSendData(napi_env env, napi_callback_info info) {
  Args args(env, info);
  StreamHost* stream = args.stream();
  double id = 0;
  std::string_view data;
  bool end_stream = false;
  if (stream == nullptr) {
    return nullptr;
  }
  if (!args.number(2, id) || !args.bytes(3, data) || !args.boolean(4, end_stream)) {
    args.throwTypeError("expected (slot, gen, id, Uint8Array, endStream)");
    return nullptr;
  }
  napi_value result;
  napi_get_boolean(env, stream->fetchStreamSendData(static_cast<uint64_t>(id), data, end_stream), &result);
  return result;
}

// (slot, gen, id, trailers[]) → false when the stream is unknown or already ended.
napi_value fetchStreamSendTrailers(napi_env env, napi_callback_info info) {
  Args args(env, info);
  StreamHost* stream = args.stream();
  double id = 0;
  std::vector<std::string> flat;
  if (stream == nullptr) {
    return nullptr;
  }
  if (!args.number(2, id) || !args.stringPairs(3, flat)) {
    args.throwTypeError("expected (slot, gen, id, trailers[])");
    return nullptr;
  }
  napi_value result;
  napi_get_boolean(env, stream->fetchStreamSendTrailers(static_cast<uint64_t>(id), headerViews(flat)),
                   &result);
  return result;
}

// (slot, gen, id): abandon a streaming fetch.
napi_value resetFetchStream(napi_env env, napi_callback_info info) {
  Args args(env, info);
  StreamHost* stream = args.stream();
  double id = 0;
  if (stream == nullptr) {
    return nullptr;
  }
  if (!args.number(2, id)) {
    args.throwTypeError("expected (slot, gen, id)");
    return nullptr;
  }
  stream->resetFetchStream(static_cast<uint64_t>(id));
  return undefinedValue(env);
}

// (slot, gen, host, strict) → whether Envoy took the override (host must be an IP address).
napi_value setUpstreamOverrideHost(napi_env env, napi_callback_info info) {
  Args args(env, info);
  StreamHost* stream = args.stream();
  std::string host;
  bool strict = false;
  if (stream == nullptr) {
    return nullptr;
  }
  if (!args.latin1(2, host) || !args.boolean(3, strict)) {
    args.throwTypeError("expected (slot, gen, host, strict)");
    return nullptr;
  }
  napi_value result;
  napi_get_boolean(env, stream->setUpstreamOverrideHost(host, strict), &result);
  return result;
}

// (slot, gen, direction) → WholeBodyState.
napi_value bufferWholeBody(napi_env env, napi_callback_info info) {
  Args args(env, info);
  StreamHost* stream = args.stream();
  uint32_t direction = 0;
  if (stream == nullptr) {
    return nullptr;
  }
  if (!args.uint32(2, direction) || direction > 1) {
    args.throwTypeError("invalid body direction");
    return nullptr;
  }
  napi_value result;
  napi_create_uint32(env, static_cast<uint32_t>(stream->bufferWholeBody(static_cast<BufferKind>(direction))),
                     &result);
  return result;
}

napi_value clearRouteCache(napi_env env, napi_callback_info info) {
  Args args(env, info);
  StreamHost* stream = args.stream();
  if (stream == nullptr) {
    return nullptr;
  }
  stream->clearRouteCache();
  return undefinedValue(env);
}

napi_value metric(napi_env env, napi_callback_info info) {
  Args args(env, info);
  StreamTable::Entry* entry = args.entry();
  uint32_t index = 0;
  uint32_t op = 0;
  double value = 0;
  if (entry == nullptr) {
    return nullptr;
  }
  std::vector<std::string> labels;
  if (!args.uint32(2, index) || !args.uint32(3, op) || op > 3 || !args.number(4, value) ||
      !args.strings(5, labels)) {
    args.throwTypeError("expected (slot, gen, index, op, value, labels[])");
    return nullptr;
  }
  if (!entry->host->recordMetric(index, static_cast<MetricOp>(op), static_cast<int64_t>(value),
                                 labels)) {
    napi_throw_error(env, "ETS_ERR_METRIC", "Envoy did not record the metric");
    return nullptr;
  }
  return undefinedValue(env);
}

// The runtime's typed arrays (Bridge::setStatsBuffer and the like): argument 0 must be a `type`
// array of at least `min_length` elements, else the TypeError says `expected`.
template <class T>
napi_value keepTypedArray(napi_env env, napi_callback_info info, napi_typedarray_type type,
                          size_t min_length, const char* expected,
                          void (Bridge::*keep)(napi_value, T*, size_t)) {
  Args args(env, info);
  T* data = nullptr;
  size_t length = 0;
  if (!args.typedArray(0, type, data, length) || length < min_length) {
    args.throwTypeError(expected);
    return nullptr;
  }
  (args.bridge().*keep)(args.value(0), data, length);
  return undefinedValue(env);
}

// (Float64Array): where the runtime leaves a completing stream's built-in stats records.
napi_value setStatsBuffer(napi_env env, napi_callback_info info) {
  return keepTypedArray(env, info, napi_float64_array, 0, "expected a Float64Array",
                        &Bridge::setStatsBuffer);
}

// (Float64Array): the runtime's clock cell, where stampClock leaves the time.
napi_value setClockCell(napi_env env, napi_callback_info info) {
  return keepTypedArray(env, info, napi_float64_array, 1,
                        "expected a Float64Array of one or more cells", &Bridge::setClockCell);
}

// (Uint32Array): the runtime's crossing frame (CrossingFrame slots).
napi_value setCrossingFrame(napi_env env, napi_callback_info info) {
  return keepTypedArray(env, info, napi_uint32_array, CrossingFrame::kLength,
                        "expected a Uint32Array of the crossing frame's slots",
                        &Bridge::setCrossingFrame);
}

// (Uint8Array): Node's tick info, read after calls into JS (Bridge::finish).
napi_value setTickInfo(napi_env env, napi_callback_info info) {
  return keepTypedArray(env, info, napi_uint8_array, 2, "expected Node's tick info (a Uint8Array)",
                        &Bridge::setTickInfo);
}

// (Int32Array): the runtime's watch slots, for the CPU watchdog.
napi_value setWatchSlots(napi_env env, napi_callback_info info) {
  return keepTypedArray(env, info, napi_int32_array, runtime::WatchSlot::kCount,
                        "expected an Int32Array of the watch slots", &Bridge::setWatchSlots);
}

napi_value environmentBroken(napi_env env, napi_callback_info info) {
  Args args(env, info);
  args.bridge().environmentBroken();
  return undefinedValue(env);
}

napi_value sharedCounterAdd(napi_env env, napi_callback_info info) {
  Args args(env, info);
  std::string key;
  double delta = 0;
  if (!args.utf8(0, key) || !args.number(1, delta)) {
    args.throwTypeError("expected (key, delta)");
    return nullptr;
  }
  napi_value result;
  napi_create_int64(env, runtime::SharedCounters::add(key, static_cast<int64_t>(delta)), &result);
  return result;
}

napi_value sharedCounterGet(napi_env env, napi_callback_info info) {
  Args args(env, info);
  std::string key;
  if (!args.utf8(0, key)) {
    args.throwTypeError("expected (key)");
    return nullptr;
  }
  napi_value result;
  napi_create_int64(env, runtime::SharedCounters::get(key), &result);
  return result;
}

napi_value sharedTokensTake(napi_env env, napi_callback_info info) {
  Args args(env, info);
  std::string key;
  double rate = 0;
  double burst = 0;
  double cost = 0;
  if (!args.utf8(0, key) || !args.number(1, rate) || !args.number(2, burst) || !args.number(3, cost) ||
      !(rate > 0) || !(burst > 0) || !(cost >= 0)) {
    args.throwTypeError("expected (key, ratePerSecond > 0, burst > 0, cost >= 0)");
    return nullptr;
  }
  napi_value result;
  napi_create_double(
      env, static_cast<double>(runtime::SharedTokenBuckets::take(key, rate, burst, cost)), &result);
  return result;
}

napi_value setDispatcher(napi_env env, napi_callback_info info) {
  Args args(env, info);
  size_t argc = 1;
  napi_value dispatcher;
  napi_get_cb_info(env, info, &argc, &dispatcher, nullptr, nullptr);
  napi_valuetype type;
  if (argc < 1 || napi_typeof(env, dispatcher, &type) != napi_ok || type != napi_object) {
    args.throwTypeError("expected a dispatcher object");
    return nullptr;
  }
  args.bridge().setDispatcher(Napi::Object(env, dispatcher));
  return undefinedValue(env);
}

}  // namespace

void defineBindingFunctions(Napi::Env env, Napi::Object exports, Bridge& bridge) {
  void* data = &bridge;
  const napi_property_descriptor properties[] = {
      {"setDispatcher", nullptr, setDispatcher, nullptr, nullptr, nullptr, napi_default, data},
      {"sendLocalReply", nullptr, sendLocalReply, nullptr, nullptr, nullptr, napi_default, data},
      {"requestResume", nullptr, requestResume, nullptr, nullptr, nullptr, napi_default, data},
      {"wantStreamEnd", nullptr, wantStreamEnd, nullptr, nullptr, nullptr, napi_default, data},
      {"metric", nullptr, metric, nullptr, nullptr, nullptr, napi_default, data},
      {"setStatsBuffer", nullptr, setStatsBuffer, nullptr, nullptr, nullptr, napi_default, data},
      {"setClockCell", nullptr, setClockCell, nullptr, nullptr, nullptr, napi_default, data},
      {"setCrossingFrame", nullptr, setCrossingFrame, nullptr, nullptr, nullptr, napi_default,
       data},
      {"setTickInfo", nullptr, setTickInfo, nullptr, nullptr, nullptr, napi_default, data},
      {"setWatchSlots", nullptr, setWatchSlots, nullptr, nullptr, nullptr, napi_default, data},
      {"environmentBroken", nullptr, environmentBroken, nullptr, nullptr, nullptr, napi_default,
       data},
      {"setMetadata", nullptr, setMetadata, nullptr, nullptr, nullptr, napi_default, data},
      {"setFilterState", nullptr, setFilterState, nullptr, nullptr, nullptr, napi_default, data},
      {"getFilterState", nullptr, getFilterState, nullptr, nullptr, nullptr, napi_default, data},
      {"getAttribute", nullptr, getAttribute, nullptr, nullptr, nullptr, napi_default, data},
      {"getMetadata", nullptr, getMetadata, nullptr, nullptr, nullptr, napi_default, data},
      {"clearRouteCache", nullptr, clearRouteCache, nullptr, nullptr, nullptr, napi_default, data},
      {"bufferWholeBody", nullptr, bufferWholeBody, nullptr, nullptr, nullptr, napi_default, data},
      {"setUpstreamOverrideHost", nullptr, setUpstreamOverrideHost, nullptr, nullptr, nullptr,
       napi_default, data},
      {"startCallout", nullptr, startFetch<false>, nullptr, nullptr, nullptr, napi_default, data},
      {"startFetchStream", nullptr, startFetch<true>, nullptr, nullptr, nullptr, napi_default, data},
      {"fetchStreamSendData", nullptr, fetchStreamSendData, nullptr, nullptr, nullptr, napi_default,
       data},
      {"fetchStreamSendTrailers", nullptr, fetchStreamSendTrailers, nullptr, nullptr, nullptr,
       napi_default, data},
      {"resetFetchStream", nullptr, resetFetchStream, nullptr, nullptr, nullptr, napi_default, data},
      {"sharedCounterAdd", nullptr, sharedCounterAdd, nullptr, nullptr, nullptr, napi_default, data},
      {"sharedCounterGet", nullptr, sharedCounterGet, nullptr, nullptr, nullptr, napi_default, data},
      {"sharedTokensTake", nullptr, sharedTokensTake, nullptr, nullptr, nullptr, napi_default, data},
      {"log", nullptr, log, nullptr, nullptr, nullptr, napi_default, data},
      {"logEnabled", nullptr, logEnabled, nullptr, nullptr, nullptr, napi_default, data},
      {"isMainThread", nullptr, nullptr, nullptr, nullptr,
       Napi::Boolean::New(env, bridge.isMainThread()), napi_enumerable, data},
  };
  napi_define_properties(env, exports, sizeof(properties) / sizeof(properties[0]), properties);
  defineHeaderFunctions(exports, bridge);
  defineClockFunction(exports, bridge);
  defineConnectionFunctions(env, exports, bridge);
  defineBufferFunctions(env, exports, bridge);
  defineSharedStateFunctions(env, exports, bridge);
  defineOffloadFunctions(exports, bridge);
}

}  // namespace envoy_ts::bridge
