// The binding functions over proxy-wasm's process-wide shared data and shared queues
// (ts-filters/runtime/native.d.ts). Keys and names are latin1 strings (the module's bytes).
#include <cstring>
#include <string>

#include "native/bridge/binding.h"
#include "native/bridge/binding_args.h"
#include "native/runtime/shared_data.h"
#include "native/runtime/shared_queues.h"

namespace envoy_ts::bridge {
namespace {

// A Uint8Array holding a copy of `bytes`.
napi_value copiedArray(napi_env env, const std::string& bytes) {
  void* data = nullptr;
  napi_value array_buffer;
  napi_create_arraybuffer(env, bytes.size(), &data, &array_buffer);
  if (!bytes.empty()) {
    std::memcpy(data, bytes.data(), bytes.size());
  }
  napi_value result;
  napi_create_typedarray(env, napi_uint8_array, bytes.size(), array_buffer, 0, &result);
  return result;
}

napi_value uint32Value(napi_env env, uint32_t value) {
  napi_value result;
  napi_create_uint32(env, value, &result);
  return result;
}

// (key) → [Uint8Array, cas] | undefined.
napi_value sharedDataGet(napi_env env, napi_callback_info info) {
  Args args(env, info);
  std::string key;
  if (!args.latin1(0, key)) {
    args.throwTypeError("expected (key)");
    return nullptr;
  }
  std::optional<runtime::SharedData::Value> value = runtime::SharedData::get(key);
  if (!value) {
    return undefinedValue(env);
  }
  napi_value pair;
  napi_create_array_with_length(env, 2, &pair);
  napi_set_element(env, pair, 0, copiedArray(env, value->bytes));
  napi_set_element(env, pair, 1, uint32Value(env, value->cas));
  return pair;
}

// (key, Uint8Array, cas) → false on a compare-and-swap mismatch.
napi_value sharedDataSet(napi_env env, napi_callback_info info) {
  Args args(env, info);
  std::string key;
  std::string_view bytes;
  uint32_t cas = 0;
  if (!args.latin1(0, key) || !args.bytes(1, bytes) || !args.uint32(2, cas)) {
    args.throwTypeError("expected (key, Uint8Array, cas)");
    return nullptr;
  }
  napi_value result;
  napi_get_boolean(env, runtime::SharedData::set(key, bytes, cas), &result);
  return result;
}

// sharedQueueRegister / sharedQueueResolve: (vmId, name) → token (0: not registered).
template <uint32_t (*kLookup)(const std::string&, const std::string&)>
napi_value queueToken(napi_env env, napi_callback_info info) {
  Args args(env, info);
  std::string vm_id;
  std::string name;
  if (!args.latin1(0, vm_id) || !args.latin1(1, name)) {
    args.throwTypeError("expected (vmId, name)");
    return nullptr;
  }
  return uint32Value(env, kLookup(vm_id, name));
}

// (token, Uint8Array) → false for an unknown token.
napi_value sharedQueueEnqueue(napi_env env, napi_callback_info info) {
  Args args(env, info);
  uint32_t token = 0;
  std::string_view bytes;
  if (!args.uint32(0, token) || !args.bytes(1, bytes)) {
    args.throwTypeError("expected (token, Uint8Array)");
    return nullptr;
  }
  napi_value result;
  napi_get_boolean(env, runtime::SharedQueues::enqueue(token, bytes), &result);
  return result;
}

// (token) → Uint8Array, null when empty, undefined for an unknown token.
napi_value sharedQueueDequeue(napi_env env, napi_callback_info info) {
  Args args(env, info);
  uint32_t token = 0;
  if (!args.uint32(0, token)) {
    args.throwTypeError("expected (token)");
    return nullptr;
  }
  std::string item;
  switch (runtime::SharedQueues::dequeue(token, item)) {
    case runtime::SharedQueues::Dequeued::Item:
      return copiedArray(env, item);
    case runtime::SharedQueues::Dequeued::Empty: {
      napi_value null;
      napi_get_null(env, &null);
      return null;
    }
    case runtime::SharedQueues::Dequeued::Unknown:
      break;
  }
  return undefinedValue(env);
}

// (token) → items waiting, -1 for an unknown token.
napi_value sharedQueueLength(napi_env env, napi_callback_info info) {
  Args args(env, info);
  uint32_t token = 0;
  if (!args.uint32(0, token)) {
    args.throwTypeError("expected (token)");
    return nullptr;
  }
  std::optional<size_t> length = runtime::SharedQueues::length(token);
  napi_value result;
  napi_create_double(env, length ? static_cast<double>(*length) : -1.0, &result);
  return result;
}

}  // namespace

void defineSharedStateFunctions(Napi::Env env, Napi::Object exports, Bridge& bridge) {
  void* data = &bridge;
  const napi_property_descriptor properties[] = {
      {"sharedDataGet", nullptr, sharedDataGet, nullptr, nullptr, nullptr, napi_default, data},
      {"sharedDataSet", nullptr, sharedDataSet, nullptr, nullptr, nullptr, napi_default, data},
      {"sharedQueueRegister", nullptr, queueToken<runtime::SharedQueues::registerQueue>, nullptr,
       nullptr, nullptr, napi_default, data},
      {"sharedQueueResolve", nullptr, queueToken<runtime::SharedQueues::resolve>, nullptr, nullptr,
       nullptr, napi_default, data},
      {"sharedQueueEnqueue", nullptr, sharedQueueEnqueue, nullptr, nullptr, nullptr, napi_default,
       data},
      {"sharedQueueDequeue", nullptr, sharedQueueDequeue, nullptr, nullptr, nullptr, napi_default,
       data},
      {"sharedQueueLength", nullptr, sharedQueueLength, nullptr, nullptr, nullptr, napi_default,
       data},
  };
  napi_define_properties(env, exports, sizeof(properties) / sizeof(properties[0]), properties);
}

}  // namespace envoy_ts::bridge
