#pragma once

#include <event2/bufferevent.h>

#include <memory>
#include <string>

#include "config.h"
#include "drain_decision.h"
#include "filter_manager.h"
#include "http_codec.h"

namespace EnvoyTsHost {

class HttpConnection;

// What a downstream connection needs from its worker.
class ConnectionOwner {
public:
  virtual ~ConnectionOwner() = default;
  // The connection closed; the owner defers its deletion.
  virtual void removeConnection(HttpConnection& connection) = 0;
};

// One downstream HTTP/1.1 connection (Envoy's HTTP/1 ServerConnection + ActiveStream): parses
// requests, runs one stream at a time through the filter chain and writes the responses.
// `buffer_limit` is the listener's per_connection_buffer_limit_bytes, each stream's starting limit;
// `http1_settings` its HttpConnectionManager's http_protocol_options: without enable_trailers the
// trailers of a chunked request are ignored (the request ends with its body) and response
// trailers are not written (the chunked body just ends), as by Envoy's HTTP/1 codec.
// Its max_headers_count / max_request_headers_kb answer a request above them 431 before any
// filter runs; `request_id` its x-request-id options (see startStream).
// `drain` is the listener version's drain decision: once it says so, the next response carries
// `connection: close` and the connection ends after it (the HCM's drain sequence over HTTP/1).
class HttpConnection : public DownstreamEncoder {
public:
  HttpConnection(Dispatcher& dispatcher, evutil_socket_t fd, const FilterChainConfig& chain,
                 const RouteTable* routes, uint64_t buffer_limit, Http1Settings http1_settings,
                 RequestIdSettings request_id, UpstreamFactory upstream_factory, CalloutContext callouts,
                 const DrainDecision* drain, ConnectionOwner& owner);
  ~HttpConnection() override;

  // Resets the active stream and closes the socket now.
  void close();

  // DownstreamEncoder
  void encodeHeaders(HeaderMap& headers, bool end_stream) override;
  void encodeData(Buffer& data, bool end_stream) override;
  void encodeTrailers(HeaderMap& trailers) override;
  void readDisable(bool disable) override;
  void onStreamComplete() override;
  void onStreamReset() override;

private:
  static void onReadCallback(bufferevent* bev, void* arg);
  static void onWriteCallback(bufferevent* bev, void* arg);
  static void onEventCallback(bufferevent* bev, short events, void* arg);
  static void onDelayedCloseWritten(bufferevent* bev, void* arg);
  static void onDelayedCloseRead(bufferevent* bev, void* arg);

  void onRead();
  void dispatchRequest();
  void startStream();
  void onProtocolError();
  void postRead();
  void write(const std::string& bytes);
  void closeAfterFlush();
  // A protocol error's response: written, then the peer is given delayed_close_timeout to close.
  void delayedCloseAfterFlush();
  void releaseStream();

  Dispatcher& dispatcher_;
  bufferevent* connection_;
  const FilterChainConfig& chain_;
  const RouteTable* routes_;
  const uint64_t buffer_limit_;
  const Http1Settings http1_settings_;
  const RequestIdSettings request_id_;
  const std::shared_ptr<const DownstreamConnectionInfo> info_;
  UpstreamFactory upstream_factory_;
  const CalloutContext callouts_;
  const DrainDecision* const drain_; // nullptr: never drains.
  ConnectionOwner& owner_;
  Http1Parser parser_{HTTP_REQUEST};
  std::unique_ptr<FilterManager> stream_;
  bool request_started_{false};  // The current request's headers went to a stream.
  bool head_request_{false};     // The current request is a HEAD.
  bool request_ended_{false};    // ... and so did its end of stream.
  bool response_chunked_{false};
  bool close_after_response_{false};
  bool close_pending_{false}; // closeAfterFlush(): the last response is being written.
  bool closing_{false};
  bool resume_posted_{false};
  // Outstanding readDisable(true) calls of the current stream; reading resumes at zero.
  size_t read_disable_count_{0};
  std::shared_ptr<bool> alive_;
};

} // namespace EnvoyTsHost
