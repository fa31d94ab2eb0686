// What the bridge needs from what JS addresses by (slot, gen): an HTTP stream or a network
// connection. native/module implements these on Envoy's ABI.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <string_view>
#include <utility>
#include <vector>

#include "native/bridge/codes.h"

namespace envoy_ts::bridge {

using HeaderList = std::vector<std::pair<std::string_view, std::string_view>>;

// What every stream and connection offers.
class HostBase {
 public:
  virtual ~HostBase() = default;
  // JS settled what the stream waited for: arrange for Bridge::resume on the stream's own
  // callback. Called on the worker thread, possibly while another stream's hook runs.
  virtual void requestResume() = 0;
  // Record a metric of the stream's config (`index` into its declared metrics), with one value
  // per declared label. False when the index is unknown or Envoy refused.
  virtual bool recordMetric(uint32_t index, MetricOp op, int64_t value,
                            const std::vector<std::string>& labels) = 0;

  // Dynamic metadata and filter state of the stream or connection.
  virtual void setMetadata(std::string_view ns, std::string_view key, std::string_view value) = 0;
  virtual void setMetadata(std::string_view ns, std::string_view key, double value) = 0;
  virtual void setMetadata(std::string_view ns, std::string_view key, bool value) = 0;
  // `typed`: Envoy builds the object with the factory registered for `key` (network only).
  virtual bool setFilterState(std::string_view key, std::string_view value, bool typed) = 0;
  virtual bool getFilterState(std::string_view key, bool typed, std::string_view& value) = 0;

  // The bytes of one direction (Read: from the client; Write: to the client) that this filter may
  // see and change now: a connection's read/write buffer, or the part of an HTTP body this filter
  // holds and has not passed on. Slice views are valid until the buffer changes or the hook
  // returns. Each returns false when that buffer does not exist now.
  virtual bool bufferSlices(BufferKind buffer, std::vector<std::string_view>& out) = 0;
  virtual bool bufferLength(BufferKind buffer, size_t& length) = 0;
  virtual bool drainBuffer(BufferKind buffer, size_t length) = 0;
  virtual bool prependBuffer(BufferKind buffer, std::string_view data) = 0;
  virtual bool appendBuffer(BufferKind buffer, std::string_view data) = 0;
};

// A metadata or attribute value; views are valid until the next call on the stream.
using ScalarValue = std::variant<std::string_view, double, bool>;

// An HTTP stream.
class StreamHost : public HostBase {
 public:
  // The stream's built-in stats, as a call into JS left them: summed until the stream completes.
  virtual void addStat(uint32_t index, MetricOp op, int64_t value) = 0;
  // JS must hear of the stream's end (Dispatcher.onHook(StreamComplete), or onDestroy) even if the
  // chain has no onStreamComplete: something of the stream waits for it (binding.wantStreamEnd).
  virtual void wantEnd() = 0;

  // Value number `index` of `name` (lowercase) and the number of values. The view is valid until
  // the next call on this stream. False when the map or the value does not exist.
  virtual bool getHeader(HeaderMapKind map, std::string_view name, size_t index,
                         std::string_view& value, size_t& count) = 0;
  // Every entry, in order, into `out` (views valid until the next call on this stream).
  virtual void getHeaders(HeaderMapKind map, HeaderList& out) = 0;
  // How many entries a map has (0 when it does not exist now).
  virtual size_t headerCount(HeaderMapKind map) = 0;
  // Each returns false if the map is not available (e.g. response headers during the request).
  virtual bool setHeader(HeaderMapKind map, std::string_view name, std::string_view value) = 0;
  virtual bool addHeader(HeaderMapKind map, std::string_view name, std::string_view value) = 0;
  virtual bool removeHeader(HeaderMapKind map, std::string_view name) = 0;

  virtual void sendLocalReply(uint32_t status, const HeaderList& headers, std::string_view body,
                              std::string_view details) = 0;

  // A stream attribute (Envoy's attribute id), if Envoy has it.
  virtual std::optional<ScalarValue> getAttribute(uint32_t attribute_id, AttributeType type) = 0;
  // Metadata `ns.key` from `source` (envoy_dynamic_module_type_metadata_source), if present.
  virtual std::optional<ScalarValue> getMetadata(uint32_t source, std::string_view ns,
                                                 std::string_view key) = 0;
  virtual void clearRouteCache() = 0;
  // Envoy's upstream override host for this stream; false when `host` is not an IP address.
  virtual bool setUpstreamOverrideHost(std::string_view host, bool strict) = 0;
  // Starts an HTTP callout to `cluster` (headers hold :method, :path, host). Returns Envoy's
  // init result (0 = started, with the callout's id in `id`); the response arrives through
  // Bridge::calloutDone.
  virtual uint32_t startCallout(std::string_view cluster, const HeaderList& headers,
                                std::string_view body, uint64_t timeout_ms, uint64_t& id) = 0;
  // Streaming callouts: like startCallout, then more body with streamSendData; the response
  // arrives through Bridge::fetchStreamEvent. resetFetchStream abandons one (Envoy reports the
  // reset from inside the call; JS has let go of the stream by then).
  virtual uint32_t startFetchStream(std::string_view cluster, const HeaderList& headers,
                                    std::string_view body, bool end_stream, uint64_t timeout_ms,
                                    uint64_t& id) = 0;
  virtual bool fetchStreamSendData(uint64_t id, std::string_view data, bool end_stream) = 0;
  // Request trailers end the request of streaming callout `id`; false when it is unknown or ended.
  virtual bool fetchStreamSendTrailers(uint64_t id, const HeaderList& trailers) = 0;
  virtual void resetFetchStream(uint64_t id) = 0;
  // JS needs the whole body of `direction`: hold it with Envoy's buffering (over the buffer limit
  // Envoy answers 413 or 500) instead of flow control.
  virtual WholeBodyState bufferWholeBody(BufferKind direction) = 0;
};

// Facts about a downstream connection.
struct ConnectionFacts {
  uint64_t id = 0;
  std::string_view remote_address;
  uint32_t remote_port = 0;
  std::string_view local_address;
  uint32_t local_port = 0;
  bool ssl = false;
  bool has_server_name = false;
  std::string_view server_name;
};

// A network connection.
class ConnectionHost : public HostBase {
 public:
  virtual void write(std::string_view data, bool end_stream) = 0;
  virtual void injectRead(std::string_view data, bool end_stream) = 0;
  virtual void continueReading() = 0;
  virtual void close(CloseType type) = 0;
  virtual void readDisable(bool disabled) = 0;
  // Views in the result are valid until the next call on this connection.
  virtual ConnectionFacts facts() = 0;
};

}  // namespace envoy_ts::bridge
