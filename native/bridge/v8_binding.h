// Binding functions written against V8 directly, for the calls a hook makes many times (header
// reads and writes, the stats clock): a Node-API function pays for its wrapper on every call (the
// callback-info copy, the env's exception bookkeeping, a value per argument), and reading a string
// through it allocates a std::string. These read their arguments straight from V8's call info and
// copy header text into a stack buffer. They throw the same errors, with the same codes, as the
// Node-API functions (Error objects with a `code` property).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "napi.h"
#include "v8.h"

namespace envoy_ts::bridge {

class Bridge;

// A V8 function on the binding object (`exports`), non-enumerable and read-only like the Node-API
// ones; `bridge` is what bridgeOf() gives back inside it.
void defineV8Function(Napi::Object exports, const char* name, v8::FunctionCallback callback,
                      Bridge& bridge, int length);

// The bridge a function of defineV8Function was made for.
Bridge& bridgeOf(const v8::FunctionCallbackInfo<v8::Value>& info);

// Throws a TypeError (`type_error`) or an Error whose `code` is `code`, as napi_throw_* does.
void throwCoded(v8::Isolate* isolate, bool type_error, const char* code, std::string_view message);
inline void throwInvalidArg(v8::Isolate* isolate, std::string_view message) {
  throwCoded(isolate, true, "ETS_ERR_INVALID_ARG", message);
}

// Argument `i` as a uint32 (false when it is not a number in uint32 range).
inline bool uint32Arg(const v8::FunctionCallbackInfo<v8::Value>& info, int i, uint32_t& out) {
  v8::Local<v8::Value> value = info[i];
  if (!value->IsUint32()) {
    return false;
  }
  out = value.As<v8::Uint32>()->Value();
  return true;
}

// The bytes of a JS string whose every char is at most U+00FF, one byte per char (HTTP header text
// crosses as latin1). Up to kInline bytes live on the stack; longer text goes to the heap.
class Latin1Arg {
 public:
  static constexpr int kInline = 512;

  enum class Read { Ok, NotString, AboveLatin1 };
  // A string with a char above U+00FF is read only up to that char (AboveLatin1, the char's index
  // in aboveLatin1At()): no char is ever truncated to its low byte (U+010A must not become LF).
  Read read(v8::Isolate* isolate, v8::Local<v8::Value> value);
  std::string_view view() const { return {data_, size_}; }
  size_t aboveLatin1At() const { return above_latin1_at_; }

 private:
  // Room for `size` bytes (on the heap past kInline), all of them in view().
  void resize(size_t size);

  char inline_[kInline];
  std::string heap_;
  char* data_ = inline_;
  size_t size_ = 0;
  size_t above_latin1_at_ = 0;
};

// A JS string of `text`'s bytes, one char per byte.
inline v8::Local<v8::String> latin1Value(v8::Isolate* isolate, std::string_view text) {
  return v8::String::NewFromOneByte(isolate, reinterpret_cast<const uint8_t*>(text.data()),
                                    v8::NewStringType::kNormal, static_cast<int>(text.size()))
      .ToLocalChecked();
}

}  // namespace envoy_ts::bridge
