#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

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
  virtual void encodeData(std::string& data, bool end_stream) = 0;
  virtual void encodeTrailers(HeaderMap& trailers) = 0;
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
  virtual void decodeData(std::string& data, bool end_stream) = 0;
  virtual void decodeTrailers(HeaderMap& trailers) = 0;
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
  FilterManager(Dispatcher& dispatcher, const FilterChainConfig& chain,
                DownstreamEncoder& downstream, UpstreamFactory upstream_factory);
  ~FilterManager();

  // Creates the filters; false (and the stream is reset) when a module refused the stream.
  bool createFilters();

  // From the downstream codec.
  void decodeHeaders(HeaderMapPtr headers, bool end_stream);
  void decodeData(std::string& data, bool end_stream);
  void decodeTrailers(HeaderMapPtr trailers);
  // The downstream connection went away.
  void onDownstreamReset();

  // From the router.
  void encodeHeaders(HeaderMapPtr headers, bool end_stream);
  void encodeData(std::string& data, bool end_stream);
  void encodeTrailers(HeaderMapPtr trailers);
  // The upstream failed after the response started: the stream cannot complete.
  void onUpstreamReset();

  // Local reply (from a filter or the router), with Envoy's three cases.
  void sendLocalReply(uint32_t status, const std::vector<HeaderMap::Entry>& headers,
                      const std::string& body, const std::string& details);

  // continue_decoding / continue_encoding for `filter`.
  void continueIteration(bool decode, HttpFilter& filter);

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
    std::optional<std::string> buffered;
  };

  size_t filterCount() const { return filters_.size(); }
  HttpFilter& filterAt(bool decode, size_t pos) {
    return decode ? *filters_[pos] : *filters_[filters_.size() - 1 - pos];
  }
  DirectionState& direction(bool decode) { return decode ? decode_ : encode_; }
  HeaderMap* trailers(bool decode) {
    return decode ? request_trailers_.get() : response_trailers_.get();
  }
  bool halted(bool decode) const { return complete_ || (decode ? decode_ : encode_).aborted; }

  void iterateHeaders(bool decode, size_t start, bool end_stream);
  void iterateData(bool decode, size_t start, std::string& data, bool end_stream);
  void iterateTrailers(bool decode, size_t start);
  void commonContinue(bool decode, size_t pos);
  void bufferData(bool decode, std::string& data);

  void terminalHeaders(bool decode, bool end_stream);
  void terminalData(bool decode, std::string& data, bool end_stream);
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
  std::shared_ptr<const DownstreamConnectionInfo> connection_;
  std::string protocol_{"HTTP/1.1"};
  const RouteTable* routes_{nullptr};
  CalloutContext callout_context_;
  bool route_cached_{false};
  const RouteEntry* cached_route_{nullptr};
  DynamicMetadata dynamic_metadata_;
  std::map<std::string, std::string> filter_state_bytes_;
  bool downstream_started_{false}; // Response bytes went to the downstream encoder.
  bool local_reply_sent_{false};
  bool complete_{false};
};

} // namespace EnvoyTsHost
