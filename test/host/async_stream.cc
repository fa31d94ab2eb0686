#include "async_stream.h"

#include <event2/buffer.h>

#include <cstdio>

#include "logger.h"
#include "upstream_connection.h"

namespace EnvoyTsHost {
namespace {

timeval toTimeval(uint64_t ms) {
  return timeval{static_cast<time_t>(ms / 1000), static_cast<suseconds_t>((ms % 1000) * 1000)};
}

} // namespace

AsyncStream::AsyncStream(AsyncStreamCallbacks& callbacks, Cluster& cluster,
                         UpstreamConnPool* pool, Dispatcher& dispatcher, uint64_t timeout_ms,
                         std::string log_name)
    : callbacks_(callbacks), cluster_(cluster), pool_(pool), dispatcher_(dispatcher),
      timeout_ms_(timeout_ms), log_name_(std::move(log_name)) {}

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
  parser_.setSkipBody(head_request_);
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
  pending_ = std::move(head);
  connect();
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
    write(size + data + "\r\n");
  } else {
    write(data);
  }
  if (end_stream) {
    if (request_chunked_) {
      write("0\r\n\r\n");
    }
    request_complete_ = true;
    closeLocal();
  }
}

void AsyncStream::sendTrailers(const std::vector<HeaderMap::Entry>& trailers) {
  if (local_closed_ || closed_) {
    return;
  }
  // Only a chunked body can carry trailers; after a content-length body they are dropped.
  if (request_chunked_) {
    std::string last = "0\r\n";
    for (const HeaderMap::Entry& entry : trailers) {
      last += entry.first + ": " + entry.second + "\r\n";
    }
    write(last + "\r\n");
  }
  request_complete_ = true;
  closeLocal();
}

void AsyncStream::reset() { resetStream(); }

void AsyncStream::abandon() {
  closed_ = true;
  local_closed_ = true;
  freeTimers();
  closeConnection(false);
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

void AsyncStream::connect() {
  endpoint_ = cluster_.pickEndpoint();
  connection_ = pool_ == nullptr ? nullptr : pool_->take(cluster_, endpoint_);
  if (connection_ != nullptr) {
    connected_ = true;
  } else {
    connection_ = bufferevent_socket_new(dispatcher_.base(), -1, BEV_OPT_CLOSE_ON_FREE);
    const Cluster::Endpoint& endpoint = cluster_.endpoint(endpoint_);
    connect_timer_ = evtimer_new(dispatcher_.base(), &AsyncStream::onConnectTimeout, this);
    timeval timeout = toTimeval(cluster_.connectTimeoutMs());
    const auto* address = reinterpret_cast<const sockaddr*>(&endpoint.address);
    if (bufferevent_socket_connect(connection_, address, static_cast<int>(endpoint.length)) != 0) {
      // Reported from the loop, never from inside the callback that started the request.
      connect_failed_ = true;
      timeout = timeval{0, 0};
    }
    evtimer_add(connect_timer_, &timeout);
  }
  bufferevent_setcb(connection_, &AsyncStream::onRead, nullptr, &AsyncStream::onEvent, this);
  bufferevent_enable(connection_, EV_READ | EV_WRITE);
  write("");
}

void AsyncStream::write(const std::string& bytes) {
  pending_ += bytes;
  if (connected_ && connection_ != nullptr && !pending_.empty()) {
    bufferevent_write(connection_, pending_.data(), pending_.size());
    pending_.clear();
  }
}

void AsyncStream::onEvent(bufferevent*, short events, void* arg) {
  auto* self = static_cast<AsyncStream*>(arg);
  if (self->closed_) {
    return;
  }
  if (events & BEV_EVENT_CONNECTED) {
    self->connected_ = true;
    if (self->connect_timer_ != nullptr) {
      event_free(self->connect_timer_);
      self->connect_timer_ = nullptr;
    }
    self->write("");
    return;
  }
  if (!self->connected_) {
    self->onUpstreamFailure("connection failure");
    return;
  }
  // EOF or error: ends a close-delimited response, otherwise the upstream reset the stream. Bytes
  // read before it go first.
  self->processInput();
  if (self->closed_) {
    return;
  }
  self->parser_.finish();
  self->dispatchResponse();
  if (!self->closed_) {
    self->onUpstreamFailure("connection termination");
  }
}

void AsyncStream::onConnectTimeout(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<AsyncStream*>(arg);
  self->onUpstreamFailure(self->connect_failed_ ? "connection failure" : "connection timeout");
}

void AsyncStream::onGlobalTimeout(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<AsyncStream*>(arg);
  if (self->closed_) {
    return;
  }
  HOST_LOG(Debug, self->log_name_ + ": upstream request timeout");
  self->localReply(504, "upstream request timeout");
}

void AsyncStream::onRead(bufferevent*, void* arg) { static_cast<AsyncStream*>(arg)->processInput(); }

void AsyncStream::processInput() {
  if (connection_ == nullptr) {
    return;
  }
  evbuffer* input = bufferevent_get_input(connection_);
  // One input segment (about one socket read) at a time, so each becomes its own data event.
  // `closed_` first: a callback may have closed the connection (and freed `input`).
  while (!closed_ && evbuffer_get_length(input) > 0) {
    evbuffer_iovec segment;
    if (evbuffer_peek(input, -1, nullptr, &segment, 1) < 1) {
      return;
    }
    const size_t consumed =
        parser_.execute(static_cast<const char*>(segment.iov_base), segment.iov_len);
    evbuffer_drain(input, consumed);
    if (parser_.failed()) {
      HOST_LOG(Debug, log_name_ + ": upstream protocol error: " + parser_.errorName());
      onUpstreamFailure("protocol error");
      return;
    }
    dispatchResponse();
    if (consumed == 0) {
      break;
    }
  }
}

void AsyncStream::dispatchResponse() {
  if (closed_) {
    return;
  }
  if (parser_.headersComplete() && !response_headers_encoded_) {
    const unsigned status = parser_.statusCode();
    if (status >= 100 && status < 200 && status != 101) {
      parser_.nextMessage(); // Interim responses are swallowed, as by Envoy's async client.
      return;
    }
    std::vector<HeaderMap::Entry> headers;
    headers.emplace_back(":status", std::to_string(status));
    for (HeaderMap::Entry& entry : parser_.headers()) {
      if (!isHopByHopHeader(entry.first)) {
        headers.push_back(std::move(entry));
      }
    }
    parser_.headers().clear();
    const bool end_stream =
        parser_.messageComplete() && parser_.body().empty() && parser_.trailers().empty();
    encodeHeaders(headers, end_stream);
    if (closed_) {
      return;
    }
  }
  if (!response_headers_encoded_) {
    return;
  }
  const bool complete = parser_.messageComplete();
  const bool has_trailers = complete && !parser_.trailers().empty();
  if (!parser_.body().empty() || (complete && !has_trailers)) {
    Buffer body;
    body.move(parser_.body());
    encodeData(body, complete && !has_trailers);
    if (closed_) {
      return;
    }
  }
  if (has_trailers) {
    std::vector<HeaderMap::Entry> trailers = std::move(parser_.trailers());
    parser_.trailers().clear();
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
  freeTimers();
  closeConnection(request_complete_ && parser_.messageComplete() && parser_.keepAlive());
  callbacks_.onComplete();
}

void AsyncStream::onUpstreamFailure(const std::string& reason) {
  if (closed_) {
    return;
  }
  HOST_LOG(Debug, log_name_ + ": upstream " + reason);
  closeConnection(false);
  localReply(503, "upstream connect error or disconnect/reset before headers. reset reason: " +
                      reason);
}

// Envoy's AsyncStreamImpl::sendLocalReply: a reset once response headers went to the callbacks,
// else the router's reply as headers (content-length, content-type) and the body.
void AsyncStream::localReply(unsigned status, const std::string& body) {
  if (response_headers_encoded_) {
    resetStream();
    return;
  }
  freeTimers();
  closeConnection(false);
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
  freeTimers();
  closeConnection(false);
  callbacks_.onReset();
}

void AsyncStream::closeConnection(bool reusable) {
  if (connection_ == nullptr) {
    return;
  }
  bufferevent* connection = connection_;
  connection_ = nullptr;
  if (reusable && pool_ != nullptr && connected_ && pending_.empty() &&
      evbuffer_get_length(bufferevent_get_output(connection)) == 0) {
    pool_->release(cluster_, endpoint_, connection);
  } else {
    bufferevent_free(connection);
  }
}

void AsyncStream::freeTimers() {
  if (connect_timer_ != nullptr) {
    event_free(connect_timer_);
    connect_timer_ = nullptr;
  }
  if (global_timer_ != nullptr) {
    event_free(global_timer_);
    global_timer_ = nullptr;
  }
}

} // namespace EnvoyTsHost
