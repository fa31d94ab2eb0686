#include "native/bridge/binding.h"

#include <string>

#include "native/bridge/bridge.h"
#include "native/runtime/log.h"

namespace envoy_ts::bridge {
namespace {

constexpr size_t kMaxArgs = 6;

// Arguments of one binding call. The runtime is our own code, but a wrong argument must still
// raise a JS error, never crash Envoy.
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
    bool is_array = false;
    if (i >= argc_ || napi_is_array(env_, argv_[i], &is_array) != napi_ok || !is_array) {
      return false;
    }
    uint32_t length = 0;
    napi_get_array_length(env_, argv_[i], &length);
    if (length % 2 != 0) {
      return false;
    }
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

  // The stream addressed by arguments 0 (slot) and 1 (generation); throws if it is gone.
  StreamTable::Entry* stream() const {
    uint32_t slot = 0;
    uint32_t gen = 0;
    if (!uint32(0, slot) || !uint32(1, gen)) {
      throwTypeError("expected (slot, generation)");
      return nullptr;
    }
    StreamTable::Entry* entry = bridge().streams().find(slot, gen);
    if (entry == nullptr) {
      napi_throw_error(env_, "ETS_ERR_STREAM_CLOSED",
                       "the stream is closed: its request or response is gone");
    }
    return entry;
  }

  // Argument 2: a header map kind.
  bool headerMap(HeaderMapKind& out) const {
    uint32_t kind = 0;
    if (!uint32(2, kind) || kind > 3) {
      throwTypeError("invalid header map kind");
      return false;
    }
    out = static_cast<HeaderMapKind>(kind);
    return true;
  }

  void throwTypeError(const char* message) const {
    napi_throw_type_error(env_, "ETS_ERR_INVALID_ARG", message);
  }

 private:
  napi_env env_;
  size_t argc_ = kMaxArgs;
  napi_value argv_[kMaxArgs] = {};
  void* data_ = nullptr;
};

napi_value undefinedValue(napi_env env) {
  napi_value result;
  napi_get_undefined(env, &result);
  return result;
}

napi_value latin1String(napi_env env, std::string_view text) {
  napi_value result;
  napi_create_string_latin1(env, text.data(), text.size(), &result);
  return result;
}

napi_value getHeader(napi_env env, napi_callback_info info) {
  Args args(env, info);
  StreamTable::Entry* stream = args.stream();
  HeaderMapKind map;
  std::string name;
  if (stream == nullptr || !args.headerMap(map)) {
    return nullptr;
  }
  if (!args.latin1(3, name)) {
    args.throwTypeError("header name must be a string");
    return nullptr;
  }
  std::string_view value;
  size_t count = 0;
  if (!stream->host->getHeader(map, name, 0, value, count) || count == 0) {
    return undefinedValue(env);
  }
  return latin1String(env, value);
}

napi_value getHeaderValues(napi_env env, napi_callback_info info) {
  Args args(env, info);
  StreamTable::Entry* stream = args.stream();
  HeaderMapKind map;
  std::string name;
  if (stream == nullptr || !args.headerMap(map)) {
    return nullptr;
  }
  if (!args.latin1(3, name)) {
    args.throwTypeError("header name must be a string");
    return nullptr;
  }
  napi_value result;
  napi_create_array(env, &result);
  std::string_view value;
  size_t count = 0;
  if (!stream->host->getHeader(map, name, 0, value, count)) {
    return result;
  }
  for (size_t i = 0; i < count; ++i) {
    if (i > 0 && !stream->host->getHeader(map, name, i, value, count)) {
      break;
    }
    napi_set_element(env, result, static_cast<uint32_t>(i), latin1String(env, value));
  }
  return result;
}

napi_value getHeaders(napi_env env, napi_callback_info info) {
  Args args(env, info);
  StreamTable::Entry* stream = args.stream();
  HeaderMapKind map;
  if (stream == nullptr || !args.headerMap(map)) {
    return nullptr;
  }
  HeaderList headers;
  stream->host->getHeaders(map, headers);
  napi_value result;
  napi_create_array_with_length(env, headers.size() * 2, &result);
  uint32_t index = 0;
  for (const auto& [key, value] : headers) {
    napi_set_element(env, result, index++, latin1String(env, key));
    napi_set_element(env, result, index++, latin1String(env, value));
  }
  return result;
}

// setHeader / addHeader / removeHeader share their shape.
enum class HeaderWrite { Set, Add, Remove };

template <HeaderWrite kWrite>
napi_value writeHeader(napi_env env, napi_callback_info info) {
  Args args(env, info);
  StreamTable::Entry* stream = args.stream();
  HeaderMapKind map;
  std::string name;
  std::string value;
  if (stream == nullptr || !args.headerMap(map)) {
    return nullptr;
  }
  if (!args.latin1(3, name) || (kWrite != HeaderWrite::Remove && !args.latin1(4, value))) {
    args.throwTypeError("header name and value must be strings");
    return nullptr;
  }
  bool ok = kWrite == HeaderWrite::Set   ? stream->host->setHeader(map, name, value)
            : kWrite == HeaderWrite::Add ? stream->host->addHeader(map, name, value)
                                         : stream->host->removeHeader(map, name);
  if (!ok) {
    napi_throw_error(env, "ETS_ERR_HEADERS_UNAVAILABLE",
                     "these headers cannot be changed now (not received yet, or already sent)");
    return nullptr;
  }
  return undefinedValue(env);
}

napi_value sendLocalReply(napi_env env, napi_callback_info info) {
  Args args(env, info);
  StreamTable::Entry* stream = args.stream();
  if (stream == nullptr) {
    return nullptr;
  }
  uint32_t status = 0;
  std::vector<std::string> flat;
  std::string body;
  std::string details;
  if (!args.uint32(2, status) || !args.stringPairs(3, flat) || !args.utf8(4, body) ||
      !args.latin1(5, details)) {
    args.throwTypeError("expected (slot, gen, status, headers[], body, details)");
    return nullptr;
  }
  if (stream->active_calls == 0) {
    napi_throw_error(env, "ETS_ERR_NOT_IN_HOOK",
                     "a local reply can only be sent while the stream's own hook runs");
    return nullptr;
  }
  HeaderList headers;
  headers.reserve(flat.size() / 2);
  for (size_t i = 0; i + 1 < flat.size(); i += 2) {
    headers.emplace_back(flat[i], flat[i + 1]);
  }
  stream->host->sendLocalReply(status, headers, body, details);
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
  if (StreamTable::Entry* stream = args.bridge().streams().find(slot, gen)) {
    stream->host->requestResume();
  }
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
  runtime::log(static_cast<runtime::LogLevel>(level), message);
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
      {"getHeader", nullptr, getHeader, nullptr, nullptr, nullptr, napi_default, data},
      {"getHeaderValues", nullptr, getHeaderValues, nullptr, nullptr, nullptr, napi_default, data},
      {"getHeaders", nullptr, getHeaders, nullptr, nullptr, nullptr, napi_default, data},
      {"setHeader", nullptr, writeHeader<HeaderWrite::Set>, nullptr, nullptr, nullptr,
       napi_default, data},
      {"addHeader", nullptr, writeHeader<HeaderWrite::Add>, nullptr, nullptr, nullptr,
       napi_default, data},
      {"removeHeader", nullptr, writeHeader<HeaderWrite::Remove>, nullptr, nullptr, nullptr,
       napi_default, data},
      {"sendLocalReply", nullptr, sendLocalReply, nullptr, nullptr, nullptr, napi_default, data},
      {"requestResume", nullptr, requestResume, nullptr, nullptr, nullptr, napi_default, data},
      {"log", nullptr, log, nullptr, nullptr, nullptr, napi_default, data},
      {"logEnabled", nullptr, logEnabled, nullptr, nullptr, nullptr, napi_default, data},
      {"isMainThread", nullptr, nullptr, nullptr, nullptr,
       Napi::Boolean::New(env, bridge.isMainThread()), napi_enumerable, data},
  };
  napi_define_properties(env, exports, sizeof(properties) / sizeof(properties[0]), properties);
}

}  // namespace envoy_ts::bridge
