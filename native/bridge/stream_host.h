// What the bridge needs from one HTTP stream; native/module implements it on Envoy's ABI.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "native/bridge/codes.h"

namespace envoy_ts::bridge {

using HeaderList = std::vector<std::pair<std::string_view, std::string_view>>;

class StreamHost {
 public:
  virtual ~StreamHost() = default;

  // Value number `index` of `name` (lowercase) and the number of values. The view is valid until
  // the next call on this stream. False when the map or the value does not exist.
  virtual bool getHeader(HeaderMapKind map, std::string_view name, size_t index,
                         std::string_view& value, size_t& count) = 0;
  // Every entry, in order, into `out` (views valid until the next call on this stream).
  virtual void getHeaders(HeaderMapKind map, HeaderList& out) = 0;
  // Each returns false if the map is not available (e.g. response headers during the request).
  virtual bool setHeader(HeaderMapKind map, std::string_view name, std::string_view value) = 0;
  virtual bool addHeader(HeaderMapKind map, std::string_view name, std::string_view value) = 0;
  virtual bool removeHeader(HeaderMapKind map, std::string_view name) = 0;

  virtual void sendLocalReply(uint32_t status, const HeaderList& headers, std::string_view body,
                              std::string_view details) = 0;
  // JS settled what the stream waited for: arrange for Bridge::resume on the stream's own
  // callback. Called on the worker thread, possibly while another stream's hook runs.
  virtual void requestResume() = 0;
};

}  // namespace envoy_ts::bridge
