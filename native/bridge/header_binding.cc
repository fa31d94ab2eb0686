// The binding functions over a stream's header maps (ts-filters/runtime/native.d.ts), on V8
// directly (v8_binding.h): a filter calls them several times per hook. Names arrive validated and
// lowercased by the runtime (ts-filters/runtime/header-map.ts); text crosses as latin1 through a
// stack buffer, and Envoy copies what it keeps.
#include <string_view>
#include <vector>

#include "native/bridge/binding.h"
#include "native/bridge/bridge.h"
#include "native/bridge/v8_binding.h"

namespace envoy_ts::bridge {
namespace {

using Info = v8::FunctionCallbackInfo<v8::Value>;

// Arguments 0-2: (slot, gen, map kind). Throws what Args::stream() throws, or that the map kind is
// invalid, and returns nullptr.
StreamHost* headerStream(const Info& info, HeaderMapKind& map) {
  v8::Isolate* isolate = info.GetIsolate();
  uint32_t slot = 0;
  uint32_t gen = 0;
  if (!uint32Arg(info, 0, slot) || !uint32Arg(info, 1, gen)) {
    throwInvalidArg(isolate, "expected (slot, generation)");
    return nullptr;
  }
  StreamTable::Entry* entry = bridgeOf(info).streams().find(slot, gen);
  if (entry == nullptr) {
    throwCoded(isolate, false, "ETS_ERR_STREAM_CLOSED",
               "the stream is closed: its request, response or connection is gone");
    return nullptr;
  }
  if (entry->http() == nullptr) {
    throwInvalidArg(isolate, "not an HTTP stream");
    return nullptr;
  }
  uint32_t kind = 0;
  if (!uint32Arg(info, 2, kind) || kind > 3) {
    throwInvalidArg(isolate, "invalid header map kind");
    return nullptr;
  }
  map = static_cast<HeaderMapKind>(kind);
  return entry->http();
}

// Argument 3: the header name.
bool headerName(const Info& info, Latin1Arg& name) {
  if (!name.read(info.GetIsolate(), info[3])) {
    throwInvalidArg(info.GetIsolate(), "header name must be a string of chars up to U+00FF");
    return false;
  }
  return true;
}

// (slot, gen, map, name) → the first value, or undefined.
void getHeader(const Info& info) {
  HeaderMapKind map;
  StreamHost* stream = headerStream(info, map);
  Latin1Arg name;
  if (stream == nullptr || !headerName(info, name)) {
    return;
  }
  std::string_view value;
  size_t count = 0;
  if (stream->getHeader(map, name.view(), 0, value, count) && count > 0) {
    info.GetReturnValue().Set(latin1Value(info.GetIsolate(), value));
  }
}

// (slot, gen, map, name) → whether the map has the header (no string is made for its value).
void hasHeader(const Info& info) {
  HeaderMapKind map;
  StreamHost* stream = headerStream(info, map);
  Latin1Arg name;
  if (stream == nullptr || !headerName(info, name)) {
    return;
  }
  std::string_view value;
  size_t count = 0;
  info.GetReturnValue().Set(stream->getHeader(map, name.view(), 0, value, count) && count > 0);
}

// (slot, gen, map, name) → every value, in order.
void getHeaderValues(const Info& info) {
  HeaderMapKind map;
  StreamHost* stream = headerStream(info, map);
  Latin1Arg name;
  if (stream == nullptr || !headerName(info, name)) {
    return;
  }
  v8::Isolate* isolate = info.GetIsolate();
  std::vector<v8::Local<v8::Value>> values;
  std::string_view value;
  size_t count = 0;
  for (size_t i = 0; stream->getHeader(map, name.view(), i, value, count) && i < count; ++i) {
    values.push_back(latin1Value(isolate, value));
  }
  info.GetReturnValue().Set(v8::Array::New(isolate, values.data(), values.size()));
}

// (slot, gen, map) → every entry as a flat [name, value, ...] list.
void getHeaders(const Info& info) {
  HeaderMapKind map;
  StreamHost* stream = headerStream(info, map);
  if (stream == nullptr) {
    return;
  }
  v8::Isolate* isolate = info.GetIsolate();
  HeaderList headers;
  stream->getHeaders(map, headers);
  std::vector<v8::Local<v8::Value>> flat;
  flat.reserve(headers.size() * 2);
  for (const auto& [key, value] : headers) {
    flat.push_back(latin1Value(isolate, key));
    flat.push_back(latin1Value(isolate, value));
  }
  info.GetReturnValue().Set(v8::Array::New(isolate, flat.data(), flat.size()));
}

// (slot, gen, map) → how many entries the map has, without copying them.
void headerCount(const Info& info) {
  HeaderMapKind map;
  StreamHost* stream = headerStream(info, map);
  if (stream == nullptr) {
    return;
  }
  info.GetReturnValue().Set(static_cast<uint32_t>(stream->headerCount(map)));
}

// setHeader / addHeader: (slot, gen, map, name, value); removeHeader: (slot, gen, map, name).
enum class HeaderWrite { Set, Add, Remove };

template <HeaderWrite kWrite>
void writeHeader(const Info& info) {
  v8::Isolate* isolate = info.GetIsolate();
  HeaderMapKind map;
  StreamHost* stream = headerStream(info, map);
  if (stream == nullptr) {
    return;
  }
  Latin1Arg name;
  Latin1Arg value;
  if (!name.read(isolate, info[3]) ||
      (kWrite != HeaderWrite::Remove && !value.read(isolate, info[4]))) {
    throwInvalidArg(isolate, "header name and value must be strings of chars up to U+00FF");
    return;
  }
  bool ok = kWrite == HeaderWrite::Set   ? stream->setHeader(map, name.view(), value.view())
            : kWrite == HeaderWrite::Add ? stream->addHeader(map, name.view(), value.view())
                                         : stream->removeHeader(map, name.view());
  if (!ok) {
    throwCoded(isolate, false, "ETS_ERR_HEADERS_UNAVAILABLE",
               "these headers cannot be changed now (not received yet, or already sent)");
  }
}

}  // namespace

void defineHeaderFunctions(Napi::Object exports, Bridge& bridge) {
  defineV8Function(exports, "getHeader", getHeader, bridge, 4);
  defineV8Function(exports, "hasHeader", hasHeader, bridge, 4);
  defineV8Function(exports, "getHeaderValues", getHeaderValues, bridge, 4);
  defineV8Function(exports, "getHeaders", getHeaders, bridge, 3);
  defineV8Function(exports, "headerCount", headerCount, bridge, 3);
  defineV8Function(exports, "setHeader", writeHeader<HeaderWrite::Set>, bridge, 5);
  defineV8Function(exports, "addHeader", writeHeader<HeaderWrite::Add>, bridge, 5);
  defineV8Function(exports, "removeHeader", writeHeader<HeaderWrite::Remove>, bridge, 4);
}

}  // namespace envoy_ts::bridge
