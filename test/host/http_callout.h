#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "async_stream.h"
#include "buffer.h"
#include "cluster.h"
#include "dispatcher.h"
#include "header_map.h"
#include "native/abi/types.h"

namespace EnvoyTsHost {

class HttpFilter;
class UpstreamConnPool;

// What a filter's callouts need from its worker: the clusters and the worker's upstream pool
// (Envoy's ThreadLocalCluster::httpAsyncClient() runs over the cluster's per-worker pools).
// Null members (the default): no cluster exists.
struct CalloutContext {
  ClusterMap* clusters{nullptr};
  UpstreamConnPool* pool{nullptr};
};

// Envoy's AsyncClientImpl response buffer limit (kBufferLimitForResponse, 32 MiB; runtime key
// http.async_response_buffer_limit, not supported by the host).
constexpr size_t kCalloutResponseBufferLimit = 32 * 1024 * 1024;

// One one-shot HTTP callout of an HTTP filter (Envoy's AsyncRequestImpl: an AsyncStream whose
// request is sent whole and whose response is buffered). Its end reaches the filter through
// HttpFilter::onCalloutDone, exactly once, as the very last thing the callout does (the filter may
// delete it from there):
// - a complete response (the AsyncStream's own 503/504 local replies included) is Success;
// - a reset of the AsyncStream (after the response headers) is Reset;
// - a body over kCalloutResponseBufferLimit resets it and is ExceedResponseBufferLimit.
// Destroying it cancels it (the connection is closed, nothing is reported).
class HttpCallout : public AsyncStreamCallbacks {
public:
  HttpCallout(HttpFilter& filter, uint64_t id, Cluster& cluster, UpstreamConnPool* pool,
              Dispatcher& dispatcher, uint64_t timeout_ms);
  HttpCallout(const HttpCallout&) = delete;
  HttpCallout& operator=(const HttpCallout&) = delete;

  // `headers` as for AsyncStream::sendHeaders. Never reports synchronously.
  void start(std::vector<HeaderMap::Entry> headers, const std::string& body);

  uint64_t id() const { return id_; }
  // Valid when the result is Success, until the callout is destroyed.
  const std::vector<HeaderMap::Entry>& responseHeaders() const { return response_headers_; }
  const Buffer& responseBody() const { return response_body_; }

  // AsyncStreamCallbacks
  void onHeaders(std::vector<HeaderMap::Entry>& headers, bool end_stream) override;
  void onData(Buffer& data, bool end_stream) override;
  void onTrailers(std::vector<HeaderMap::Entry>& trailers) override;
  void onComplete() override;
  void onReset() override;

private:
  void complete(envoy_dynamic_module_type_http_callout_result result);

  HttpFilter& filter_;
  const uint64_t id_;
  bool over_limit_{false};
  std::vector<HeaderMap::Entry> response_headers_;
  Buffer response_body_;
  AsyncStream stream_; // Last: destroyed first.
};

// One streaming HTTP callout of an HTTP filter (Envoy's HttpStreamCalloutCallback over an
// AsyncClient::Stream): forwards every AsyncStream event to the filter's http_stream hooks.
// Destroying it resets it without a report.
class HttpStreamCallout : public AsyncStreamCallbacks {
public:
  HttpStreamCallout(HttpFilter& filter, uint64_t id, Cluster& cluster, UpstreamConnPool* pool,
                    Dispatcher& dispatcher, uint64_t timeout_ms);
  HttpStreamCallout(const HttpStreamCallout&) = delete;
  HttpStreamCallout& operator=(const HttpStreamCallout&) = delete;

  uint64_t id() const { return id_; }
  AsyncStream& stream() { return stream_; }

  // AsyncStreamCallbacks
  void onHeaders(std::vector<HeaderMap::Entry>& headers, bool end_stream) override;
  void onData(Buffer& data, bool end_stream) override;
  void onTrailers(std::vector<HeaderMap::Entry>& trailers) override;
  void onComplete() override;
  void onReset() override;

private:
  HttpFilter& filter_;
  const uint64_t id_;
  AsyncStream stream_; // Last: destroyed first.
};

} // namespace EnvoyTsHost
