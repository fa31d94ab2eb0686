#include "native/module/http_stream.h"

#include <string>

#include "native/module/abi_buffer.h"

namespace envoy_ts::module {
namespace {

envoy_dynamic_module_type_http_header_type toEnvoy(bridge::HeaderMapKind map) {
  return static_cast<envoy_dynamic_module_type_http_header_type>(map);
}

envoy_dynamic_module_type_http_body_type bodyOf(bridge::BufferKind direction, HttpEnvoy::Body body) {
  const bool request = direction == bridge::BufferKind::Read;
  if (body == HttpEnvoy::Body::Received) {
    return request ? envoy_dynamic_module_type_http_body_type_ReceivedRequestBody
                   : envoy_dynamic_module_type_http_body_type_ReceivedResponseBody;
  }
  return request ? envoy_dynamic_module_type_http_body_type_BufferedRequestBody
                 : envoy_dynamic_module_type_http_body_type_BufferedResponseBody;
}

std::vector<envoy_dynamic_module_type_module_http_header> moduleHeaders(
    const bridge::HeaderList& headers) {
  std::vector<envoy_dynamic_module_type_module_http_header> out;
  out.reserve(headers.size());
  for (const auto& [key, value] : headers) {
    out.push_back({key.data(), key.size(), value.data(), value.size()});
  }
  return out;
}

}  // namespace

HttpStream::HttpStream(const HttpFilterConfig& config,
                       envoy_dynamic_module_type_http_filter_envoy_ptr envoy,
                       runtime::Environment& env)
    : config_(config),
      envoy_(envoy),
      runtime_(env),
      ref_(runtime_.bridge().openStream(this)),
      core_(HttpChain{config.id, config.hooks, config.fail_open}, *this, runtime_, ref_) {}

HttpStream::~HttpStream() {
  if (scheduler_ != nullptr) {
    envoy_dynamic_module_callback_http_filter_scheduler_delete(scheduler_);
  }
}

static_assert(HttpStream::kLoadConfigsEvent != JsStream::kResumeEvent &&
              HttpStream::kLoadConfigsEvent != JsStream::kPumpEvent);

void HttpStream::commitConfigLoad() {
  if (!load_configs_ahead_) {
    return;
  }
  load_configs_ahead_ = false;
  if (!runtime_.bridge().configsBehind()) {
    return;  // another stream's event loaded them meanwhile
  }
  // The route's per-route config may be one of the changes: then this stream needs them now.
  const uint64_t route_config_id = routeConfigId();
  if (route_config_id != 0 && !runtime_.bridge().runsLatest(route_config_id)) {
    loadConfigs(bridge::Bridge::SyncOccasion::StreamStart);
    return;
  }
  ensureScheduler();
  commitEvent(kLoadConfigsEvent);
}

void HttpStream::loadConfigs(bridge::Bridge::SyncOccasion occasion) {
  runtime::Environment::CallScope scope(runtime_.environment());
  runtime_.bridge().syncConfigs(occasion);
}

void HttpStream::onDestroy() {
  core_.onDestroy();
  delete this;
}

// ---- HttpEnvoy ----

void HttpStream::continueDecoding() { envoy_dynamic_module_callback_http_filter_continue_decoding(envoy_); }

void HttpStream::continueEncoding() { envoy_dynamic_module_callback_http_filter_continue_encoding(envoy_); }

uint64_t HttpStream::routeConfigId() {
  const auto* route = static_cast<const PerRouteConfig*>(
      envoy_dynamic_module_callback_get_most_specific_route_config(envoy_));
  return route == nullptr ? 0 : route->id;
}

void HttpStream::ensureScheduler() {
  if (scheduler_ == nullptr) {
    scheduler_ = envoy_dynamic_module_callback_http_filter_scheduler_new(envoy_);
  }
}

void HttpStream::commitEvent(uint64_t event_id) {
  envoy_dynamic_module_callback_http_filter_scheduler_commit(scheduler_, event_id);
}

bool HttpStream::receivedIsBuffered(bridge::BufferKind direction) {
  return direction == bridge::BufferKind::Read
             ? envoy_dynamic_module_callback_http_received_buffered_request_body(envoy_)
             : envoy_dynamic_module_callback_http_received_buffered_response_body(envoy_);
}

size_t HttpStream::bodySize(bridge::BufferKind direction, Body body) {
  return envoy_dynamic_module_callback_http_get_body_size(envoy_, bodyOf(direction, body));
}

void HttpStream::bodySlices(bridge::BufferKind direction, Body body,
                            std::vector<std::string_view>& out) {
  const envoy_dynamic_module_type_http_body_type which = bodyOf(direction, body);
  size_t count = envoy_dynamic_module_callback_http_get_body_chunks_size(envoy_, which);
  if (count == 0) {
    return;
  }
  slice_scratch_.resize(count);
  if (!envoy_dynamic_module_callback_http_get_body_chunks(envoy_, which, slice_scratch_.data())) {
    return;
  }
  for (const auto& slice : slice_scratch_) {
    if (slice.length > 0) {
      out.push_back(viewOf(slice));
    }
  }
}

void HttpStream::drainBody(bridge::BufferKind direction, Body body, size_t length) {
  envoy_dynamic_module_callback_http_drain_body(envoy_, bodyOf(direction, body), length);
}

bool HttpStream::appendBody(bridge::BufferKind direction, Body body, std::string_view data) {
  return envoy_dynamic_module_callback_http_append_body(envoy_, bodyOf(direction, body),
                                                        moduleBuffer(data));
}

uint64_t HttpStream::bufferLimit() { return envoy_dynamic_module_callback_http_get_buffer_limit(envoy_); }

// ---- bridge::StreamHost ----

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
  core_.deliver([&] {
    runtime_.bridge().fetchStreamEvent(ref_, stream_id, event, header_list, chunks, end_stream,
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
  core_.deliver([&] {
    runtime_.bridge().calloutDone(ref_, callout_id, static_cast<uint32_t>(result),
                                  response_headers, chunks);
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
  auto envoy_headers = moduleHeaders(headers);
  envoy_dynamic_module_callback_http_send_response(envoy_, status, envoy_headers.data(),
                                                   envoy_headers.size(), moduleBuffer(body),
                                                   moduleBuffer(details));
}

}  // namespace envoy_ts::module
