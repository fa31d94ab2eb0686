#pragma once

#include <event2/bufferevent.h>
#include <event2/event.h>

#include <cstdint>
#include <string>
#include <vector>

#include "cluster.h"
#include "dispatcher.h"
#include "header_map.h"
#include "http_codec.h"
#include "native/abi/types.h"

namespace EnvoyTsHost {

class HttpFilter;
class UpstreamConnPool;

// What a filter's callouts need from its worker: the clusters and the worker's upstream pool
// (Envoy's ThreadLocalCluster::httpAsyncClient() runs over the cluster's per-worker pools).
// Null members (scripted mode): no cluster exists.
struct CalloutContext {
  ClusterMap* clusters{nullptr};
  UpstreamConnPool* pool{nullptr};
};

// Envoy's AsyncClientImpl response buffer limit (kBufferLimitForResponse, 32 MiB; runtime key
// http.async_response_buffer_limit, not supported by the host).
constexpr size_t kCalloutResponseBufferLimit = 32 * 1024 * 1024;

// One one-shot HTTP callout of an HTTP filter (Envoy's AsyncClient::send through the async
// client's router): the whole request is written to one endpoint of the cluster over HTTP/1.1,
// the whole response is buffered. Its end reaches the filter through HttpFilter::onCalloutDone,
// exactly once, as the very last thing the callout does (the filter may delete it from there).
// Like Envoy's router inside the async client:
// - a connect failure/timeout, or a reset/protocol error before the response headers, becomes a
//   local reply 503 "upstream connect error or disconnect/reset before headers. reset reason: .."
//   delivered as Success;
// - the timeout (timeout_ms > 0, from the start) before the response headers is a local reply
//   504 "upstream request timeout" delivered as Success; after the headers it is a Reset;
// - a reset or protocol error after the headers is a Reset;
// - a body over kCalloutResponseBufferLimit is ExceedResponseBufferLimit.
// Destroying it cancels it (the connection is closed, nothing is reported).
class HttpCallout {
public:
  HttpCallout(HttpFilter& filter, uint64_t id, Cluster& cluster, UpstreamConnPool* pool,
              Dispatcher& dispatcher);
  ~HttpCallout();
  HttpCallout(const HttpCallout&) = delete;
  HttpCallout& operator=(const HttpCallout&) = delete;

  // Sends `request` (the serialized HTTP/1.1 request). Never reports synchronously.
  void start(std::string request, bool head_request, uint64_t timeout_ms);

  uint64_t id() const { return id_; }
  // Valid when the result is Success, until the callout is destroyed.
  const std::vector<HeaderMap::Entry>& responseHeaders() const { return response_headers_; }
  const std::string& responseBody() const { return response_body_; }

private:
  static void onRead(bufferevent* bev, void* arg);
  static void onEvent(bufferevent* bev, short events, void* arg);
  static void onConnectTimeout(evutil_socket_t, short, void* arg);
  static void onRequestTimeout(evutil_socket_t, short, void* arg);

  void connect();
  void flush();
  void takeResponse();
  // The upstream failed: a 503 local reply before the headers, a Reset after.
  void onUpstreamFailure(const std::string& reason);
  void localReply(unsigned status, const std::string& body);
  void complete(envoy_dynamic_module_type_http_callout_result result);
  void closeConnection(bool reusable);
  void freeTimers();

  HttpFilter& filter_;
  const uint64_t id_;
  Cluster& cluster_;
  UpstreamConnPool* pool_;
  Dispatcher& dispatcher_;
  size_t endpoint_{0};
  bufferevent* connection_{nullptr};
  event* connect_timer_{nullptr};
  event* request_timer_{nullptr};
  bool connected_{false};
  bool connect_failed_{false}; // The connect attempt failed synchronously.
  std::string pending_;
  Http1Parser parser_{HTTP_RESPONSE};
  bool headers_received_{false};
  bool done_{false};
  std::vector<HeaderMap::Entry> response_headers_;
  std::string response_body_;
};

} // namespace EnvoyTsHost
