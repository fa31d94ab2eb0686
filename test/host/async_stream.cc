#include "async_stream.h"

#include <cstdio>

#include "http_codec.h"
#include "logger.h"

namespace EnvoyTsHost {
namespace {

timeval toTimeval(uint64_t ms) {
  return timeval{static_cast<time_t>(ms / 1000), static_cast<suseconds_t>((ms % 1000) * 1000)};
}

} // namespace

AsyncStream::AsyncStream(AsyncStreamCallbacks& callbacks, Cluster& cluster,
                         UpstreamConnPool* pool, Dispatcher& dispatcher, uint64_t timeout_ms,
                         std::string log_name)
    : callbacks_(callbacks), cluster_(cluster), dispatcher_(dispatcher), timeout_ms_(timeout_ms),
      log_name_(std::move(log_name)), connection_(dispatcher, pool, *this, log_name_ + ": ") {}

AsyncStream::~AsyncStream() { abandon(); }

void AsyncStream::sendHeaders(const std::vector<HeaderMap::Entry>& headers, bool end_stream) {
  // The request as Envoy's HTTP/1 codec writes it: `host` (Envoy's :authority) on the request
  // line's side, other pseudo-headers and connection-specific headers dropped, and the async
  // client's x-envoy-internal.
  const std::string* method = nullptr;
  const std::string* path = nullptr;
  const std::string* host = nullptr;
  for (const HeaderMap::Entry& entry : headers) {
    if (entry.first == ":method" && method == nullptr) {
      method = &entry.second;
    } else if (entry.first == ":path" && path == nullptr) {
      path = &entry.second;
    } else if ((entry.first == "host" || entry.first == ":authority") && host == nullptr) {
      host = &entry.second;
    }
  }
  const std::string none;
  method = method == nullptr ? &none : method;
  path = path == nullptr ? &none : path;
  host = host == nullptr ? &none : host;
  head_request_ = *method == "HEAD";
  connection_.response().setSkipBody(head_request_);
  std::string head = *method + " " + *path + " HTTP/1.1\r\nhost: " + *host + "\r\n";
  bool has_length = false;
  for (const HeaderMap::Entry& entry : headers) {
    if (entry.first.empty() || entry.first[0] == ':' || entry.first == "host" ||
        entry.first == "x-envoy-internal" || isHopByHopHeader(entry.first)) {
      continue;
    }
    has_length = has_length || entry.first == "content-length";
    head += entry.first + ": " + entry.second + "\r\n";
  }
  head += "x-envoy-internal: true\r\n";
  if (!end_stream && !has_length) {
    // Envoy's HTTP/1 codec chunks a body of unknown length.
    request_chunked_ = true;
    head += "transfer-encoding: chunked\r\n";
  }
  head += "\r\n";
  connection_.write(head);
  // A failure, even at once, is reported from the loop: never from inside the caller's callback.
  connection_.connect(cluster_, cluster_.pickEndpoint());
  if (end_stream) {
    request_complete_ = true;
    closeLocal();
  }
}

void AsyncStream::sendData(const std::string& data, bool end_stream) {
  if (local_closed_ || closed_) {
    return;
  }
  if (request_chunked_ && !data.empty()) {
    char size[32];
    snprintf(size, sizeof(size), "%zx\r\n", data.size());
    connection_.write(size + data + "\r\n");
  } else {
    connection_.write(data);
  }
  if (end_stream) {
    if (request_chunked_) {
      connection_.write("0\r\n\r\n");
    }
    request_complete_ = true;
    closeLocal();
  }
}

void AsyncStream::sendTrailers(const std::vector<HeaderMap::Entry>& trailers) {
  if (local_closed_ || closed_) {
    return;
  }
  // Only a chunked body can carry trailers; after a content-length body, or without the
  // cluster's enable_trailers, they are dropped (Envoy's HTTP/1 codec).
  if (request_chunked_) {
    std::string last = "0\r\n";
    if (cluster_.http1Settings().enable_trailers) {
      for (const HeaderMap::Entry& entry : trailers) {
        last += entry.first + ": " + entry.second + "\r\n";
      }
    }
    connection_.write(last + "\r\n");
  }
  request_complete_ = true;
  closeLocal();
}

void AsyncStream::reset() { resetStream(); }

void AsyncStream::abandon() {
  closed_ = true;
  local_closed_ = true;
  freeGlobalTimer();
  connection_.close(false);
}

// Envoy's router starts its global timeout when the request is complete (onRequestComplete).
void AsyncStream::closeLocal() {
  local_closed_ = true;
  if (timeout_ms_ > 0 && !closed_ && global_timer_ == nullptr) {
    global_timer_ = evtimer_new(dispatcher_.base(), &AsyncStream::onGlobalTimeout, this);
    const timeval timeout = toTimeval(timeout_ms_);
    evtimer_add(global_timer_, &timeout);
  }
}

void AsyncStream::onGlobalTimeout(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<AsyncStream*>(arg);
  if (self->closed_) {
    return;
  }
  HOST_LOG(Debug, self->log_name_ + ": upstream request timeout");
  self->localReply(504, "upstream request timeout");
}

void AsyncStream::onResponseParsed() {
  if (closed_) {
    return;
  }
  Http1Parser& response = connection_.response();
  if (response.headersComplete() && !response_headers_encoded_) {
    const unsigned status = response.statusCode();
    if (status >= 100 && status < 200 && status != 101) {
      response.nextMessage(); // Interim responses are swallowed, as by Envoy's async client.
      return;
    }
    std::vector<HeaderMap::Entry> headers;
    headers.emplace_back(":status", std::to_string(status));
    for (HeaderMap::Entry& entry : response.headers()) {
      if (!isHopByHopHeader(entry.first)) {
        headers.push_back(std::move(entry));
      }
    }
    response.headers().clear();
    const bool end_stream =
        response.messageComplete() && response.body().empty() && response.trailers().empty();
    encodeHeaders(headers, end_stream);
    if (closed_) {
      return;
    }
  }
  if (!response_headers_encoded_) {
    return;
  }
  const bool complete = response.messageComplete();
  const bool has_trailers = complete && !response.trailers().empty();
  if (!response.body().empty() || (complete && !has_trailers)) {
    Buffer body;
    body.move(response.body());
    encodeData(body, complete && !has_trailers);
    if (closed_) {
      return;
    }
  }
  if (has_trailers) {
    std::vector<HeaderMap::Entry> trailers = std::move(response.trailers());
    response.trailers().clear();
    encodeTrailers(trailers);
  }
}

// As Envoy's AsyncStreamImpl::encode*: the end of the response closes the stream both ways.
void AsyncStream::encodeHeaders(std::vector<HeaderMap::Entry>& headers, bool end_stream) {
  response_headers_encoded_ = true;
  callbacks_.onHeaders(headers, end_stream);
  if (!closed_ && end_stream) {
    complete();
  }
}

void AsyncStream::encodeData(Buffer& data, bool end_stream) {
  callbacks_.onData(data, end_stream);
  if (!closed_ && end_stream) {
    complete();
  }
}

void AsyncStream::encodeTrailers(std::vector<HeaderMap::Entry>& trailers) {
  callbacks_.onTrailers(trailers);
  if (!closed_) {
    complete();
  }
}

void AsyncStream::complete() {
  closed_ = true;
  local_closed_ = true;
  freeGlobalTimer();
  // Reused only once every request byte went out: bytes still queued after an early response
  // would reach the next exchange on the connection.
  const Http1Parser& response = connection_.response();
  connection_.close(request_complete_ && response.messageComplete() && response.keepAlive() &&
                    connection_.outputDrained());
  callbacks_.onComplete();
}

void AsyncStream::onConnectionFailure(const char* reason) {
  if (closed_) {
    return;
  }
  HOST_LOG(Debug, log_name_ + ": upstream " + reason);
  connection_.close(false);
  localReply(503, "upstream connect error or disconnect/reset before headers. reset reason: " +
                      std::string(reason));
}

// Envoy's AsyncStreamImpl::sendLocalReply: a reset once response headers went to the callbacks,
// else the router's reply as headers (content-length, content-type) and the body.
void AsyncStream::localReply(unsigned status, const std::string& body) {
  if (response_headers_encoded_) {
    resetStream();
    return;
  }
  freeGlobalTimer();
  connection_.close(false);
  std::vector<HeaderMap::Entry> headers{{":status", std::to_string(status)},
                                        {"content-length", std::to_string(body.size())},
                                        {"content-type", "text/plain"}};
  const bool end_stream = head_request_ || body.empty();
  encodeHeaders(headers, end_stream);
  if (closed_ || end_stream) {
    return;
  }
  Buffer data;
  data.append(body.data(), body.size());
  encodeData(data, true);
}

void AsyncStream::resetStream() {
  if (closed_) {
    return;
  }
  closed_ = true;
  local_closed_ = true;
  freeGlobalTimer();
  connection_.close(false);
  callbacks_.onReset();
}

void AsyncStream::freeGlobalTimer() {
  if (global_timer_ != nullptr) {
    event_free(global_timer_);
    global_timer_ = nullptr;
  }
}

} // namespace EnvoyTsHost
