#include "http_callout.h"

#include "http_filter.h"
#include "logger.h"

namespace EnvoyTsHost {

HttpCallout::HttpCallout(HttpFilter& filter, uint64_t id, Cluster& cluster, UpstreamConnPool* pool,
                         Dispatcher& dispatcher, uint64_t timeout_ms)
    : filter_(filter), id_(id),
      stream_(*this, cluster, pool, dispatcher, timeout_ms, "callout " + std::to_string(id)) {}

void HttpCallout::start(std::vector<HeaderMap::Entry> headers, const std::string& body) {
  if (body.empty()) {
    stream_.sendHeaders(headers, true);
    return;
  }
  // Envoy's abi_impl sets content-length for the body (replacing the module's own).
  std::vector<HeaderMap::Entry> with_length;
  for (HeaderMap::Entry& entry : headers) {
    if (entry.first != "content-length") {
      with_length.push_back(std::move(entry));
    }
  }
  with_length.emplace_back("content-length", std::to_string(body.size()));
  stream_.sendHeaders(with_length, false);
  stream_.sendData(body, true);
}

void HttpCallout::onHeaders(std::vector<HeaderMap::Entry>& headers, bool) {
  response_headers_ = std::move(headers);
}

// Envoy's AsyncRequestSharedImpl::onData: over the limit the stream is reset.
void HttpCallout::onData(Buffer& data, bool) {
  if (response_body_.length() + data.length() > kCalloutResponseBufferLimit) {
    HOST_LOG(Warn, "the buffer size limit for async client response body has been exceeded");
    over_limit_ = true;
    stream_.reset();
    return;
  }
  response_body_.move(data);
}

// Trailers are not part of the result (the hook has no trailers).
void HttpCallout::onTrailers(std::vector<HeaderMap::Entry>&) {}

void HttpCallout::onComplete() { complete(envoy_dynamic_module_type_http_callout_result_Success); }

void HttpCallout::onReset() {
  complete(over_limit_ ? envoy_dynamic_module_type_http_callout_result_ExceedResponseBufferLimit
                       : envoy_dynamic_module_type_http_callout_result_Reset);
}

void HttpCallout::complete(envoy_dynamic_module_type_http_callout_result result) {
  if (result != envoy_dynamic_module_type_http_callout_result_Success) {
    response_headers_.clear();
    response_body_.drain(response_body_.length());
  }
  // Last: the filter may destroy this callout.
  filter_.onCalloutDone(id_, result);
}

HttpStreamCallout::HttpStreamCallout(HttpFilter& filter, uint64_t id, Cluster& cluster,
                                     UpstreamConnPool* pool, Dispatcher& dispatcher,
                                     uint64_t timeout_ms)
    : filter_(filter), id_(id),
      stream_(*this, cluster, pool, dispatcher, timeout_ms, "stream " + std::to_string(id)) {}

void HttpStreamCallout::onHeaders(std::vector<HeaderMap::Entry>& headers, bool end_stream) {
  filter_.onHttpStreamHeaders(id_, headers, end_stream);
}

void HttpStreamCallout::onData(Buffer& data, bool end_stream) {
  filter_.onHttpStreamData(id_, data, end_stream);
}

void HttpStreamCallout::onTrailers(std::vector<HeaderMap::Entry>& trailers) {
  filter_.onHttpStreamTrailers(id_, trailers);
}

void HttpStreamCallout::onComplete() { filter_.onHttpStreamDone(id_, false); }

void HttpStreamCallout::onReset() { filter_.onHttpStreamDone(id_, true); }

} // namespace EnvoyTsHost
