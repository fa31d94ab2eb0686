#include "http_callout.h"

#include <event2/buffer.h>

#include "http_filter.h"
#include "logger.h"
#include "router.h"

namespace EnvoyTsHost {

HttpCallout::HttpCallout(HttpFilter& filter, uint64_t id, Cluster& cluster, UpstreamConnPool* pool,
                         Dispatcher& dispatcher)
    : filter_(filter), id_(id), cluster_(cluster), pool_(pool), dispatcher_(dispatcher) {}

HttpCallout::~HttpCallout() {
  done_ = true;
  freeTimers();
  closeConnection(false);
}

void HttpCallout::start(std::string request, bool head_request, uint64_t timeout_ms) {
  pending_ = std::move(request);
  parser_.setSkipBody(head_request);
  if (timeout_ms > 0) {
    request_timer_ = evtimer_new(dispatcher_.base(), &HttpCallout::onRequestTimeout, this);
    const timeval timeout{static_cast<time_t>(timeout_ms / 1000),
                          static_cast<suseconds_t>((timeout_ms % 1000) * 1000)};
    evtimer_add(request_timer_, &timeout);
  }
  connect();
}

void HttpCallout::connect() {
  endpoint_ = cluster_.pickEndpoint();
  connection_ = pool_ == nullptr ? nullptr : pool_->take(cluster_, endpoint_);
  if (connection_ != nullptr) {
    connected_ = true;
  } else {
    connection_ = bufferevent_socket_new(dispatcher_.base(), -1, BEV_OPT_CLOSE_ON_FREE);
    const Cluster::Endpoint& endpoint = cluster_.endpoint(endpoint_);
    connect_timer_ = evtimer_new(dispatcher_.base(), &HttpCallout::onConnectTimeout, this);
    timeval timeout{static_cast<time_t>(cluster_.connectTimeoutMs() / 1000),
                    static_cast<suseconds_t>((cluster_.connectTimeoutMs() % 1000) * 1000)};
    const auto* address = reinterpret_cast<const sockaddr*>(&endpoint.address);
    if (bufferevent_socket_connect(connection_, address, static_cast<int>(endpoint.length)) != 0) {
      // Reported from the loop, never from inside the callback that started the callout.
      connect_failed_ = true;
      timeout = timeval{0, 0};
    }
    evtimer_add(connect_timer_, &timeout);
  }
  bufferevent_setcb(connection_, &HttpCallout::onRead, nullptr, &HttpCallout::onEvent, this);
  bufferevent_enable(connection_, EV_READ | EV_WRITE);
  flush();
}

void HttpCallout::flush() {
  if (connected_ && connection_ != nullptr && !pending_.empty()) {
    bufferevent_write(connection_, pending_.data(), pending_.size());
    pending_.clear();
  }
}

void HttpCallout::onEvent(bufferevent*, short events, void* arg) {
  auto* self = static_cast<HttpCallout*>(arg);
  if (self->done_) {
    return;
  }
  if (events & BEV_EVENT_CONNECTED) {
    self->connected_ = true;
    if (self->connect_timer_ != nullptr) {
      event_free(self->connect_timer_);
      self->connect_timer_ = nullptr;
    }
    self->flush();
    return;
  }
  if (!self->connected_) {
    self->onUpstreamFailure("connection failure");
    return;
  }
  // EOF or error: ends a close-delimited response, otherwise the upstream reset the stream.
  self->parser_.finish();
  self->takeResponse();
  if (!self->done_) {
    self->onUpstreamFailure("connection termination");
  }
}

void HttpCallout::onConnectTimeout(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<HttpCallout*>(arg);
  self->onUpstreamFailure(self->connect_failed_ ? "connection failure" : "connection timeout");
}

void HttpCallout::onRequestTimeout(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<HttpCallout*>(arg);
  if (self->done_) {
    return;
  }
  HOST_LOG(Debug, "callout " + std::to_string(self->id_) + ": upstream request timeout");
  if (self->headers_received_) {
    // Envoy's router resets a response that already started.
    self->complete(envoy_dynamic_module_type_http_callout_result_Reset);
    return;
  }
  self->localReply(504, "upstream request timeout");
}

void HttpCallout::onRead(bufferevent* bev, void* arg) {
  auto* self = static_cast<HttpCallout*>(arg);
  evbuffer* input = bufferevent_get_input(bev);
  while (!self->done_ && evbuffer_get_length(input) > 0) {
    const size_t length = evbuffer_get_length(input);
    const char* data = reinterpret_cast<const char*>(evbuffer_pullup(input, -1));
    const size_t consumed = self->parser_.execute(data, length);
    evbuffer_drain(input, consumed);
    if (self->parser_.failed()) {
      HOST_LOG(Debug, "callout upstream protocol error: " + self->parser_.errorName());
      self->onUpstreamFailure("protocol error");
      return;
    }
    self->takeResponse();
    if (consumed == 0) {
      break;
    }
  }
}

// Moves what the parser has into the buffered response; completes on the end of the message.
void HttpCallout::takeResponse() {
  if (done_ || !parser_.headersComplete()) {
    return;
  }
  if (!headers_received_) {
    const unsigned status = parser_.statusCode();
    if (status >= 100 && status < 200 && status != 101) {
      parser_.nextMessage(); // Interim responses are swallowed, as by Envoy's async client.
      return;
    }
    headers_received_ = true;
    response_headers_.emplace_back(":status", std::to_string(status));
    for (HeaderMap::Entry& entry : parser_.headers()) {
      if (!isHopByHopHeader(entry.first)) {
        response_headers_.push_back(std::move(entry));
      }
    }
    parser_.headers().clear();
  }
  if (!parser_.body().empty()) {
    if (response_body_.size() + parser_.body().length() > kCalloutResponseBufferLimit) {
      HOST_LOG(Warn, "the buffer size limit for async client response body has been exceeded");
      complete(envoy_dynamic_module_type_http_callout_result_ExceedResponseBufferLimit);
      return;
    }
    response_body_ += parser_.body().toString();
    parser_.body().drain(parser_.body().length());
  }
  if (parser_.messageComplete()) {
    // Trailers are not part of the result (the hook has no trailers).
    complete(envoy_dynamic_module_type_http_callout_result_Success);
  }
}

void HttpCallout::onUpstreamFailure(const std::string& reason) {
  if (done_) {
    return;
  }
  HOST_LOG(Debug, "callout " + std::to_string(id_) + ": upstream " + reason);
  if (headers_received_) {
    complete(envoy_dynamic_module_type_http_callout_result_Reset);
    return;
  }
  localReply(503, "upstream connect error or disconnect/reset before headers. reset reason: " +
                      reason);
}

// The async client's router answers by itself: a response like Envoy's local replies.
void HttpCallout::localReply(unsigned status, const std::string& body) {
  response_headers_.clear();
  response_headers_.emplace_back(":status", std::to_string(status));
  response_headers_.emplace_back("content-length", std::to_string(body.size()));
  response_headers_.emplace_back("content-type", "text/plain");
  response_body_ = body;
  complete(envoy_dynamic_module_type_http_callout_result_Success);
}

void HttpCallout::complete(envoy_dynamic_module_type_http_callout_result result) {
  done_ = true;
  freeTimers();
  const bool success = result == envoy_dynamic_module_type_http_callout_result_Success;
  closeConnection(success && parser_.messageComplete() && parser_.keepAlive());
  if (!success) {
    response_headers_.clear();
    response_body_.clear();
  }
  // Last: the filter may destroy this callout.
  filter_.onCalloutDone(id_, result);
}

void HttpCallout::closeConnection(bool reusable) {
  if (connection_ == nullptr) {
    return;
  }
  bufferevent* connection = connection_;
  connection_ = nullptr;
  if (reusable && pool_ != nullptr && connected_ && pending_.empty()) {
    pool_->release(cluster_, endpoint_, connection);
  } else {
    bufferevent_free(connection);
  }
}

void HttpCallout::freeTimers() {
  if (connect_timer_ != nullptr) {
    event_free(connect_timer_);
    connect_timer_ = nullptr;
  }
  if (request_timer_ != nullptr) {
    event_free(request_timer_);
    request_timer_ = nullptr;
  }
}

} // namespace EnvoyTsHost
