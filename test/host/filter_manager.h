#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "buffer.h"
#include "connection_info.h"
#include "dispatcher.h"
#include "header_map.h"
#include "http_callout.h"
#include "http_filter.h"
#include "http_filter_config.h"

namespace EnvoyTsHost {

using HeaderMapPtr = std::unique_ptr<HeaderMap>;

class RouteTable;
struct RouteEntry;

// One value of stream dynamic metadata (a google.protobuf.Value of the kinds modules can set).
struct MetadataValue {
  enum class Type { String, Number, Bool };
  Type type{Type::String};
  std::string string;
  double number{0};
  bool boolean{false};
};
// filter_metadata: namespace -> key -> value.
using DynamicMetadata = std::map<std::string, std::map<std::string, MetadataValue>>;

// Where the response goes once all encoder filters let it through (the HTTP/1 server codec, or
// the script runner).
class DownstreamEncoder {
public:
  virtual ~DownstreamEncoder() = default;
  virtual void encodeHeaders(HeaderMap& headers, bool end_stream) = 0;
  // Writes `data` and drains it (Envoy's codec moves the bytes out).
  virtual void encodeData(Buffer& data, bool end_stream) = 0;
  virtual void encodeTrailers(HeaderMap& trailers) = 0;
  // Envoy's readDisable on the downstream stream, reference-counted: stop (or resume) reading the
  // request. Whatever is still disabled when the stream ends is unwound by the owner.
  virtual void readDisable(bool disable) = 0;
  // The stream is over and every filter got stream_complete; the owner defers its deletion.
  virtual void onStreamComplete() = 0;
  // Like onStreamComplete, but the response could not be completed: close the connection.
  virtual void onStreamReset() = 0;
};

// Where the request goes once all decoder filters let it through (the router).
class UpstreamRequest {
public:
  virtual ~UpstreamRequest() = default;
  virtual void decodeHeaders(HeaderMap& headers, bool end_stream) = 0;
  // Writes `data` and drains it.
  virtual void decodeData(Buffer& data, bool end_stream) = 0;
  virtual void decodeTrailers(HeaderMap& trailers) = 0;
  // The router's downstream watermark callbacks, reference-counted: stop (or resume) reading the
  // response from the upstream connection.
  virtual void readDisable(bool disable) = 0;
  // Abandons the upstream exchange; called at most once, possibly from inside the above.
  virtual void cancel() = 0;
};

class FilterManager;
using UpstreamFactory = std::function<std::unique_ptr<UpstreamRequest>(FilterManager&)>;

// One HTTP stream through the dynamic-module filter chain (Envoy's FilterManager + ActiveStream):
// decoder filters in order, then the router; encoder filters in reverse order, then the codec.
// Worker thread only. Stops, buffering, continue and local replies follow Envoy's rules.
class FilterManager {
public:
  // `buffer_limit`: the listener's per_connection_buffer_limit_bytes (Envoy's buffer_limit_).
  FilterManager(Dispatcher& dispatcher, const FilterChainConfig& chain,
                DownstreamEncoder& downstream, UpstreamFactory upstream_factory,
                uint64_t buffer_limit);
  ~FilterManager();

  // Creates the filters; false (and the stream is reset) when a module refused the stream.
  bool createFilters();

  // From the downstream codec.
  void decodeHeaders(HeaderMapPtr headers, bool end_stream);
  void decodeData(Buffer& data, bool end_stream);
  void decodeTrailers(HeaderMapPtr trailers);
  // The downstream connection went away.
  void onDownstreamReset();

  // From the router.
  void encodeHeaders(HeaderMapPtr headers, bool end_stream);
  void encodeData(Buffer& data, bool end_stream);
  void encodeTrailers(HeaderMapPtr trailers);
  // The upstream failed after the response started: the stream cannot complete.
  void onUpstreamReset();

  // Local reply (from a filter or the router), with Envoy's three cases.
  void sendLocalReply(uint32_t status, const std::vector<HeaderMap::Entry>& headers,
                      const std::string& body, const std::string& details);

  // continue_decoding / continue_encoding for `filter`.
  void continueIteration(bool decode, HttpFilter& filter);

  // ---- Bodies (Envoy's decodingBuffer()/encodingBuffer(), modify*Buffer, add*Data) ----

  // The body the filter manager holds for a direction (a filter stopped and buffered, or added
  // data); nullptr when nothing is buffered. Once created it lives as long as the stream.
  Buffer* bufferedBody(bool decode) { return direction(decode).buffered.get(); }
  // Appends `data` to `filter`'s received chunk (only while its body hook runs) or to the buffered
  // body, applying the buffer limit. False when the received chunk does not exist; appending to a
  // buffered body that does not exist creates it (Envoy's addDecodedData/addEncodedData).
  bool appendBody(HttpFilter& filter, bool decode, bool buffered, Buffer& data);
  // Drains up to `size` bytes from the front. False when the body does not exist.
  bool drainBody(HttpFilter& filter, bool decode, bool buffered, size_t size);
  uint64_t bufferLimit() const { return buffer_limit_; }
  // Changes the limit for both directions of this stream and re-applies it to buffered bodies.
  void setBufferLimit(uint64_t limit);

  // nullptr when the map does not exist (yet).
  HeaderMap* requestHeaders() { return request_headers_.get(); }
  HeaderMap* requestTrailers() { return request_trailers_.get(); }
  HeaderMap* responseHeaders() { return response_headers_.get(); }
  HeaderMap* responseTrailers() { return response_trailers_.get(); }

  // ---- Stream info (what Envoy's StreamInfo and the HCM give filters) ----

  // Set by the codec before decodeHeaders: the downstream connection (nullptr in scripted mode),
  // the protocol ("HTTP/1.1" or "HTTP/1.0") and the listener's routes (nullptr: none).
  void setStreamInfo(std::shared_ptr<const DownstreamConnectionInfo> connection,
                     std::string protocol, const RouteTable* routes);
  const DownstreamConnectionInfo* downstreamConnection() const { return connection_.get(); }
  // The clusters and upstream pool of the stream's worker, for filter callouts (none by default).
  void setCalloutContext(const CalloutContext& context) { callout_context_ = context; }
  const CalloutContext& calloutContext() const { return callout_context_; }
  const std::string& protocol() const { return protocol_; }

  // Envoy's cached route: picked from the request headers as they arrive (before the first
  // decoder filter) and kept until clearRouteCache(); picked again, from the headers as they are
  // then, the next time it is needed (by the router at the latest). nullptr: no route matched.
  const RouteEntry* route();
  // clear_route_cache. Ignored once the router has started (Envoy blocks the route cache then).
  void clearRouteCache();
  // set_upstream_override_host: the host ("ip:port") the router's load balancer should pick.
  void setUpstreamOverrideHost(std::string host, bool strict) {
    upstream_override_host_ = std::move(host);
    upstream_override_strict_ = strict;
  }
  const std::string& upstreamOverrideHost() const { return upstream_override_host_; }
  bool upstreamOverrideStrict() const { return upstream_override_strict_; }

  DynamicMetadata& dynamicMetadata() { return dynamic_metadata_; }
  // Filter state objects set as bytes (Envoy: ReadOnly StringAccessor objects).
  std::map<std::string, std::string>& filterStateBytes() { return filter_state_bytes_; }

  Dispatcher& dispatcher() { return dispatcher_; }
  bool complete() const { return complete_; }
  bool localReplySent() const { return local_reply_sent_; }

private:
  struct DirectionState {
    bool headers_started{false};
    bool remote_complete{false}; // The source sent its last byte.
    bool aborted{false};         // Iteration abandoned after a local reply.
    // Envoy's buffered_request_data_ / buffered_response_data_, a watermark buffer: above the
    // stream's buffer limit it pauses the source while streaming, else ends the stream.
    std::unique_ptr<Buffer> buffered;
    // Envoy's decoder_filters_streaming_ / encoder_filters_streaming_: the latest buffering was
    // StopIterationAndWatermark / StopAllIterationAndWatermark (or data a filter added).
    bool streaming{false};
    bool above_high_watermark{false}; // Went above the limit, not yet back to limit / 2.
    bool source_read_disabled{false}; // This direction holds a readDisable(true) on its source.
  };

  // Which hooks are running (Envoy's FilterCallState), for add*Data.
  enum CallState : unsigned {
    DecodeHeaders = 1u << 0,
    DecodeData = 1u << 1,
    DecodeTrailers = 1u << 2,
    EncodeHeaders = 1u << 3,
    EncodeData = 1u << 4,
    EncodeTrailers = 1u << 5,
  };
  class CallScope;

  size_t filterCount() const { return filters_.size(); }
  HttpFilter& filterAt(bool decode, size_t pos) {
    return decode ? *filters_[pos] : *filters_[filters_.size() - 1 - pos];
  }
  size_t positionOf(bool decode, const HttpFilter& filter) const {
    return decode ? filter.index() : filters_.size() - 1 - filter.index();
  }
  DirectionState& direction(bool decode) { return decode ? decode_ : encode_; }
  HeaderMap* trailers(bool decode) {
    return decode ? request_trailers_.get() : response_trailers_.get();
  }
  bool halted(bool decode) const { return complete_ || (decode ? decode_ : encode_).aborted; }

  void iterateHeaders(bool decode, size_t start, bool end_stream);
  void iterateData(bool decode, size_t start, Buffer& data, bool end_stream);
  void iterateTrailers(bool decode, size_t start);
  void commonContinue(bool decode, size_t pos);
  void continueAddedData(bool decode, size_t pos);
  void bufferData(bool decode, Buffer& data);
  void addBufferedData(HttpFilter& filter, bool decode, Buffer& data);
  void createBuffer(bool decode);
  void checkHighWatermark(bool decode);
  void checkLowWatermark(bool decode);
  void readDisableSource(bool decode, bool disable);

  void terminalHeaders(bool decode, bool end_stream);
  void terminalData(bool decode, Buffer& data, bool end_stream);
  void terminalTrailers(bool decode);

  void cancelUpstream();
  // Ends the stream: stream_complete on every filter, then tells the downstream.
  void finish(bool reset);

  Dispatcher& dispatcher_;
  const FilterChainConfig& chain_;
  DownstreamEncoder& downstream_;
  UpstreamFactory upstream_factory_;
  std::unique_ptr<UpstreamRequest> upstream_;
  bool upstream_cancelled_{false};
  std::vector<HttpFilterPtr> filters_;
  HeaderMapPtr request_headers_;
  HeaderMapPtr request_trailers_;
  HeaderMapPtr response_headers_;
  HeaderMapPtr response_trailers_;
  DirectionState decode_;
  DirectionState encode_;
  uint64_t buffer_limit_;
  unsigned call_state_{0};
  std::shared_ptr<const DownstreamConnectionInfo> connection_;
  std::string protocol_{"HTTP/1.1"};
  const RouteTable* routes_{nullptr};
  CalloutContext callout_context_;
  bool route_cached_{false};
  std::string upstream_override_host_;
  bool upstream_override_strict_{false};
  const RouteEntry* cached_route_{nullptr};
  DynamicMetadata dynamic_metadata_;
  std::map<std::string, std::string> filter_state_bytes_;
  bool downstream_started_{false}; // Response bytes went to the downstream encoder.
  bool local_reply_sent_{false};
  bool complete_{false};
};

} // namespace EnvoyTsHost
