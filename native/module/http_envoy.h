// What an HTTP stream's logic (http_stream_core.h) needs of Envoy, in the module's own types: each
// a one-line forward to an ABI callback in http_stream.cc, the only code that calls Envoy for a
// stream. Unit tests implement it with a fake (test/native/module).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "native/bridge/codes.h"
#include "native/bridge/stream_host.h"

namespace envoy_ts::module {

class HttpEnvoy {
 public:
  virtual ~HttpEnvoy() = default;

  // The body a call addresses, per direction (bridge::BufferKind): what Envoy buffered at this
  // filter, or the chunk the running body hook received.
  enum class Body { Buffered, Received };

  virtual void continueDecoding() = 0;
  virtual void continueEncoding() = 0;
  virtual void sendLocalReply(uint32_t status, const bridge::HeaderList& headers,
                              std::string_view body, std::string_view details) = 0;
  // The stream's per-route config id (0 for none).
  virtual uint64_t routeConfigId() = 0;
  // The stream's scheduler: created on first use (worker), then committed to (any thread).
  virtual void ensureScheduler() = 0;
  virtual void commitEvent(uint64_t event_id) = 0;
  virtual bool recordMetric(uint32_t index, bridge::MetricOp op, int64_t value,
                            const std::vector<std::string>& labels) = 0;

  // Whether the received chunk of a body hook is the buffer an earlier filter released.
  virtual bool receivedIsBuffered(bridge::BufferKind direction) = 0;
  virtual size_t bodySize(bridge::BufferKind direction, Body body) = 0;
  // Appends the body's non-empty slices to `out` (views valid until it changes).
  virtual void bodySlices(bridge::BufferKind direction, Body body,
                          std::vector<std::string_view>& out) = 0;
  virtual void drainBody(bridge::BufferKind direction, Body body, size_t length) = 0;
  virtual bool appendBody(bridge::BufferKind direction, Body body, std::string_view data) = 0;
  // Envoy's buffer limit for a body read whole (0: none).
  virtual uint64_t bufferLimit() = 0;
};

}  // namespace envoy_ts::module
