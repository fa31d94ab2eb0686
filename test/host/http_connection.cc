#include "http_connection.h"

#include <event2/buffer.h>

#include <cstdio>
#include <random>

#include "logger.h"

namespace EnvoyTsHost {
namespace {

// A random (version 4) UUID, lowercase, as Envoy's RandomGeneratorImpl::uuid().
std::string uuid4() {
  thread_local std::mt19937_64 random{std::random_device{}()};
  const uint64_t high = (random() & ~0xF000ull) | 0x4000ull;                  // version 4
  const uint64_t low = (random() & 0x3FFFFFFFFFFFFFFFull) | 0x8000000000000000ull; // variant
  char text[37];
  std::snprintf(text, sizeof(text), "%08llx-%04llx-%04llx-%04llx-%012llx",
                static_cast<unsigned long long>(high >> 32),
                static_cast<unsigned long long>((high >> 16) & 0xFFFF),
                static_cast<unsigned long long>(high & 0xFFFF),
                static_cast<unsigned long long>(low >> 48),
                static_cast<unsigned long long>(low & 0xFFFFFFFFFFFFull));
  return text;
}

} // namespace

HttpConnection::HttpConnection(Dispatcher& dispatcher, evutil_socket_t fd,
                               const FilterChainConfig& chain, const RouteTable* routes,
                               uint64_t buffer_limit, Http1Settings http1_settings,
                               RequestIdSettings request_id, UpstreamFactory upstream_factory, CalloutContext callouts,
                               const DrainDecision* drain, ConnectionOwner& owner)
    : dispatcher_(dispatcher),
      connection_(bufferevent_socket_new(dispatcher.base(), fd, BEV_OPT_CLOSE_ON_FREE)),
      chain_(chain), routes_(routes), buffer_limit_(buffer_limit), http1_settings_(http1_settings),
      request_id_(request_id),
      info_(std::make_shared<DownstreamConnectionInfo>(downstreamConnectionInfo(fd))),
      upstream_factory_(std::move(upstream_factory)), callouts_(callouts), drain_(drain),
      owner_(owner),
      alive_(std::make_shared<bool>(true)) {
  parser_.setEnableTrailers(http1_settings_.enable_trailers);
  parser_.setHeaderLimits(http1_settings_.max_headers_count,
                          http1_settings_.max_request_headers_kb * 1024);
  bufferevent_setcb(connection_, &HttpConnection::onReadCallback, nullptr,
                    &HttpConnection::onEventCallback, this);
  bufferevent_enable(connection_, EV_READ | EV_WRITE);
}

HttpConnection::~HttpConnection() {
  *alive_ = false;
  if (connection_ != nullptr) {
    bufferevent_free(connection_);
  }
}

void HttpConnection::onReadCallback(bufferevent*, void* arg) {
  static_cast<HttpConnection*>(arg)->onRead();
}

void HttpConnection::onWriteCallback(bufferevent*, void* arg) {
  // Only installed by closeAfterFlush(): the last response is on the wire.
  static_cast<HttpConnection*>(arg)->close();
}

void HttpConnection::onEventCallback(bufferevent*, short events, void* arg) {
  auto* self = static_cast<HttpConnection*>(arg);
  if (events & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
    self->close();
  }
}

void HttpConnection::onRead() {
  if (closing_) {
    return; // A posted resume can run after close() but before the deferred deletion.
  }
  evbuffer* input = bufferevent_get_input(connection_);
  // While read-disabled, what was already received waits in the input for readDisable(false).
  while (!closing_ && read_disable_count_ == 0) {
    if (parser_.messageComplete()) {
      if (stream_ != nullptr) {
        return; // Pipelined request: wait until the current response is done.
      }
      parser_.nextMessage();
      request_started_ = false;
      request_ended_ = false;
    }
    // One input segment (about one socket read) at a time, so each becomes its own body slice.
    evbuffer_iovec segment;
    if (evbuffer_get_length(input) == 0 || evbuffer_peek(input, -1, nullptr, &segment, 1) < 1) {
      return;
    }
    const size_t consumed =
        parser_.execute(static_cast<const char*>(segment.iov_base), segment.iov_len);
    evbuffer_drain(input, consumed);
    if (parser_.failed()) {
      onProtocolError();
      return;
    }
    dispatchRequest();
    if (consumed == 0 && !parser_.messageComplete()) {
      return;
    }
  }
}

void HttpConnection::dispatchRequest() {
  if (parser_.headersComplete() && !request_started_) {
    request_started_ = true;
    startStream();
    return;
  }
  if (stream_ == nullptr || request_ended_) {
    // No stream wants the rest of this request (it already answered): drain it.
    parser_.body().drain(parser_.body().length());
    parser_.trailers().clear();
    return;
  }
  const bool complete = parser_.messageComplete();
  const bool has_trailers = complete && !parser_.trailers().empty();
  if (!parser_.body().empty() || (complete && !has_trailers)) {
    Buffer body;
    body.move(parser_.body());
    request_ended_ = complete && !has_trailers;
    stream_->decodeData(body, request_ended_);
  }
  if (has_trailers && stream_ != nullptr) {
    auto trailers = std::make_unique<HeaderMap>();
    for (HeaderMap::Entry& entry : parser_.trailers()) {
      trailers->add(std::move(entry.first), std::move(entry.second));
    }
    parser_.trailers().clear();
    request_ended_ = true;
    stream_->decodeTrailers(std::move(trailers));
  }
}

// Builds the request headers the way Envoy's HTTP/1 codec does: pseudo-headers first, Host
// becomes :authority, connection-specific headers are dropped.
void HttpConnection::startStream() {
  auto headers = std::make_unique<HeaderMap>();
  headers->add(":method", parser_.method());
  headers->add(":path", parser_.url());
  std::string authority;
  bool expect_continue = false;
  for (const HeaderMap::Entry& entry : parser_.headers()) {
    if (entry.first == "host") {
      authority = entry.second;
    }
  }
  headers->add(":authority", authority);
  headers->add(":scheme", "http");
  for (HeaderMap::Entry& entry : parser_.headers()) {
    if (entry.first == "host" || isHopByHopHeader(entry.first)) {
      continue;
    }
    if (entry.first == "expect" && toLower(entry.second) == "100-continue") {
      expect_continue = true;
      continue;
    }
    headers->add(std::move(entry.first), std::move(entry.second));
  }
  // Envoy's ConnectionManagerUtility::mutateRequestHeaders, before the route and the filters.
  // With use_remote_address false (the host's only value), a client's x-forwarded-proto is kept
  // and "http" set when absent; no request is an edge request, so an x-request-id the client sent
  // is kept whatever preserve_external_request_id says, and a UUID is set when there is none
  // (generate_request_id, default true).
  if (headers->get("x-forwarded-proto") == nullptr) {
    headers->add("x-forwarded-proto", "http");
  }
  if (request_id_.generate && headers->get("x-request-id") == nullptr) {
    headers->add("x-request-id", uuid4());
  }
  close_after_response_ = !parser_.keepAlive();
  response_chunked_ = false;
  head_request_ = std::string(parser_.method()) == "HEAD";
  if (expect_continue) {
    // Envoy answers 100-continue itself and does not forward Expect.
    write("HTTP/1.1 100 Continue\r\n\r\n");
  }
  const bool end_stream = parser_.messageComplete() && parser_.body().empty() &&
                          parser_.trailers().empty();
  stream_ = std::make_unique<FilterManager>(dispatcher_, chain_, *this, upstream_factory_,
                                            buffer_limit_);
  stream_->setStreamInfo(info_, parser_.http10() ? "HTTP/1.0" : "HTTP/1.1", routes_);
  stream_->setCalloutContext(callouts_);
  if (!stream_->createFilters()) {
    return;
  }
  request_ended_ = end_stream;
  if (stream_ != nullptr) {
    stream_->decodeHeaders(std::move(headers), end_stream);
  }
  if (!end_stream && !closing_) {
    dispatchRequest();
  }
}

void HttpConnection::onProtocolError() {
  HOST_LOG(Debug, "downstream protocol error: " + parser_.errorName());
  if (stream_ != nullptr && request_started_) {
    close();
    return;
  }
  if (parser_.headersTooLarge()) {
    // Envoy's HTTP/1 codec (completeCurrentHeader / checkMaxHeadersSize): error code 431, sent by
    // sendProtocolError as a local reply whose body is the reason phrase; the connection closes.
    const std::string body = reasonPhrase(431);
    write("HTTP/1.1 431 " + body + "\r\ncontent-length: " + std::to_string(body.size()) +
          "\r\ncontent-type: text/plain\r\nserver: envoy\r\nconnection: close\r\n\r\n" + body);
    delayedCloseAfterFlush();
    return;
  }
  write("HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
  delayedCloseAfterFlush();
}

void HttpConnection::encodeHeaders(HeaderMap& headers, bool end_stream) {
  const std::string* status_value = headers.get(":status");
  const unsigned status = status_value == nullptr ? 200 : std::stoul(*status_value);
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + reasonPhrase(status) + "\r\n";
  bool has_length = false;
  for (const HeaderMap::Entry& entry : headers.entries()) {
    if (entry.first.empty() || entry.first[0] == ':' || isHopByHopHeader(entry.first) ||
        entry.first == "server") {
      continue;
    }
    has_length = has_length || entry.first == "content-length";
    out += entry.first + ": " + entry.second + "\r\n";
  }
  // Envoy's default server_header_transformation is OVERWRITE.
  out += "server: envoy\r\n";
  const bool bodiless = status == 204 || status == 304 || status < 200;
  if (!has_length && !bodiless) {
    if (end_stream && !head_request_) {
      out += "content-length: 0\r\n";
    } else if (parser_.http10()) {
      close_after_response_ = true; // Close-delimited body.
    } else {
      // Envoy's StreamEncoderImpl::encodeHeadersBase: a response to HEAD without content-length
      // gets the header a GET would (transfer-encoding: chunked), but no chunk framing.
      response_chunked_ = !head_request_;
      out += "transfer-encoding: chunked\r\n";
    }
  }
  // Envoy's HCM: an HTTP/1 response that starts before the whole request arrived ends the
  // connection, as the rest of the request cannot be skipped safely.
  if (!request_ended_) {
    close_after_response_ = true;
  }
  // Envoy's ActiveStream::encodeHeaders: when the listener (or its filter chain) drains, the
  // connection manager starts its drain sequence, which over HTTP/1 is `connection: close` on the
  // response and the end of the connection once it is written.
  if (!close_after_response_ && drain_ != nullptr && drain_->drainClose()) {
    HOST_LOG(Debug, "drain closing connection");
    close_after_response_ = true;
  }
  if (close_after_response_) {
    out += "connection: close\r\n";
  }
  out += "\r\n";
  write(out);
}

void HttpConnection::encodeData(Buffer& data, bool end_stream) {
  if (response_chunked_ && !data.empty()) {
    char size[32];
    snprintf(size, sizeof(size), "%zx\r\n", data.length());
    write(size);
  }
  for (const std::string& slice : data.slices()) {
    write(slice);
  }
  if (response_chunked_) {
    write(std::string(data.empty() ? "" : "\r\n") + (end_stream ? "0\r\n\r\n" : ""));
  }
  data.drain(data.length());
}

// As Envoy's StreamEncoderImpl::encodeTrailersBase: trailers only exist in a chunked body, and
// without enable_trailers they are dropped and the body ends (endEncode).
void HttpConnection::encodeTrailers(HeaderMap& trailers) {
  if (!response_chunked_) {
    return;
  }
  if (!http1_settings_.enable_trailers) {
    write("0\r\n\r\n");
    return;
  }
  std::string out = "0\r\n";
  for (const HeaderMap::Entry& entry : trailers.entries()) {
    out += entry.first + ": " + entry.second + "\r\n";
  }
  write(out + "\r\n");
}

void HttpConnection::onStreamComplete() {
  releaseStream();
  if (close_after_response_) {
    closeAfterFlush();
    return;
  }
  // A pipelined request may be waiting.
  postRead();
}

void HttpConnection::readDisable(bool disable) {
  if (disable) {
    if (read_disable_count_++ == 0 && !closing_ && !close_pending_) {
      bufferevent_disable(connection_, EV_READ);
    }
    return;
  }
  if (read_disable_count_ == 0 || --read_disable_count_ > 0 || closing_ || close_pending_) {
    return;
  }
  bufferevent_enable(connection_, EV_READ);
  // Bytes received before the pause are still in the input.
  postRead();
}

// Parses what is in the input from a fresh loop iteration, not from inside filter hooks.
void HttpConnection::postRead() {
  if (resume_posted_) {
    return;
  }
  resume_posted_ = true;
  std::weak_ptr<bool> alive = alive_;
  dispatcher_.post([this, alive]() {
    if (auto a = alive.lock(); a && *a) {
      resume_posted_ = false;
      onRead();
    }
  });
}

void HttpConnection::onStreamReset() {
  releaseStream();
  close();
}

void HttpConnection::releaseStream() {
  if (stream_ != nullptr) {
    dispatcher_.deferredDelete(std::move(stream_));
  }
  // Like Envoy's HTTP/1 codec, a stream that goes away unwinds the read-disables it left.
  if (read_disable_count_ > 0) {
    read_disable_count_ = 0;
    if (!closing_ && !close_pending_) {
      bufferevent_enable(connection_, EV_READ);
    }
  }
}

void HttpConnection::write(const std::string& bytes) {
  if (connection_ != nullptr && !closing_ && !bytes.empty()) {
    bufferevent_write(connection_, bytes.data(), bytes.size());
  }
}

void HttpConnection::closeAfterFlush() {
  if (closing_ || connection_ == nullptr) {
    return;
  }
  close_pending_ = true;
  bufferevent_disable(connection_, EV_READ);
  if (evbuffer_get_length(bufferevent_get_output(connection_)) == 0) {
    close();
    return;
  }
  bufferevent_setcb(connection_, nullptr, &HttpConnection::onWriteCallback,
                    &HttpConnection::onEventCallback, this);
}

void HttpConnection::delayedCloseAfterFlush() {
  if (closing_ || connection_ == nullptr) {
    return;
  }
  // Envoy's delayed close (delayed_close_timeout, 1 s by default): once the response is flushed,
  // wait for the peer to close. Closing at once with the rest of the request unread would make the
  // kernel reset the connection, and a client could lose the response it has not read yet.
  close_pending_ = true;
  bufferevent_setcb(connection_, nullptr, &HttpConnection::onDelayedCloseWritten,
                    &HttpConnection::onEventCallback, this);
  if (evbuffer_get_length(bufferevent_get_output(connection_)) == 0) {
    onDelayedCloseWritten(connection_, this);
  }
}

void HttpConnection::onDelayedCloseWritten(bufferevent* bev, void* arg) {
  // What the peer still sends is discarded; its close, an error or 1 s of silence closes.
  bufferevent_setcb(bev, &HttpConnection::onDelayedCloseRead, nullptr, &HttpConnection::onEventCallback, arg);
  const timeval delayed_close_timeout{1, 0};
  bufferevent_set_timeouts(bev, &delayed_close_timeout, nullptr);
  bufferevent_enable(bev, EV_READ);
  onDelayedCloseRead(bev, arg);
}

void HttpConnection::onDelayedCloseRead(bufferevent* bev, void*) {
  evbuffer* input = bufferevent_get_input(bev);
  evbuffer_drain(input, evbuffer_get_length(input));
}

void HttpConnection::close() {
  if (closing_) {
    return;
  }
  closing_ = true;
  if (stream_ != nullptr) {
    // Resetting calls back onStreamReset(), which only releases the stream now.
    stream_->onDownstreamReset();
    releaseStream();
  }
  bufferevent_free(connection_);
  connection_ = nullptr;
  owner_.removeConnection(*this);
}

} // namespace EnvoyTsHost
