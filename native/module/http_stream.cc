#include "native/module/http_stream.h"

#include <algorithm>
#include <string>

#include "native/module/abi_buffer.h"
#include "native/runtime/log.h"

namespace envoy_ts::module {
namespace {

using bridge::HookKind;
using bridge::HookOutcome;

envoy_dynamic_module_type_http_header_type toEnvoy(bridge::HeaderMapKind map) {
  return static_cast<envoy_dynamic_module_type_http_header_type>(map);
}

uint32_t endFlag(bool end_of_stream) { return end_of_stream ? bridge::HookFlags::kEndOfStream : 0; }

}  // namespace

HttpStream::HttpStream(const HttpFilterConfig& config,
                       envoy_dynamic_module_type_http_filter_envoy_ptr envoy,
                       runtime::Environment& env)
    : JsStream(env, config.fail_open), config_(config), envoy_(envoy) {
  ref_ = bridge_.openStream(this);
}

HttpStream::~HttpStream() {
  if (scheduler_ != nullptr) {
    envoy_dynamic_module_callback_http_filter_scheduler_delete(scheduler_);
  }
}

// ---- Hooks ----

// While JS works on headers the filter answers StopIteration, not StopAll: Envoy then keeps
// calling the body and trailer hooks, so JS sees the body arrive (and can read it whole) while
// each chunk is held with flow control or buffered.
envoy_dynamic_module_type_on_http_filter_request_headers_status
HttpStream::onRequestHeaders(bool end_of_stream) {
  HookOutcome outcome = runHook(HookKind::RequestHeaders, endFlag(end_of_stream));
  if (outcome == HookOutcome::Failed) {
    failClosed();
  }
  body_[0].stopped = outcome != HookOutcome::Continue;
  return outcome == HookOutcome::Continue
             ? envoy_dynamic_module_type_on_http_filter_request_headers_status_Continue
             : envoy_dynamic_module_type_on_http_filter_request_headers_status_StopIteration;
}

envoy_dynamic_module_type_on_http_filter_response_headers_status
HttpStream::onResponseHeaders(bool end_of_stream) {
  response_started_ = true;
  HookOutcome outcome = runHook(HookKind::ResponseHeaders, endFlag(end_of_stream));
  if (outcome == HookOutcome::Failed) {
    failClosed();
  }
  body_[1].stopped = outcome != HookOutcome::Continue;
  return outcome == HookOutcome::Continue
             ? envoy_dynamic_module_type_on_http_filter_response_headers_status_Continue
             : envoy_dynamic_module_type_on_http_filter_response_headers_status_StopIteration;
}

// The request and response body statuses share their values.
static_assert(envoy_dynamic_module_type_on_http_filter_request_body_status_StopIterationAndBuffer ==
              static_cast<int>(envoy_dynamic_module_type_on_http_filter_response_body_status_StopIterationAndBuffer));
static_assert(envoy_dynamic_module_type_on_http_filter_request_body_status_StopIterationNoBuffer ==
              static_cast<int>(envoy_dynamic_module_type_on_http_filter_response_body_status_StopIterationNoBuffer));

envoy_dynamic_module_type_on_http_filter_request_body_status
HttpStream::onRequestBody(bool end_of_stream) {
  return static_cast<envoy_dynamic_module_type_on_http_filter_request_body_status>(
      bodyStatus(bridge::BufferKind::Read, end_of_stream));
}

envoy_dynamic_module_type_on_http_filter_response_body_status
HttpStream::onResponseBody(bool end_of_stream) {
  return static_cast<envoy_dynamic_module_type_on_http_filter_response_body_status>(
      bodyStatus(bridge::BufferKind::Write, end_of_stream));
}

int HttpStream::bodyStatus(bridge::BufferKind direction, bool end_of_stream) {
  BodyState& body = body_[static_cast<size_t>(direction)];
  const HookKind hook =
      direction == bridge::BufferKind::Read ? HookKind::RequestBody : HookKind::ResponseBody;
  if (!crosses(hook, direction)) {
    // Nothing in JS looks at this chunk: pass it on without a crossing.
    body.flowed_unseen = true;
    return envoy_dynamic_module_type_on_http_filter_request_body_status_Continue;
  }
  body.in_body_hook = true;
  HookOutcome outcome = runHook(hook, endFlag(end_of_stream));
  body.in_body_hook = false;
  switch (outcome) {
  case HookOutcome::Continue:
    body.stopped = false;
    return envoy_dynamic_module_type_on_http_filter_request_body_status_Continue;
  case HookOutcome::Pending:
    body.stopped = true;
    return body.whole ? envoy_dynamic_module_type_on_http_filter_request_body_status_StopIterationAndBuffer
                      : envoy_dynamic_module_type_on_http_filter_request_body_status_StopIterationAndWatermark;
  case HookOutcome::Failed:
    failClosed();
    [[fallthrough]];
  case HookOutcome::Replied:
    break;
  }
  body.stopped = true;
  return envoy_dynamic_module_type_on_http_filter_request_body_status_StopIterationNoBuffer;
}

envoy_dynamic_module_type_on_http_filter_request_trailers_status HttpStream::onRequestTrailers() {
  return trailersContinue(HookKind::RequestTrailers)
             ? envoy_dynamic_module_type_on_http_filter_request_trailers_status_Continue
             : envoy_dynamic_module_type_on_http_filter_request_trailers_status_StopIteration;
}

envoy_dynamic_module_type_on_http_filter_response_trailers_status HttpStream::onResponseTrailers() {
  return trailersContinue(HookKind::ResponseTrailers)
             ? envoy_dynamic_module_type_on_http_filter_response_trailers_status_Continue
             : envoy_dynamic_module_type_on_http_filter_response_trailers_status_StopIteration;
}

bool HttpStream::trailersContinue(HookKind hook) {
  HookOutcome outcome = runHook(hook, bridge::HookFlags::kEndOfStream);
  if (outcome == HookOutcome::Failed) {
    failClosed();
  }
  body_[hook == HookKind::RequestTrailers ? 0 : 1].stopped = outcome != HookOutcome::Continue;
  return outcome == HookOutcome::Continue;
}

bridge::HookOutcome HttpStream::runHook(HookKind hook, uint32_t flags) {
  const bool request = hook == HookKind::RequestHeaders || hook == HookKind::RequestBody ||
                       hook == HookKind::RequestTrailers;
  if (hook != HookKind::StreamComplete &&
      !crosses(hook, request ? bridge::BufferKind::Read : bridge::BufferKind::Write)) {
    return HookOutcome::Continue;
  }
  return enter(request ? kRequest : kResponse, [&] {
    if (!bridge_.hasConfig(config_.id)) {
      if (hook == HookKind::StreamComplete) {
        return HookOutcome::Continue;  // its hooks said so already
      }
      runtime::log(runtime::LogLevel::Error, "this worker has no usable copy of filter config " +
                                                 std::to_string(config_.id));
      return HookOutcome::Failed;
    }
    const uint64_t route_config_id = crossed_ ? 0 : routeConfigId();
    crossed_ = true;
    return bridge_.runHook(config_.id, ref_, hook, flags, route_config_id);
  });
}

// The per-route config of the stream's route, given on the stream's first call into JS.
uint64_t HttpStream::routeConfigId() {
  const auto* route = static_cast<const PerRouteConfig*>(
      envoy_dynamic_module_callback_get_most_specific_route_config(envoy_));
  return route == nullptr ? 0 : route->id;
}

void HttpStream::applyResume(Phase phase, HookOutcome outcome) {
  switch (outcome) {
  case HookOutcome::Continue:
    body_[phase == kRequest ? 0 : 1].stopped = false;
    if (phase == kRequest) {
      envoy_dynamic_module_callback_http_filter_continue_decoding(envoy_);
    } else {
      envoy_dynamic_module_callback_http_filter_continue_encoding(envoy_);
    }
    break;
  case HookOutcome::Failed:
    failClosed();
    break;
  case HookOutcome::Pending:
  case HookOutcome::Replied:
    break;
  }
}

// JS hears of the stream's end only when something there waits for it: an onStreamComplete hook,
// a pending hook, or what asked with wantEnd (an abort signal, fetches). That call runs the
// end-of-stream hooks while the stream's data can still be read, then JS drops the stream
// (aborting what is pending), so closing needs no second call. The stats JS handed over are
// recorded either way, while Envoy's stream is still there.
void HttpStream::onStreamComplete() {
  if (closed_) {
    return;
  }
  completed_ = true;
  if (listens(HookKind::StreamComplete) || waiting() || end_wanted_) {
    runHook(HookKind::StreamComplete, response_started_ ? bridge::HookFlags::kResponseStarted : 0);
  }
  if (!inHook()) {
    recordStats();
  }
  closeJs(/*notify_js=*/false);
}

void HttpStream::recordStats() {
  static const std::vector<std::string> kNoLabels;
  for (const bridge::StreamStats::Record& record : stats_.take()) {
    recordMetric(record.index, record.op, record.value, kNoLabels);
  }
}

// Envoy completes every stream before destroying it; a destroy without that (no Envoy pointer
// is passed, and stream callbacks may be no-ops by now) only lets JS go of the stream, telling it
// when something there waits for the end.
void HttpStream::onDestroy() {
  if (!closed_) {
    if (waiting() || end_wanted_) {
      runtime::Environment::CallScope scope(env_);
      closeJs();
      env_.pump();
    } else {
      closeJs(/*notify_js=*/false);
    }
  }
  delete this;
}

void HttpStream::ensureScheduler() {
  if (scheduler_ == nullptr) {
    scheduler_ = envoy_dynamic_module_callback_http_filter_scheduler_new(envoy_);
  }
}

void HttpStream::commitEvent(uint64_t event_id) {
  envoy_dynamic_module_callback_http_filter_scheduler_commit(scheduler_, event_id);
}

// The call into JS itself failed: answer as the default failure policy ("closed") does.
void HttpStream::failClosed() {
  static constexpr std::string_view kBody = "internal error";
  static constexpr std::string_view kDetails = "envoy_ts_runtime_failed";
  envoy_dynamic_module_callback_http_send_response(envoy_, 500, nullptr, 0, moduleBuffer(kBody),
                                                   moduleBuffer(kDetails));
}

bool HttpStream::recordMetric(uint32_t index, bridge::MetricOp op, int64_t value,
                              const std::vector<std::string>& labels) {
  if (index >= config_.metrics.size() || labels.size() != config_.metrics[index].label_count) {
    return false;
  }
  const DefinedMetric& metric = config_.metrics[index];
  std::vector<envoy_dynamic_module_type_module_buffer> label_values;
  label_values.reserve(labels.size());
  for (const std::string& label : labels) {
    label_values.push_back(moduleBuffer(label));
  }
  const uint64_t amount = static_cast<uint64_t>(value < 0 ? -value : value);
  auto result = envoy_dynamic_module_type_metrics_result_MetricNotFound;
  auto* values = label_values.data();
  const size_t count = label_values.size();
  switch (metric.kind) {
  case DefinedMetric::Kind::Counter:
    if (op == bridge::MetricOp::Increment) {
      result = envoy_dynamic_module_callback_http_filter_increment_counter(envoy_, metric.envoy_id,
                                                                           values, count, amount);
    }
    break;
  case DefinedMetric::Kind::Gauge:
    if (op == bridge::MetricOp::Set) {
      result = envoy_dynamic_module_callback_http_filter_set_gauge(envoy_, metric.envoy_id, values,
                                                                   count, amount);
    } else if (op == bridge::MetricOp::Add) {
      result = value < 0 ? envoy_dynamic_module_callback_http_filter_decrement_gauge(
                               envoy_, metric.envoy_id, values, count, amount)
                         : envoy_dynamic_module_callback_http_filter_increment_gauge(
                               envoy_, metric.envoy_id, values, count, amount);
    }
    break;
  case DefinedMetric::Kind::Histogram:
    if (op == bridge::MetricOp::Record) {
      result = envoy_dynamic_module_callback_http_filter_record_histogram_value(
          envoy_, metric.envoy_id, values, count, amount);
    }
    break;
  }
  return result == envoy_dynamic_module_type_metrics_result_Success;
}

std::optional<bridge::ScalarValue> HttpStream::getAttribute(uint32_t attribute_id,
                                                            bridge::AttributeType type) {
  auto id = static_cast<envoy_dynamic_module_type_attribute_id>(attribute_id);
  switch (type) {
  case bridge::AttributeType::String: {
    envoy_dynamic_module_type_envoy_buffer result{nullptr, 0};
    if (envoy_dynamic_module_callback_http_filter_get_attribute_string(envoy_, id, &result)) {
      return viewOf(result);
    }
    break;
  }
  case bridge::AttributeType::Int: {
    uint64_t result = 0;
    if (envoy_dynamic_module_callback_http_filter_get_attribute_int(envoy_, id, &result)) {
      return static_cast<double>(result);
    }
    break;
  }
  case bridge::AttributeType::Bool: {
    bool result = false;
    if (envoy_dynamic_module_callback_http_filter_get_attribute_bool(envoy_, id, &result)) {
      return result;
    }
    break;
  }
  }
  return std::nullopt;
}

// Metadata values are typed; a key holds one of string, number or bool.
std::optional<bridge::ScalarValue> HttpStream::getMetadata(uint32_t source, std::string_view ns,
                                                           std::string_view key) {
  auto from = static_cast<envoy_dynamic_module_type_metadata_source>(source);
  envoy_dynamic_module_type_envoy_buffer text{nullptr, 0};
  if (envoy_dynamic_module_callback_http_get_metadata_string(envoy_, from, moduleBuffer(ns),
                                                             moduleBuffer(key), &text)) {
    return viewOf(text);
  }
  double number = 0;
  if (envoy_dynamic_module_callback_http_get_metadata_number(envoy_, from, moduleBuffer(ns),
                                                             moduleBuffer(key), &number)) {
    return number;
  }
  bool flag = false;
  if (envoy_dynamic_module_callback_http_get_metadata_bool(envoy_, from, moduleBuffer(ns),
                                                           moduleBuffer(key), &flag)) {
    return flag;
  }
  return std::nullopt;
}

void HttpStream::clearRouteCache() { envoy_dynamic_module_callback_http_clear_route_cache(envoy_); }

bool HttpStream::setUpstreamOverrideHost(std::string_view host, bool strict) {
  return envoy_dynamic_module_callback_http_set_upstream_override_host(envoy_, moduleBuffer(host),
                                                                       strict);
}

namespace {

std::vector<envoy_dynamic_module_type_module_http_header> moduleHeaders(
    const bridge::HeaderList& headers) {
  std::vector<envoy_dynamic_module_type_module_http_header> out;
  out.reserve(headers.size());
  for (const auto& [key, value] : headers) {
    out.push_back({key.data(), key.size(), value.data(), value.size()});
  }
  return out;
}

bridge::HeaderList headerList(const envoy_dynamic_module_type_envoy_http_header* headers,
                              size_t size) {
  bridge::HeaderList out;
  for (size_t i = 0; headers != nullptr && i < size; ++i) {
    out.emplace_back(std::string_view(headers[i].key_ptr, headers[i].key_length),
                     std::string_view(headers[i].value_ptr, headers[i].value_length));
  }
  return out;
}

std::vector<std::string_view> chunkList(const envoy_dynamic_module_type_envoy_buffer* chunks,
                                        size_t size) {
  std::vector<std::string_view> out;
  for (size_t i = 0; chunks != nullptr && i < size; ++i) {
    out.push_back(viewOf(chunks[i]));
  }
  return out;
}

}  // namespace

uint32_t HttpStream::startCallout(std::string_view cluster, const bridge::HeaderList& headers,
                                  std::string_view body, uint64_t timeout_ms, uint64_t& id) {
  auto envoy_headers = moduleHeaders(headers);
  return envoy_dynamic_module_callback_http_filter_http_callout(
      envoy_, &id, moduleBuffer(cluster), envoy_headers.data(), envoy_headers.size(),
      moduleBuffer(body), timeout_ms);
}

uint32_t HttpStream::startFetchStream(std::string_view cluster, const bridge::HeaderList& headers,
                                      std::string_view body, bool end_stream, uint64_t timeout_ms,
                                      uint64_t& id) {
  auto envoy_headers = moduleHeaders(headers);
  return envoy_dynamic_module_callback_http_filter_start_http_stream(
      envoy_, &id, moduleBuffer(cluster), envoy_headers.data(), envoy_headers.size(),
      moduleBuffer(body), end_stream, timeout_ms);
}

bool HttpStream::fetchStreamSendData(uint64_t id, std::string_view data, bool end_stream) {
  return envoy_dynamic_module_callback_http_stream_send_data(envoy_, id, moduleBuffer(data),
                                                            end_stream);
}

bool HttpStream::fetchStreamSendTrailers(uint64_t id, const bridge::HeaderList& trailers) {
  auto envoy_trailers = moduleHeaders(trailers);
  return envoy_dynamic_module_callback_http_stream_send_trailers(envoy_, id, envoy_trailers.data(),
                                                                envoy_trailers.size());
}

void HttpStream::resetFetchStream(uint64_t id) {
  envoy_dynamic_module_callback_http_filter_reset_http_stream(envoy_, id);
}

void HttpStream::onFetchStreamEvent(uint64_t stream_id, bridge::FetchStreamEvent event,
                                    const envoy_dynamic_module_type_envoy_http_header* headers,
                                    size_t headers_size,
                                    const envoy_dynamic_module_type_envoy_buffer* data,
                                    size_t data_size, bool end_stream, uint32_t reset_reason) {
  bridge::HeaderList header_list = headerList(headers, headers_size);
  std::vector<std::string_view> chunks = chunkList(data, data_size);
  deliverToJs([&] {
    bridge_.fetchStreamEvent(ref_, stream_id, event, header_list, chunks, end_stream,
                             reset_reason);
  });
}

void HttpStream::onCalloutDone(uint64_t callout_id,
                               envoy_dynamic_module_type_http_callout_result result,
                               const envoy_dynamic_module_type_envoy_http_header* headers,
                               size_t headers_size,
                               const envoy_dynamic_module_type_envoy_buffer* body,
                               size_t body_size) {
  bridge::HeaderList response_headers = headerList(headers, headers_size);
  std::vector<std::string_view> chunks = chunkList(body, body_size);
  deliverToJs([&] {
    bridge_.calloutDone(ref_, callout_id, static_cast<uint32_t>(result), response_headers, chunks);
  });
}

void HttpStream::setMetadata(std::string_view ns, std::string_view key, std::string_view value) {
  envoy_dynamic_module_callback_http_set_dynamic_metadata_string(envoy_, moduleBuffer(ns),
                                                                 moduleBuffer(key), moduleBuffer(value));
}

void HttpStream::setMetadata(std::string_view ns, std::string_view key, double value) {
  envoy_dynamic_module_callback_http_set_dynamic_metadata_number(envoy_, moduleBuffer(ns),
                                                                 moduleBuffer(key), value);
}

void HttpStream::setMetadata(std::string_view ns, std::string_view key, bool value) {
  envoy_dynamic_module_callback_http_set_dynamic_metadata_bool(envoy_, moduleBuffer(ns),
                                                               moduleBuffer(key), value);
}

// HTTP filter state is bytes only (typed filter state is not offered to HTTP filters).
bool HttpStream::setFilterState(std::string_view key, std::string_view value, bool typed) {
  return !typed && envoy_dynamic_module_callback_http_set_filter_state_bytes(
                       envoy_, moduleBuffer(key), moduleBuffer(value));
}

bool HttpStream::getFilterState(std::string_view key, bool typed, std::string_view& value) {
  envoy_dynamic_module_type_envoy_buffer result{nullptr, 0};
  if (typed || !envoy_dynamic_module_callback_http_get_filter_state_bytes(envoy_, moduleBuffer(key),
                                                                          &result)) {
    return false;
  }
  value = viewOf(result);
  return true;
}

// ---- Bodies: what this filter holds of a direction = the buffered body while iteration is
// stopped here, then the received chunk inside a body hook. That is what Envoy hands on when the
// filter continues. ----

namespace {

envoy_dynamic_module_type_http_body_type receivedBody(bridge::BufferKind direction) {
  return direction == bridge::BufferKind::Read
             ? envoy_dynamic_module_type_http_body_type_ReceivedRequestBody
             : envoy_dynamic_module_type_http_body_type_ReceivedResponseBody;
}

envoy_dynamic_module_type_http_body_type bufferedBody(bridge::BufferKind direction) {
  return direction == bridge::BufferKind::Read
             ? envoy_dynamic_module_type_http_body_type_BufferedRequestBody
             : envoy_dynamic_module_type_http_body_type_BufferedResponseBody;
}

}  // namespace

bool HttpStream::receivedIsBuffered(bridge::BufferKind direction) {
  return direction == bridge::BufferKind::Read
             ? envoy_dynamic_module_callback_http_received_buffered_request_body(envoy_)
             : envoy_dynamic_module_callback_http_received_buffered_response_body(envoy_);
}

void HttpStream::appendSlices(envoy_dynamic_module_type_http_body_type body,
                              std::vector<std::string_view>& out) {
  size_t count = envoy_dynamic_module_callback_http_get_body_chunks_size(envoy_, body);
  if (count == 0) {
    return;
  }
  slice_scratch_.resize(count);
  if (!envoy_dynamic_module_callback_http_get_body_chunks(envoy_, body, slice_scratch_.data())) {
    return;
  }
  for (const auto& slice : slice_scratch_) {
    if (slice.length > 0) {
      out.push_back(viewOf(slice));
    }
  }
}

bool HttpStream::bufferSlices(bridge::BufferKind direction, std::vector<std::string_view>& out) {
  const BodyState& body = body_[static_cast<size_t>(direction)];
  out.clear();
  const bool received_is_buffered = body.in_body_hook && receivedIsBuffered(direction);
  if (body.stopped && !received_is_buffered) {
    appendSlices(bufferedBody(direction), out);
  }
  if (body.in_body_hook) {
    appendSlices(receivedBody(direction), out);
  }
  return true;
}

bool HttpStream::bufferLength(bridge::BufferKind direction, size_t& length) {
  const BodyState& body = body_[static_cast<size_t>(direction)];
  length = 0;
  const bool received_is_buffered = body.in_body_hook && receivedIsBuffered(direction);
  if (body.stopped && !received_is_buffered) {
    length += envoy_dynamic_module_callback_http_get_body_size(envoy_, bufferedBody(direction));
  }
  if (body.in_body_hook) {
    length += envoy_dynamic_module_callback_http_get_body_size(envoy_, receivedBody(direction));
  }
  return true;
}

bool HttpStream::drainBuffer(bridge::BufferKind direction, size_t length) {
  const BodyState& body = body_[static_cast<size_t>(direction)];
  const bool received_is_buffered = body.in_body_hook && receivedIsBuffered(direction);
  if (body.stopped && !received_is_buffered) {
    const size_t buffered = envoy_dynamic_module_callback_http_get_body_size(envoy_, bufferedBody(direction));
    const size_t from_buffered = std::min(buffered, length);
    if (from_buffered > 0) {
      envoy_dynamic_module_callback_http_drain_body(envoy_, bufferedBody(direction), from_buffered);
    }
    length -= from_buffered;
  }
  if (body.in_body_hook && length > 0) {
    envoy_dynamic_module_callback_http_drain_body(envoy_, receivedBody(direction), length);
  }
  return true;
}

// Envoy's ABI has no prepend for bodies: the held bytes are put back behind `data` (a copy).
bool HttpStream::prependBuffer(bridge::BufferKind direction, std::string_view data) {
  std::vector<std::string_view> slices;
  bufferSlices(direction, slices);
  std::string combined(data);
  size_t held = 0;
  for (std::string_view slice : slices) {
    combined.append(slice);
    held += slice.size();
  }
  drainBuffer(direction, held);
  return appendBuffer(direction, combined);
}

bool HttpStream::appendBuffer(bridge::BufferKind direction, std::string_view data) {
  const BodyState& body = body_[static_cast<size_t>(direction)];
  if (body.in_body_hook) {
    return envoy_dynamic_module_callback_http_append_body(envoy_, receivedBody(direction),
                                                          moduleBuffer(data));
  }
  // Outside a body hook only a filter that holds the direction may add to its buffered body.
  return body.stopped && envoy_dynamic_module_callback_http_append_body(
                             envoy_, bufferedBody(direction), moduleBuffer(data));
}

bridge::WholeBodyState HttpStream::bufferWholeBody(bridge::BufferKind direction) {
  BodyState& body = body_[static_cast<size_t>(direction)];
  if (body.flowed_unseen) {
    return bridge::WholeBodyState::Flowed;
  }
  body.whole = true;
  const uint64_t limit = envoy_dynamic_module_callback_http_get_buffer_limit(envoy_);
  size_t held = 0;
  bufferLength(direction, held);
  return limit == 0 || held <= limit ? bridge::WholeBodyState::Buffering
                                     : bridge::WholeBodyState::OverLimit;
}

// ---- bridge::StreamHost ----

bool HttpStream::getHeader(bridge::HeaderMapKind map, std::string_view name, size_t index,
                           std::string_view& value, size_t& count) {
  envoy_dynamic_module_type_envoy_buffer result{nullptr, 0};
  count = 0;
  if (!envoy_dynamic_module_callback_http_get_header(envoy_, toEnvoy(map), moduleBuffer(name), &result,
                                                     index, &count)) {
    return false;
  }
  value = viewOf(result);
  return true;
}

void HttpStream::getHeaders(bridge::HeaderMapKind map, bridge::HeaderList& out) {
  size_t size = envoy_dynamic_module_callback_http_get_headers_size(envoy_, toEnvoy(map));
  out.clear();
  if (size == 0) {
    return;
  }
  header_scratch_.resize(size);
  if (!envoy_dynamic_module_callback_http_get_headers(envoy_, toEnvoy(map),
                                                      header_scratch_.data())) {
    return;
  }
  out.reserve(size);
  for (const auto& header : header_scratch_) {
    out.emplace_back(std::string_view(header.key_ptr, header.key_length),
                     std::string_view(header.value_ptr, header.value_length));
  }
}

size_t HttpStream::headerCount(bridge::HeaderMapKind map) {
  return envoy_dynamic_module_callback_http_get_headers_size(envoy_, toEnvoy(map));
}

bool HttpStream::setHeader(bridge::HeaderMapKind map, std::string_view name,
                           std::string_view value) {
  return envoy_dynamic_module_callback_http_set_header(envoy_, toEnvoy(map), moduleBuffer(name),
                                                       moduleBuffer(value));
}

bool HttpStream::addHeader(bridge::HeaderMapKind map, std::string_view name,
                           std::string_view value) {
  return envoy_dynamic_module_callback_http_add_header(envoy_, toEnvoy(map), moduleBuffer(name),
                                                       moduleBuffer(value));
}

bool HttpStream::removeHeader(bridge::HeaderMapKind map, std::string_view name) {
  // A null value removes every value of the header.
  return envoy_dynamic_module_callback_http_set_header(envoy_, toEnvoy(map), moduleBuffer(name),
                                                       {nullptr, 0});
}

void HttpStream::sendLocalReply(uint32_t status, const bridge::HeaderList& headers,
                                std::string_view body, std::string_view details) {
  std::vector<envoy_dynamic_module_type_module_http_header> envoy_headers;
  envoy_headers.reserve(headers.size());
  for (const auto& [key, value] : headers) {
    envoy_headers.push_back({key.data(), key.size(), value.data(), value.size()});
  }
  envoy_dynamic_module_callback_http_send_response(envoy_, status, envoy_headers.data(),
                                                   envoy_headers.size(), moduleBuffer(body),
                                                   moduleBuffer(details));
}

}  // namespace envoy_ts::module
