#include "filter_manager.h"

#include <optional>

#include "logger.h"
#include "router.h"

namespace EnvoyTsHost {
namespace {

// Status values shared by the request and response enums of each hook kind.
constexpr int HeadersContinue = 0;
constexpr int HeadersStopIteration = 1;
constexpr int HeadersContinueAndDontEndStream = 2;
constexpr int HeadersStopAllIterationAndBuffer = 3;
constexpr int BodyContinue = 0;
constexpr int BodyStopIterationAndBuffer = 1;
constexpr int BodyStopIterationAndWatermark = 2;
constexpr int TrailersContinue = 0;

// The iteration state a stopping headers status leaves (StopIteration or StopAll*).
Iteration stoppedBy(int headers_status) {
  switch (headers_status) {
  case HeadersStopIteration:
    return Iteration::StopSingle;
  case HeadersStopAllIterationAndBuffer:
    return Iteration::StopAllBuffer;
  default:
    return Iteration::StopAllWatermark;
  }
}

} // namespace

// Marks hooks of one kind as running for as long as it lives (nested hooks restore the outer set).
class FilterManager::CallScope {
public:
  CallScope(unsigned& call_state, unsigned kind) : call_state_(call_state), outer_(call_state) {
    call_state_ |= kind;
  }
  ~CallScope() { call_state_ = outer_; }
  CallScope(const CallScope&) = delete;
  CallScope& operator=(const CallScope&) = delete;

private:
  unsigned& call_state_;
  const unsigned outer_;
};

FilterManager::FilterManager(Dispatcher& dispatcher, const FilterChainConfig& chain,
                             DownstreamEncoder& downstream, UpstreamFactory upstream_factory,
                             uint64_t buffer_limit)
    : dispatcher_(dispatcher), chain_(chain), downstream_(downstream),
      upstream_factory_(std::move(upstream_factory)), buffer_limit_(buffer_limit) {}

FilterManager::~FilterManager() {
  // Envoy destroys filters in chain order when the stream is deleted.
  filters_.clear();
  upstream_.reset();
}

bool FilterManager::createFilters() {
  for (size_t i = 0; i < chain_.size(); ++i) {
    filters_.push_back(std::make_unique<HttpFilter>(*this, chain_[i], i));
    if (!filters_.back()->create()) {
      HOST_LOG(Debug, "on_http_filter_new returned NULL: closing the stream");
      finish(true);
      return false;
    }
  }
  return true;
}

void FilterManager::setStreamInfo(std::shared_ptr<const DownstreamConnectionInfo> connection,
                                  std::string protocol, const RouteTable* routes) {
  connection_ = std::move(connection);
  protocol_ = std::move(protocol);
  routes_ = routes;
}

const RouteEntry* FilterManager::route() {
  if (!route_cached_ && request_headers_ != nullptr) {
    cached_route_ = routes_ == nullptr ? nullptr : routes_->route(*request_headers_);
    route_cached_ = true;
  }
  return cached_route_;
}

void FilterManager::clearRouteCache() {
  if (upstream_ != nullptr) {
    // Envoy's HCM blocks the route cache once the router has used the route (ENVOY_BUG).
    HOST_LOG(Error, "clear_route_cache ignored: the router already uses the route");
    return;
  }
  HOST_LOG(Debug, "route cache cleared: the route is picked again from the request headers");
  route_cached_ = false;
  cached_route_ = nullptr;
}

void FilterManager::decodeHeaders(HeaderMapPtr headers, bool end_stream) {
  request_headers_ = std::move(headers);
  // Like Envoy's ActiveStream::decodeHeaders: the route is picked before any filter runs.
  route();
  decode_.headers_started = true;
  decode_.remote_complete = end_stream;
  if (!halted(true)) {
    iterateHeaders(true, 0, end_stream);
  }
}

void FilterManager::decodeData(Buffer& data, bool end_stream) {
  decode_.remote_complete = decode_.remote_complete || end_stream;
  if (!halted(true)) {
    iterateData(true, 0, data, end_stream);
  }
}

void FilterManager::decodeTrailers(HeaderMapPtr trailers) {
  request_trailers_ = std::move(trailers);
  decode_.remote_complete = true;
  if (!halted(true)) {
    iterateTrailers(true, 0);
  }
}

void FilterManager::encodeHeaders(HeaderMapPtr headers, bool end_stream) {
  if (halted(false) || encode_.headers_started) {
    return;
  }
  response_headers_ = std::move(headers);
  encode_.headers_started = true;
  encode_.remote_complete = end_stream;
  iterateHeaders(false, 0, end_stream);
}

void FilterManager::encodeData(Buffer& data, bool end_stream) {
  encode_.remote_complete = encode_.remote_complete || end_stream;
  if (!halted(false)) {
    iterateData(false, 0, data, end_stream);
  }
}

void FilterManager::encodeTrailers(HeaderMapPtr trailers) {
  response_trailers_ = std::move(trailers);
  encode_.remote_complete = true;
  if (!halted(false)) {
    iterateTrailers(false, 0);
  }
}

void FilterManager::iterateHeaders(bool decode, size_t start, bool end_stream) {
  std::optional<size_t> empty_data_from;
  // Envoy's continue_data_entry: a filter added a body to a headers-only message, so the
  // following filters see a stream that goes on and that body follows from this position.
  std::optional<size_t> added_data_at;
  for (size_t pos = start; pos < filterCount(); ++pos) {
    HttpFilter& filter = filterAt(decode, pos);
    FilterIterationState& state = filter.state(decode);
    state.end_stream = end_stream && !added_data_at;
    int status;
    {
      CallScope scope(call_state_, decode ? DecodeHeaders : EncodeHeaders);
      status = filter.onHeaders(decode, state.end_stream);
    }
    if (halted(decode)) {
      return;
    }
    if (status == HeadersContinue) {
      state.headers_continued = true;
    } else if (status == HeadersContinueAndDontEndStream) {
      state.headers_continued = true;
      // The following filters see a stream that goes on; an empty end-of-stream chunk follows.
      if (end_stream) {
        end_stream = false;
        empty_data_from = pos + 1;
      }
    } else {
      state.iteration = stoppedBy(status);
      if (added_data_at) {
        continueAddedData(decode, *added_data_at);
      }
      return;
    }
    if (end_stream && !added_data_at && direction(decode).buffered != nullptr) {
      added_data_at = pos;
    }
  }
  terminalHeaders(decode, end_stream && !added_data_at);
  if (added_data_at && !halted(decode)) {
    continueAddedData(decode, *added_data_at);
  }
  if (empty_data_from && !halted(decode)) {
    Buffer empty;
    iterateData(decode, *empty_data_from, empty, true);
  }
}

// Envoy's maybeContinueDecoding/maybeContinueEncoding: the filter at `pos` is made to continue
// as if it had stopped, which sends the added body on from the next filter.
void FilterManager::continueAddedData(bool decode, size_t pos) {
  filterAt(decode, pos).state(decode).iteration = Iteration::StopSingle;
  commonContinue(decode, pos);
}

void FilterManager::iterateData(bool decode, size_t start, Buffer& data, bool end_stream) {
  DirectionState& dir = direction(decode);
  for (size_t pos = start; pos < filterCount(); ++pos) {
    HttpFilter& filter = filterAt(decode, pos);
    FilterIterationState& state = filter.state(decode);
    if (state.stoppedAll()) {
      // Envoy's handleDataIfStopAll: held without calling the filter until it continues.
      dir.streaming = state.iteration == Iteration::StopAllWatermark;
      bufferData(decode, data);
      return;
    }
    if (state.end_stream) {
      return;
    }
    state.end_stream = end_stream;
    int status;
    {
      CallScope scope(call_state_, decode ? DecodeData : EncodeData);
      status = filter.onBody(decode, data, end_stream);
    }
    if (halted(decode)) {
      return;
    }
    if (status == BodyContinue) {
      if (state.iteration == Iteration::StopSingle) {
        // Continue after a stop: the held headers and all data so far move on together.
        bufferData(decode, data);
        commonContinue(decode, pos);
        return;
      }
      continue;
    }
    state.iteration = Iteration::StopSingle;
    if (status == BodyStopIterationAndBuffer || status == BodyStopIterationAndWatermark) {
      dir.streaming = status == BodyStopIterationAndWatermark;
      bufferData(decode, data);
    } else if (dir.remote_complete && trailers(decode) == nullptr && dir.buffered == nullptr) {
      // StopIterationNoBuffer on the last chunk: the filter keeps (or drops) it, and an empty
      // buffered body makes its continue send an empty end-of-stream chunk on.
      createBuffer(decode);
    }
    return;
  }
  terminalData(decode, data, end_stream);
}

void FilterManager::iterateTrailers(bool decode, size_t start) {
  for (size_t pos = start; pos < filterCount(); ++pos) {
    HttpFilter& filter = filterAt(decode, pos);
    FilterIterationState& state = filter.state(decode);
    if (state.end_stream) {
      return;
    }
    if (state.stoppedAll()) {
      return; // Delivered when the filter continues.
    }
    state.end_stream = true;
    int status;
    {
      CallScope scope(call_state_, decode ? DecodeTrailers : EncodeTrailers);
      status = filter.onTrailers(decode);
    }
    if (halted(decode)) {
      return;
    }
    if (status == TrailersContinue) {
      if (state.iteration == Iteration::StopSingle) {
        commonContinue(decode, pos);
        return;
      }
      continue;
    }
    state.iteration = Iteration::StopSingle;
    return;
  }
  terminalTrailers(decode);
}

// Envoy's commonHandleBufferData: the chunk joins the buffered body, unless it is that body
// (passed on by a continue), which the filter then keeps as it is.
void FilterManager::bufferData(bool decode, Buffer& data) {
  DirectionState& dir = direction(decode);
  if (dir.buffered.get() == &data) {
    return;
  }
  if (dir.buffered == nullptr) {
    createBuffer(decode);
  }
  dir.buffered->move(data);
  checkHighWatermark(decode);
}

void FilterManager::createBuffer(bool decode) {
  DirectionState& dir = direction(decode);
  dir.buffered = std::make_unique<Buffer>();
  dir.above_high_watermark = false;
}

// Envoy's addDecodedData/addEncodedData, with streaming = true as the dynamic-module filter asks:
// buffered while no hook, or a headers/data hook of this direction (or the trailers hook of a
// stopped filter), runs; sent on to the following filters from this filter's trailers hook;
// anything else is a filter bug answered with a 502.
void FilterManager::addBufferedData(HttpFilter& filter, bool decode, Buffer& data) {
  const unsigned buffering = decode ? (DecodeHeaders | DecodeData) : (EncodeHeaders | EncodeData);
  const unsigned trailers_hook = decode ? DecodeTrailers : EncodeTrailers;
  const bool can_iterate = filter.state(decode).iteration == Iteration::Continue;
  if (call_state_ == 0 || (call_state_ & buffering) != 0 ||
      ((call_state_ & trailers_hook) != 0 && !can_iterate)) {
    direction(decode).streaming = true;
    bufferData(decode, data);
  } else if ((call_state_ & trailers_hook) != 0) {
    iterateData(decode, positionOf(decode, filter) + 1, data, false);
  } else {
    HOST_LOG(Error, std::string("a filter added ") + (decode ? "request" : "response") +
                        " data while running a hook of the other direction");
    sendLocalReply(502, {}, "Filter error",
                   decode ? "filter_added_invalid_request_data"
                          : "filter_added_invalid_response_data");
  }
}

bool FilterManager::appendBody(HttpFilter& filter, bool decode, bool buffered, Buffer& data) {
  DirectionState& dir = direction(decode);
  if (buffered && dir.buffered == nullptr) {
    addBufferedData(filter, decode, data);
    return true;
  }
  Buffer* body = buffered ? dir.buffered.get() : filter.receivedBody(decode);
  if (body == nullptr) {
    return false;
  }
  body->move(data);
  if (body == dir.buffered.get()) {
    checkHighWatermark(decode);
  }
  return true;
}

bool FilterManager::drainBody(HttpFilter& filter, bool decode, bool buffered, size_t size) {
  DirectionState& dir = direction(decode);
  Buffer* body = buffered ? dir.buffered.get() : filter.receivedBody(decode);
  if (body == nullptr) {
    return false;
  }
  body->drain(size);
  if (body == dir.buffered.get()) {
    checkLowWatermark(decode);
  }
  return true;
}

void FilterManager::setBufferLimit(uint64_t limit) {
  HOST_LOG(Debug, "setting buffer limit to " + std::to_string(limit));
  buffer_limit_ = limit;
  // Envoy's WatermarkBuffer::setWatermarks on each buffered body: high, then low.
  for (const bool decode : {true, false}) {
    checkHighWatermark(decode);
    checkLowWatermark(decode);
  }
}

// The high watermark (the limit; 0 disables it) of Envoy's WatermarkBuffer, crossed when the
// buffered body gets strictly larger: requestDataTooLarge / responseDataTooLarge.
void FilterManager::checkHighWatermark(bool decode) {
  DirectionState& dir = direction(decode);
  if (dir.buffered == nullptr || dir.above_high_watermark || buffer_limit_ == 0 ||
      dir.buffered->length() <= buffer_limit_ || complete_) {
    return;
  }
  dir.above_high_watermark = true;
  if (dir.streaming) {
    readDisableSource(decode, true);
    return;
  }
  if (decode) {
    HOST_LOG(Debug, "request data too large watermark exceeded");
    sendLocalReply(413, {}, "Payload Too Large", "request_payload_too_large");
  } else {
    // While encoding this bypasses the encoder filters, or resets once the response started.
    HOST_LOG(Debug, "response data too large watermark exceeded");
    sendLocalReply(500, {}, "Internal Server Error", "response_payload_too_large");
  }
}

// The low watermark (limit / 2): requestDataDrained / responseDataDrained resume the source.
void FilterManager::checkLowWatermark(bool decode) {
  DirectionState& dir = direction(decode);
  if (dir.buffered == nullptr || !dir.above_high_watermark ||
      (buffer_limit_ != 0 && dir.buffered->length() > buffer_limit_ / 2)) {
    return;
  }
  dir.above_high_watermark = false;
  readDisableSource(decode, false);
}

// The request's source is the downstream connection, the response's the router's upstream one.
// Each direction holds at most one readDisable(true); once the stream is over, its owners unwind.
void FilterManager::readDisableSource(bool decode, bool disable) {
  DirectionState& dir = direction(decode);
  if (complete_ || dir.source_read_disabled == disable) {
    return;
  }
  dir.source_read_disabled = disable;
  if (decode) {
    HOST_LOG(Debug, disable ? "Read-disabling downstream stream due to filter callbacks."
                            : "Read-enabling downstream stream due to filter callbacks.");
    downstream_.readDisable(disable);
    return;
  }
  HOST_LOG(Debug, disable ? "Disabling upstream stream due to filter callbacks."
                          : "Enabling upstream stream due to filter callbacks.");
  if (upstream_ != nullptr && !upstream_cancelled_) {
    upstream_->readDisable(disable);
  }
}

void FilterManager::continueIteration(bool decode, HttpFilter& filter) {
  const size_t pos = decode ? filter.index() : filterCount() - 1 - filter.index();
  commonContinue(decode, pos);
}

// Envoy's ActiveStreamFilterBase::commonContinue: headers to the next filter, then the buffered
// body (to this filter first if it had stopped all iteration), then trailers.
void FilterManager::commonContinue(bool decode, size_t pos) {
  HttpFilter& filter = filterAt(decode, pos);
  FilterIterationState& state = filter.state(decode);
  if (halted(decode) || state.iteration == Iteration::Continue) {
    return;
  }
  const bool from_current = state.stoppedAll();
  state.iteration = Iteration::Continue;
  DirectionState& dir = direction(decode);
  if (!state.headers_continued) {
    state.headers_continued = true;
    const bool headers_end =
        dir.remote_complete && dir.buffered == nullptr && trailers(decode) == nullptr;
    iterateHeaders(decode, pos + 1, headers_end);
    if (halted(decode)) {
      return;
    }
  }
  // Trailers a filter adds while the data goes on are sent by that data iteration.
  const bool had_trailers = trailers(decode) != nullptr;
  if (dir.buffered != nullptr) {
    // Envoy's doData: the buffered body itself goes on (so later filters see it as their received
    // body, and one that stops on it keeps it in place); the codec drains it, the buffer stays.
    iterateData(decode, from_current ? pos : pos + 1, *dir.buffered,
                dir.remote_complete && !had_trailers);
    if (halted(decode)) {
      return;
    }
  }
  if (had_trailers && dir.remote_complete) {
    iterateTrailers(decode, from_current ? pos : pos + 1);
  }
}

void FilterManager::terminalHeaders(bool decode, bool end_stream) {
  if (decode) {
    if (upstream_ == nullptr && !upstream_cancelled_) {
      upstream_ = upstream_factory_(*this);
    }
    if (upstream_ != nullptr && !upstream_cancelled_) {
      upstream_->decodeHeaders(*request_headers_, end_stream);
    }
    return;
  }
  downstream_started_ = true;
  downstream_.encodeHeaders(*response_headers_, end_stream);
  if (end_stream) {
    finish(false);
  }
}

void FilterManager::terminalData(bool decode, Buffer& data, bool end_stream) {
  if (!decode) {
    downstream_.encodeData(data, end_stream);
  } else if (upstream_ != nullptr && !upstream_cancelled_) {
    upstream_->decodeData(data, end_stream);
  }
  // The bytes are gone (or dropped, without an upstream): a buffered body that went on may now be
  // below its low watermark.
  data.drain(data.length());
  if (&data == direction(decode).buffered.get()) {
    checkLowWatermark(decode);
  }
  if (!decode && end_stream) {
    finish(false);
  }
}

void FilterManager::terminalTrailers(bool decode) {
  if (decode) {
    if (upstream_ != nullptr && !upstream_cancelled_) {
      upstream_->decodeTrailers(*request_trailers_);
    }
    return;
  }
  downstream_.encodeTrailers(*response_trailers_);
  finish(false);
}

void FilterManager::sendLocalReply(uint32_t status, const std::vector<HeaderMap::Entry>& headers,
                                   const std::string& body, const std::string& details) {
  if (complete_) {
    return;
  }
  HOST_LOG(Debug, "local reply " + std::to_string(status) +
                      (details.empty() ? std::string() : " (" + details + ")"));
  if (downstream_started_) {
    // Bytes of another response are already on the wire: all that is left is a reset.
    finish(true);
    return;
  }
  local_reply_sent_ = true;
  decode_.aborted = true;
  cancelUpstream();
  auto reply = std::make_unique<HeaderMap>();
  reply->add(":status", std::to_string(status));
  for (const HeaderMap::Entry& header : headers) {
    reply->add(header.first, header.second);
  }
  reply->set("content-length", std::to_string(body.size()));
  if (!body.empty() && reply->get("content-type") == nullptr) {
    reply->add("content-type", "text/plain");
  }
  Buffer body_copy;
  body_copy.append(body.data(), body.size());
  if (!encode_.headers_started) {
    // Not encoding yet: the reply goes through every encoder filter like a normal response.
    encode_.remote_complete = true;
    encodeHeaders(std::move(reply), body.empty());
    if (!body.empty() && !halted(false)) {
      encodeData(body_copy, true);
    }
    return;
  }
  // Called while encoding (from an encoder hook): the reply replaces the response and bypasses
  // the encoder filters.
  encode_.aborted = true;
  response_headers_ = std::move(reply);
  downstream_started_ = true;
  downstream_.encodeHeaders(*response_headers_, body.empty());
  if (!body.empty()) {
    downstream_.encodeData(body_copy, true);
  }
  finish(false);
}

void FilterManager::onDownstreamReset() { finish(true); }

void FilterManager::onUpstreamReset() {
  upstream_cancelled_ = true;
  finish(true);
}

void FilterManager::cancelUpstream() {
  if (upstream_ != nullptr && !upstream_cancelled_) {
    upstream_cancelled_ = true;
    upstream_->cancel();
  }
  upstream_cancelled_ = true;
}

void FilterManager::finish(bool reset) {
  if (complete_) {
    return;
  }
  complete_ = true;
  cancelUpstream();
  // Envoy's doDeferredStreamDestroy: every filter's onStreamComplete, then every filter's
  // onDestroy in the same call, so events committed before or during stream_complete (posted to
  // the dispatcher) find the filter destroyed and are dropped.
  for (HttpFilterPtr& filter : filters_) {
    filter->dropScheduledEvents();
  }
  for (HttpFilterPtr& filter : filters_) {
    filter->onStreamComplete();
  }
  // Envoy calls every filter's onDestroy right after: callouts are cancelled there.
  for (HttpFilterPtr& filter : filters_) {
    filter->closeCallouts();
  }
  if (reset) {
    downstream_.onStreamReset();
  } else {
    downstream_.onStreamComplete();
  }
}

} // namespace EnvoyTsHost
