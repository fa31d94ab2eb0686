// The binding functions for network connections (ts-filters/runtime/native.d.ts).
#include <string>
#include <vector>

#include "native/bridge/binding.h"
#include "native/bridge/binding_args.h"
#include "native/bridge/bridge.h"

namespace envoy_ts::bridge {
namespace {

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
