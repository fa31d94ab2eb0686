// The binding functions for network connections (ts-filters/runtime/native.d.ts).
#include <string>
#include <vector>

#include "native/bridge/binding.h"
#include "native/bridge/binding_args.h"
#include "native/bridge/bridge.h"

namespace envoy_ts::bridge {
namespace {

// Argument 2: which buffer.
bool bufferKind(const Args& args, BufferKind& out) {
  uint32_t kind = 0;
  if (!args.uint32(2, kind) || kind > 1) {
    args.throwTypeError("invalid buffer kind");
    return false;
  }
  out = static_cast<BufferKind>(kind);
  return true;
}

napi_value throwNoBuffer(napi_env env) {
  napi_throw_error(env, "ETS_ERR_NOT_IN_HOOK", "the write buffer only exists while onWrite runs");
  return nullptr;
}

napi_value bufferLength(napi_env env, napi_callback_info info) {
  Args args(env, info);
  ConnectionHost* connection = args.connection();
  BufferKind buffer;
  size_t length = 0;
  if (connection == nullptr || !bufferKind(args, buffer)) {
    return nullptr;
  }
  if (!connection->bufferLength(buffer, length)) {
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
  ConnectionHost* connection = args.connection();
  BufferKind buffer;
  if (connection == nullptr || !bufferKind(args, buffer)) {
    return nullptr;
  }
  std::vector<std::string_view> slices;
  if (!connection->bufferSlices(buffer, slices)) {
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
  ConnectionHost* connection = args.connection();
  BufferKind buffer;
  if (connection == nullptr || !bufferKind(args, buffer)) {
    return nullptr;
  }
  double length = 0;
  std::string_view data;
  if (kEdit == BufferEdit::Drain ? !args.number(3, length) || length < 0 : !args.bytes(3, data)) {
    args.throwTypeError(kEdit == BufferEdit::Drain ? "expected a length" : "expected a Uint8Array");
    return nullptr;
  }
  args.bridge().views().detachAll();
  bool ok = kEdit == BufferEdit::Drain     ? connection->drainBuffer(buffer, static_cast<size_t>(length))
            : kEdit == BufferEdit::Prepend ? connection->prependBuffer(buffer, data)
                                           : connection->appendBuffer(buffer, data);
  if (!ok) {
    return throwNoBuffer(env);
  }
  return undefinedValue(env);
}

// connectionWrite / injectRead: (slot, gen, bytes, endStream).
template <void (ConnectionHost::*kSend)(std::string_view, bool)>
napi_value send(napi_env env, napi_callback_info info) {
  Args args(env, info);
  ConnectionHost* connection = args.connection();
  std::string_view data;
  bool end_stream = false;
  if (connection == nullptr) {
    return nullptr;
  }
  if (!args.bytes(2, data) || !args.boolean(3, end_stream)) {
    args.throwTypeError("expected (slot, gen, Uint8Array, endStream)");
    return nullptr;
  }
  (connection->*kSend)(data, end_stream);
  return undefinedValue(env);
}

napi_value continueReading(napi_env env, napi_callback_info info) {
  Args args(env, info);
  ConnectionHost* connection = args.connection();
  if (connection == nullptr) {
    return nullptr;
  }
  connection->continueReading();
  return undefinedValue(env);
}

napi_value closeConnection(napi_env env, napi_callback_info info) {
  Args args(env, info);
  ConnectionHost* connection = args.connection();
  uint32_t type = 0;
  if (connection == nullptr) {
    return nullptr;
  }
  if (!args.uint32(2, type) || type > 4) {
    args.throwTypeError("invalid close type");
    return nullptr;
  }
  connection->close(static_cast<CloseType>(type));
  return undefinedValue(env);
}

napi_value readDisable(napi_env env, napi_callback_info info) {
  Args args(env, info);
  ConnectionHost* connection = args.connection();
  bool disabled = false;
  if (connection == nullptr) {
    return nullptr;
  }
  if (!args.boolean(2, disabled)) {
    args.throwTypeError("expected (slot, gen, disabled)");
    return nullptr;
  }
  connection->readDisable(disabled);
  return undefinedValue(env);
}

napi_value connectionInfo(napi_env env, napi_callback_info info) {
  Args args(env, info);
  ConnectionHost* connection = args.connection();
  if (connection == nullptr) {
    return nullptr;
  }
  ConnectionFacts facts = connection->facts();
  napi_value values[7];
  napi_create_double(env, static_cast<double>(facts.id), &values[0]);
  values[1] = latin1String(env, facts.remote_address);
  napi_create_uint32(env, facts.remote_port, &values[2]);
  values[3] = latin1String(env, facts.local_address);
  napi_create_uint32(env, facts.local_port, &values[4]);
  napi_get_boolean(env, facts.ssl, &values[5]);
  values[6] = facts.has_server_name ? latin1String(env, facts.server_name) : undefinedValue(env);
  napi_value result;
  napi_create_array_with_length(env, 7, &result);
  for (uint32_t i = 0; i < 7; ++i) {
    napi_set_element(env, result, i, values[i]);
  }
  return result;
}

}  // namespace

void defineConnectionFunctions(Napi::Env env, Napi::Object exports, Bridge& bridge) {
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
      {"connectionWrite", nullptr, send<&ConnectionHost::write>, nullptr, nullptr, nullptr,
       napi_default, data},
      {"injectRead", nullptr, send<&ConnectionHost::injectRead>, nullptr, nullptr, nullptr,
       napi_default, data},
      {"continueReading", nullptr, continueReading, nullptr, nullptr, nullptr, napi_default, data},
      {"closeConnection", nullptr, closeConnection, nullptr, nullptr, nullptr, napi_default, data},
      {"readDisable", nullptr, readDisable, nullptr, nullptr, nullptr, napi_default, data},
      {"connectionInfo", nullptr, connectionInfo, nullptr, nullptr, nullptr, napi_default, data},
  };
  napi_define_properties(env, exports, sizeof(properties) / sizeof(properties[0]), properties);
}

}  // namespace envoy_ts::bridge
