#include "filter_manager.h"

#include "logger.h"
#include "router.h"

namespace EnvoyTsHost {
namespace {

// Status values shared by the request and response enums of each hook kind.
constexpr int HeadersContinue = 0;
constexpr int HeadersStopIteration = 1;
constexpr int HeadersContinueAndDontEndStream = 2;
constexpr int BodyContinue = 0;
constexpr int BodyStopIterationAndBuffer = 1;
constexpr int BodyStopIterationAndWatermark = 2;
constexpr int TrailersContinue = 0;

} // namespace

FilterManager::FilterManager(Dispatcher& dispatcher, const FilterChainConfig& chain,
                             DownstreamEncoder& downstream, UpstreamFactory upstream_factory)
    : dispatcher_(dispatcher), chain_(chain), downstream_(downstream),
      upstream_factory_(std::move(upstream_factory)) {}

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

void FilterManager::decodeData(std::string& data, bool end_stream) {
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

void FilterManager::encodeData(std::string& data, bool end_stream) {
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
  for (size_t pos = start; pos < filterCount(); ++pos) {
    HttpFilter& filter = filterAt(decode, pos);
    FilterIterationState& state = filter.state(decode);
    state.end_stream = end_stream;
    const int status = filter.onHeaders(decode, end_stream);
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
      state.iteration = status == HeadersStopIteration ? Iteration::StopSingle : Iteration::StopAll;
      return;
    }
  }
  terminalHeaders(decode, end_stream);
  if (empty_data_from && !halted(decode)) {
    std::string empty;
    iterateData(decode, *empty_data_from, empty, true);
  }
}

void FilterManager::iterateData(bool decode, size_t start, std::string& data, bool end_stream) {
  for (size_t pos = start; pos < filterCount(); ++pos) {
    HttpFilter& filter = filterAt(decode, pos);
    FilterIterationState& state = filter.state(decode);
    if (state.end_stream) {
      return;
    }
    if (state.iteration == Iteration::StopAll) {
      // Held without calling the filter until it continues.
      bufferData(decode, data);
      return;
    }
    state.end_stream = end_stream;
    const int status = filter.onBody(decode, end_stream);
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
      bufferData(decode, data);
    }
    // StopIterationNoBuffer: the filter keeps (or drops) the chunk itself.
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
    if (state.iteration == Iteration::StopAll) {
      return; // Delivered when the filter continues.
    }
    state.end_stream = true;
    const int status = filter.onTrailers(decode);
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

void FilterManager::bufferData(bool decode, std::string& data) {
  DirectionState& dir = direction(decode);
  if (!dir.buffered) {
    dir.buffered.emplace();
  }
  dir.buffered->append(data);
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
  const bool from_current = state.iteration == Iteration::StopAll;
  state.iteration = Iteration::Continue;
  DirectionState& dir = direction(decode);
  if (!state.headers_continued) {
    state.headers_continued = true;
    const bool headers_end =
        dir.remote_complete && !dir.buffered.has_value() && trailers(decode) == nullptr;
    iterateHeaders(decode, pos + 1, headers_end);
    if (halted(decode)) {
      return;
    }
  }
  if (dir.buffered) {
    std::string data = std::move(*dir.buffered);
    dir.buffered.reset();
    iterateData(decode, from_current ? pos : pos + 1, data,
                dir.remote_complete && trailers(decode) == nullptr);
    if (halted(decode)) {
      return;
    }
  }
  if (trailers(decode) != nullptr && dir.remote_complete) {
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

void FilterManager::terminalData(bool decode, std::string& data, bool end_stream) {
  if (decode) {
    if (upstream_ != nullptr && !upstream_cancelled_) {
      upstream_->decodeData(data, end_stream);
    }
    return;
  }
  downstream_.encodeData(data, end_stream);
  if (end_stream) {
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
  std::string body_copy = body;
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
