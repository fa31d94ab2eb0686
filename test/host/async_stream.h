#pragma once

#include <event2/event.h>

#include <cstdint>
#include <string>
#include <vector>

#include "buffer.h"
#include "cluster.h"
#include "dispatcher.h"
#include "header_map.h"
#include "upstream_connection.h"

namespace EnvoyTsHost {

// What an AsyncStream reports (Envoy's AsyncClient::StreamCallbacks). Headers start with
// :status; `data` and the header vectors may be moved from. After onComplete or onReset nothing
// more is reported. Every call comes from the worker's loop (a socket or timer callback), never
// from inside a send* call, except onReset from inside AsyncStream::reset().
class AsyncStreamCallbacks {
public:
  virtual void onHeaders(std::vector<HeaderMap::Entry>& headers, bool end_stream) = 0;
  virtual void onData(Buffer& data, bool end_stream) = 0;
  virtual void onTrailers(std::vector<HeaderMap::Entry>& trailers) = 0;
  virtual void onComplete() = 0;
  virtual void onReset() = 0;

protected:
  ~AsyncStreamCallbacks() = default;
};

// One request through a cluster's async client (Envoy's AsyncStreamImpl and the router filter it
// runs), over HTTP/1.1 to one endpoint of the cluster picked round-robin, on a keep-alive
// connection of the worker's pool or a new one. Shared by one-shot callouts (which buffer it) and
// streaming callouts (which forward every event).
// - The request: `host` from the headers, other pseudo-headers and connection-specific headers
//   dropped, `x-envoy-internal: true`; chunked when the headers do not end it and carry no
//   content-length (Envoy's HTTP/1 codec), trailers as the chunked trailer section if the
//   cluster's HTTP/1 protocol options enable trailers (else the chunked body just ends).
// - The response is reported as it is parsed: headers (1xx skipped), data per socket read,
//   trailers (only if the cluster enables them; else the data ends it), then onComplete. Like
//   Envoy's AsyncStreamImpl the end of the response closes the request side too: onComplete
//   follows the response's end even if the request had not ended, and later send* calls are
//   ignored.
// - Failures, as Envoy's router inside the async client: a connect failure/timeout, a reset or a
//   protocol error before the response headers is a local reply 503 "upstream connect error or
//   disconnect/reset before headers. reset reason: <reason>" (headers, data, complete); after the
//   headers it is onReset.
// - The timeout (timeout_ms > 0) is the router's global timeout: it starts once the request has
//   ended. Before the response headers it is a local reply 504 "upstream request timeout", after
//   them onReset.
// Destroying it abandons it without a report (the connection is closed).
class AsyncStream : private UpstreamConnectionCallbacks {
public:
  AsyncStream(AsyncStreamCallbacks& callbacks, Cluster& cluster, UpstreamConnPool* pool,
              Dispatcher& dispatcher, uint64_t timeout_ms, std::string log_name);
  ~AsyncStream();
  AsyncStream(const AsyncStream&) = delete;
  AsyncStream& operator=(const AsyncStream&) = delete;

  // `headers` are lowercase and hold :method, :path and host (or :authority). Starts connecting.
  void sendHeaders(const std::vector<HeaderMap::Entry>& headers, bool end_stream);
  // Ignored once the request ended or the stream is closed.
  void sendData(const std::string& data, bool end_stream);
  // Ends the request. Ignored once the request ended or the stream is closed.
  void sendTrailers(const std::vector<HeaderMap::Entry>& trailers);
  // Envoy's AsyncStream::reset(): closes the connection and reports onReset from inside the call
  // (the callbacks may ignore it). Nothing when already closed.
  void reset();
  // Closes the connection without a report (Envoy's reset once the filter is gone, whose
  // callbacks then drop the onReset).
  void abandon();

  // The request side ended (end_stream, trailers, or the response ended).
  bool localClosed() const { return local_closed_; }
  // onComplete or onReset was reported (or is being reported): nothing more will be.
  bool closed() const { return closed_; }

private:
  // UpstreamConnectionCallbacks
  // Reports what the parser has; completes on the end of the message.
  void onResponseParsed() override;
  // The upstream failed: a 503 local reply before the response headers, a reset after.
  void onConnectionFailure(const char* reason) override;

  static void onGlobalTimeout(evutil_socket_t, short, void* arg);

  void closeLocal();
  void encodeHeaders(std::vector<HeaderMap::Entry>& headers, bool end_stream);
  void encodeData(Buffer& data, bool end_stream);
  void encodeTrailers(std::vector<HeaderMap::Entry>& trailers);
  void complete();
  // The router's local reply (or a reset once response headers were reported).
  void localReply(unsigned status, const std::string& body);
  void resetStream();
  void freeGlobalTimer();

  AsyncStreamCallbacks& callbacks_;
  Cluster& cluster_;
  Dispatcher& dispatcher_;
  const uint64_t timeout_ms_;
  const std::string log_name_;
  event* global_timer_{nullptr};
  bool head_request_{false};
  bool request_chunked_{false};
  bool request_complete_{false}; // The request's last byte was written (not merely closed).
  bool local_closed_{false};
  bool response_headers_encoded_{false};
  bool closed_{false};
  UpstreamConnection connection_;
};

} // namespace EnvoyTsHost
