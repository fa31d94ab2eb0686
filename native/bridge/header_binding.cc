// The binding functions over a stream's header maps (ts-filters/runtime/native.d.ts), on V8
// directly (v8_binding.h): a filter calls them several times per hook. Names arrive validated and
// lowercased by the runtime (ts-filters/runtime/header-map.ts); text crosses as latin1 through a
// stack buffer, and Envoy copies what it keeps.
//
// Writes are checked here, byte by byte as they are copied, whoever calls (the binding is
// reachable from a bundle through process._linkedBinding): a name must be a token (or a ':'
// pseudo-header), a value may hold HTAB, SP, VCHAR and obs-text only (the runtime's
// forbiddenValueChar, the same rule, held to it by test/e2e/header-value-rule.test.mjs) — so no
// CR, LF or NUL reaches Envoy. A refused value is reported by the index of its first refused
// char, for the runtime's error message.
#include <array>
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
  if (name.read(info.GetIsolate(), info[3]) != Latin1Arg::Read::Ok) {
    throwInvalidArg(info.GetIsolate(), "header name must be a string of chars up to U+00FF");
    return false;
  }
  return true;
}

// RFC 7230 tchar, by byte: one load per char.
constexpr std::array<bool, 256> kTokenChars = [] {
  std::array<bool, 256> table{};
  for (int c = 'a'; c <= 'z'; ++c) {
    table[c] = true;
  }
  for (int c = 'A'; c <= 'Z'; ++c) {
    table[c] = true;
  }
  for (int c = '0'; c <= '9'; ++c) {
    table[c] = true;
  }
  for (char c : std::string_view("!#$%&'*+-.^_`|~")) {
    table[static_cast<unsigned char>(c)] = true;
  }
  return table;
}();

bool isTokenChar(char c) { return kTokenChars[static_cast<unsigned char>(c)]; }

// An RFC 7230 token, optionally after a ':' (HTTP/2 pseudo-headers).
bool isHeaderName(std::string_view name) {
  const size_t first = !name.empty() && name[0] == ':' ? 1 : 0;
  if (first == name.size()) {
    return false;
  }
  for (size_t i = first; i < name.size(); ++i) {
    if (!isTokenChar(name[i])) {
      return false;
    }
  }
  return true;
}

// The index of the first byte a header value may not hold (HTAB, SP, VCHAR and obs-text are
// allowed), or npos.
size_t forbiddenValueByte(std::string_view value) {
  for (size_t i = 0; i < value.size(); ++i) {
    const auto byte = static_cast<unsigned char>(value[i]);
    if ((byte < 0x20 && byte != '\t') || byte == 0x7f) {
      return i;
    }
  }
  return std::string_view::npos;
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

// setHeader / addHeader: (slot, gen, map, name, value) → undefined, or the index of the value's
// first refused char (nothing was written); removeHeader: (slot, gen, map, name).
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
  const Latin1Arg::Read value_read =
      kWrite == HeaderWrite::Remove ? Latin1Arg::Read::Ok : value.read(isolate, info[4]);
  if (name.read(isolate, info[3]) != Latin1Arg::Read::Ok || !isHeaderName(name.view()) ||
      value_read == Latin1Arg::Read::NotString) {
    throwInvalidArg(isolate, "header names are RFC 7230 tokens (or ':' pseudo-headers), values "
                             "strings");
    return;
  }
  // The first char refused: a byte the rule refuses, else a char above U+00FF (what came before
  // it is in view()).
  size_t refused = forbiddenValueByte(value.view());
  if (refused == std::string_view::npos && value_read == Latin1Arg::Read::AboveLatin1) {
    refused = value.aboveLatin1At();
  }
  if (refused != std::string_view::npos) {
    info.GetReturnValue().Set(static_cast<double>(refused));
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
