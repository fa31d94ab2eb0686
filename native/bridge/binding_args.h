// Reading the arguments of a binding call. The runtime is our own code, but a wrong argument must
// still raise a JS error, never crash Envoy.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "native/bridge/bridge.h"
#include "node_api.h"

namespace envoy_ts::bridge {

constexpr size_t kMaxArgs = 7;

// The arguments of one binding call.
class Args {
 public:
  Args(napi_env env, napi_callback_info info) : env_(env) {
    napi_get_cb_info(env, info, &argc_, argv_, nullptr, &data_);
  }

  Bridge& bridge() const { return *static_cast<Bridge*>(data_); }
  napi_env env() const { return env_; }

  bool uint32(size_t i, uint32_t& out) const {
    return i < argc_ && napi_get_value_uint32(env_, argv_[i], &out) == napi_ok;
  }

  // HTTP header text is bytes: it crosses as latin1, one JS char per byte.
  bool latin1(size_t i, std::string& out) const {
    if (i >= argc_) {
      return false;
    }
    size_t length = 0;
    if (napi_get_value_string_latin1(env_, argv_[i], nullptr, 0, &length) != napi_ok) {
      return false;
    }
    out.resize(length);
    return napi_get_value_string_latin1(env_, argv_[i], out.data(), length + 1, &length) == napi_ok;
  }

  bool utf8(size_t i, std::string& out) const {
    if (i >= argc_) {
      return false;
    }
    size_t length = 0;
    if (napi_get_value_string_utf8(env_, argv_[i], nullptr, 0, &length) != napi_ok) {
      return false;
    }
    out.resize(length);
    return napi_get_value_string_utf8(env_, argv_[i], out.data(), length + 1, &length) == napi_ok;
  }

  // A flat [name, value, ...] string array.
  bool stringPairs(size_t i, std::vector<std::string>& out) const {
    return strings(i, out) && out.size() % 2 == 0;
  }

  // A string array (latin1).
  bool strings(size_t i, std::vector<std::string>& out) const {
    bool is_array = false;
    if (i >= argc_ || napi_is_array(env_, argv_[i], &is_array) != napi_ok || !is_array) {
      return false;
    }
    uint32_t length = 0;
    napi_get_array_length(env_, argv_[i], &length);
    out.resize(length);
    for (uint32_t k = 0; k < length; ++k) {
      napi_value item;
      size_t n = 0;
      if (napi_get_element(env_, argv_[i], k, &item) != napi_ok ||
          napi_get_value_string_latin1(env_, item, nullptr, 0, &n) != napi_ok) {
        return false;
      }
      out[k].resize(n);
      napi_get_value_string_latin1(env_, item, out[k].data(), n + 1, &n);
    }
    return true;
  }

  // The stream or connection addressed by arguments 0 (slot) and 1 (generation); throws if it
  // is gone.
  StreamTable::Entry* entry() const {
    uint32_t slot = 0;
    uint32_t gen = 0;
    if (!uint32(0, slot) || !uint32(1, gen)) {
      throwTypeError("expected (slot, generation)");
      return nullptr;
    }
    StreamTable::Entry* found = bridge().streams().find(slot, gen);
    if (found == nullptr) {
      napi_throw_error(env_, "ETS_ERR_STREAM_CLOSED",
                       "the stream is closed: its request, response or connection is gone");
    }
    return found;
  }

  // The HTTP stream addressed by arguments 0 and 1; throws if it is gone or not a stream.
  StreamHost* stream() const {
    StreamTable::Entry* found = entry();
    if (found == nullptr) {
      return nullptr;
    }
    if (found->http() == nullptr) {
      throwTypeError("not an HTTP stream");
    }
    return found->http();
  }

  // The connection addressed by arguments 0 and 1; throws if it is gone or not a connection.
  ConnectionHost* connection() const {
    StreamTable::Entry* found = entry();
    if (found == nullptr) {
      return nullptr;
    }
    if (found->connection() == nullptr) {
      throwTypeError("not a network connection");
    }
    return found->connection();
  }

  // A Uint8Array argument's bytes (a view of JS memory, valid during this call).
  bool bytes(size_t i, std::string_view& out) const {
    bool is_typed_array = false;
    if (i >= argc_ || napi_is_typedarray(env_, argv_[i], &is_typed_array) != napi_ok ||
        !is_typed_array) {
      return false;
    }
    napi_typedarray_type type;
    size_t length = 0;
    void* data = nullptr;
    if (napi_get_typedarray_info(env_, argv_[i], &type, &length, &data, nullptr, nullptr) != napi_ok ||
        type != napi_uint8_array) {
      return false;
    }
    out = std::string_view(static_cast<const char*>(data), length);
    return true;
  }

  napi_value value(size_t i) const { return i < argc_ ? argv_[i] : nullptr; }

  bool boolean(size_t i, bool& out) const {
    return i < argc_ && napi_get_value_bool(env_, argv_[i], &out) == napi_ok;
  }

  bool number(size_t i, double& out) const {
    return i < argc_ && napi_get_value_double(env_, argv_[i], &out) == napi_ok;
  }

  napi_valuetype typeOf(size_t i) const {
    napi_valuetype type = napi_undefined;
    if (i < argc_) {
      napi_typeof(env_, argv_[i], &type);
    }
    return type;
  }

  void throwTypeError(const char* message) const {
    napi_throw_type_error(env_, "ETS_ERR_INVALID_ARG", message);
  }

  // A typed array argument of `type`: its elements as T (T must match `type`).
  template <class T>
  bool typedArray(size_t i, napi_typedarray_type type, T*& out, size_t& count) const {
    bool is_typed_array = false;
    if (i >= argc_ || napi_is_typedarray(env_, argv_[i], &is_typed_array) != napi_ok ||
        !is_typed_array) {
      return false;
    }
    napi_typedarray_type actual;
    void* data = nullptr;
    if (napi_get_typedarray_info(env_, argv_[i], &actual, &count, &data, nullptr, nullptr) !=
            napi_ok ||
        actual != type) {
      return false;
    }
    out = static_cast<T*>(data);
    return true;
  }

 private:
  napi_env env_;
  size_t argc_ = kMaxArgs;
  napi_value argv_[kMaxArgs] = {};
  void* data_ = nullptr;
};

inline napi_value undefinedValue(napi_env env) {
  napi_value result;
  napi_get_undefined(env, &result);
  return result;
}

inline napi_value latin1String(napi_env env, std::string_view text) {
  napi_value result;
  napi_create_string_latin1(env, text.data(), text.size(), &result);
  return result;
}

}  // namespace envoy_ts::bridge
