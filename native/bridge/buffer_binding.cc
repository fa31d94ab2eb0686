// The binding functions over a stream's or connection's bytes (ts-filters/runtime/native.d.ts):
// zero-copy views of Envoy's slices, and edits that go straight to Envoy.
#include <string>
#include <vector>

#include "native/bridge/binding.h"
#include "native/bridge/binding_args.h"
#include "native/bridge/bridge.h"

namespace envoy_ts::bridge {
namespace {

// Arguments 0-2: (slot, gen, buffer kind). Throws and returns nullptr when invalid.
HostBase* bufferHost(const Args& args, BufferKind& out) {
  StreamTable::Entry* entry = args.entry();
  if (entry == nullptr) {
    return nullptr;
  }
  uint32_t kind = 0;
  if (!args.uint32(2, kind) || kind > 1) {
    args.throwTypeError("invalid buffer kind");
    return nullptr;
  }
  out = static_cast<BufferKind>(kind);
  return entry->host;
}

napi_value throwNoBuffer(napi_env env) {
  napi_throw_error(env, "ETS_ERR_NOT_IN_HOOK",
                   "that buffer does not exist now (a connection's write buffer only during onWrite, "
                   "an HTTP body only while this filter holds it)");
  return nullptr;
}

napi_value bufferLength(napi_env env, napi_callback_info info) {
  Args args(env, info);
  BufferKind buffer;
  HostBase* host = bufferHost(args, buffer);
  size_t length = 0;
  if (host == nullptr) {
    return nullptr;
  }
  if (!host->bufferLength(buffer, length)) {
    return throwNoBuffer(env);
  }
  napi_value result;
  napi_create_double(env, static_cast<double>(length), &result);
  return result;
}

// Zero-copy: each slice becomes a Uint8Array over Envoy's memory, detached before control returns
// to Envoy or the buffer changes.
napi_value bufferChunks(napi_env env, napi_callback_info info) {
  Args args(env, info);
  BufferKind buffer;
  HostBase* host = bufferHost(args, buffer);
  if (host == nullptr) {
    return nullptr;
  }
  std::vector<std::string_view> slices;
  if (!host->bufferSlices(buffer, slices)) {
    return throwNoBuffer(env);
  }
  Bridge& bridge = args.bridge();
  napi_value result;
  napi_create_array_with_length(env, slices.size(), &result);
  for (size_t i = 0; i < slices.size(); ++i) {
    napi_set_element(env, result, static_cast<uint32_t>(i),
                     bridge.views().create(env, slices[i], bridge.callDepth()));
  }
  return result;
}

// drainBuffer / prependBuffer / appendBuffer change Envoy's slices: views of them go first.
enum class BufferEdit { Drain, Prepend, Append };

template <BufferEdit kEdit>
napi_value editBuffer(napi_env env, napi_callback_info info) {
  Args args(env, info);
  BufferKind buffer;
  HostBase* host = bufferHost(args, buffer);
  if (host == nullptr) {
    return nullptr;
  }
  double length = 0;
  std::string_view data;
  if (kEdit == BufferEdit::Drain ? !args.number(3, length) || length < 0 : !args.bytes(3, data)) {
    args.throwTypeError(kEdit == BufferEdit::Drain ? "expected a length" : "expected a Uint8Array");
    return nullptr;
  }
  args.bridge().views().detachAll();
  bool ok = kEdit == BufferEdit::Drain     ? host->drainBuffer(buffer, static_cast<size_t>(length))
            : kEdit == BufferEdit::Prepend ? host->prependBuffer(buffer, data)
                                           : host->appendBuffer(buffer, data);
  if (!ok) {
    return throwNoBuffer(env);
  }
  return undefinedValue(env);
}

}  // namespace

void defineBufferFunctions(Napi::Env env, Napi::Object exports, Bridge& bridge) {
  void* data = &bridge;
  const napi_property_descriptor properties[] = {
      {"bufferLength", nullptr, bufferLength, nullptr, nullptr, nullptr, napi_default, data},
      {"bufferChunks", nullptr, bufferChunks, nullptr, nullptr, nullptr, napi_default, data},
      {"drainBuffer", nullptr, editBuffer<BufferEdit::Drain>, nullptr, nullptr, nullptr,
       napi_default, data},
      {"prependBuffer", nullptr, editBuffer<BufferEdit::Prepend>, nullptr, nullptr, nullptr,
       napi_default, data},
      {"appendBuffer", nullptr, editBuffer<BufferEdit::Append>, nullptr, nullptr, nullptr,
       napi_default, data},
  };
  napi_define_properties(env, exports, sizeof(properties) / sizeof(properties[0]), properties);
}

}  // namespace envoy_ts::bridge
