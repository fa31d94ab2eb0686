#include "native/bridge/v8_binding.h"

#include <cstring>
#include <vector>

namespace envoy_ts::bridge {
namespace {

// Node-API values are V8 handles of the current scope (as Node's own conversions do).
v8::Local<v8::Object> toV8(napi_value value) {
  v8::Local<v8::Object> local;
  static_assert(sizeof(local) == sizeof(value));
  std::memcpy(static_cast<void*>(&local), &value, sizeof(value));
  return local;
}

v8::Local<v8::String> utf8Value(v8::Isolate* isolate, std::string_view text) {
  return v8::String::NewFromUtf8(isolate, text.data(), v8::NewStringType::kNormal,
                                 static_cast<int>(text.size()))
      .ToLocalChecked();
}

}  // namespace

void defineV8Function(Napi::Object exports, const char* name, v8::FunctionCallback callback,
                      Bridge& bridge, int length) {
  v8::Isolate* isolate = v8::Isolate::GetCurrent();
  v8::HandleScope scope(isolate);
  v8::Local<v8::Context> context = isolate->GetCurrentContext();
  v8::Local<v8::Function> function =
      v8::Function::New(context, callback, v8::External::New(isolate, &bridge), length,
                        v8::ConstructorBehavior::kThrow)
          .ToLocalChecked();
  v8::Local<v8::String> key = utf8Value(isolate, name);
  function->SetName(key);
  toV8(exports)
      ->DefineOwnProperty(context, key, function,
                          static_cast<v8::PropertyAttribute>(v8::ReadOnly | v8::DontEnum |
                                                             v8::DontDelete))
      .Check();
}

Bridge& bridgeOf(const v8::FunctionCallbackInfo<v8::Value>& info) {
  return *static_cast<Bridge*>(info.Data().As<v8::External>()->Value());
}

void throwCoded(v8::Isolate* isolate, bool type_error, const char* code, std::string_view message) {
  v8::Local<v8::Context> context = isolate->GetCurrentContext();
  v8::Local<v8::String> text = utf8Value(isolate, message);
  v8::Local<v8::Value> error =
      type_error ? v8::Exception::TypeError(text) : v8::Exception::Error(text);
  // Nothing when JavaScript is being terminated (the CPU watchdog): the error still goes.
  v8::Maybe<bool> coded =
      error.As<v8::Object>()->Set(context, utf8Value(isolate, "code"), utf8Value(isolate, code));
  static_cast<void>(coded);
  isolate->ThrowException(error);
}

Latin1Arg::Read Latin1Arg::read(v8::Isolate* isolate, v8::Local<v8::Value> value) {
  if (!value->IsString()) {
    return Read::NotString;
  }
  v8::Local<v8::String> text = value.As<v8::String>();
  const int length = text->Length();
  // A one-byte string holds only chars up to U+00FF; a two-byte one may too (e.g. a slice of a
  // longer string), which is checked before its chars are narrowed.
  if (!text->IsOneByte() && !text->ContainsOnlyOneByte()) {
    std::vector<uint16_t> chars(static_cast<size_t>(length));
    text->Write(isolate, chars.data(), 0, length, v8::String::NO_NULL_TERMINATION);
    above_latin1_at_ = 0;
    while (chars[above_latin1_at_] <= 0xff) {
      ++above_latin1_at_;
    }
    // The chars before it, so that a caller can name an earlier char it refuses.
    resize(above_latin1_at_);
    for (size_t i = 0; i < above_latin1_at_; ++i) {
      data_[i] = static_cast<char>(chars[i]);
    }
    return Read::AboveLatin1;
  }
  resize(static_cast<size_t>(length));
  text->WriteOneByte(isolate, reinterpret_cast<uint8_t*>(data_), 0, length,
                     v8::String::NO_NULL_TERMINATION);
  return Read::Ok;
}

void Latin1Arg::resize(size_t size) {
  if (size > kInline) {
    heap_.resize(size);
    data_ = heap_.data();
  }
  size_ = size;
}

}  // namespace envoy_ts::bridge
