#include "native/module/http_stream.h"

#include "native/module/abi_buffer.h"
#include "native/runtime/log.h"

namespace envoy_ts::module {
namespace {

using bridge::HookKind;
using bridge::HookOutcome;

envoy_dynamic_module_type_http_header_type toEnvoy(bridge::HeaderMapKind map) {
  return static_cast<envoy_dynamic_module_type_http_header_type>(map);
}

}  // namespace

HttpStream::HttpStream(const HttpFilterConfig& config,
                       envoy_dynamic_module_type_http_filter_envoy_ptr envoy,
                       runtime::Environment& env)
    : JsStream(env), config_(config), envoy_(envoy) {
  ref_ = bridge_.openStream(this);
}

HttpStream::~HttpStream() {
  if (scheduler_ != nullptr) {
    envoy_dynamic_module_callback_http_filter_scheduler_delete(scheduler_);
  }
}

// ---- Hooks ----

envoy_dynamic_module_type_on_http_filter_request_headers_status
HttpStream::onRequestHeaders(bool end_of_stream) {
  switch (runHook(HookKind::RequestHeaders, end_of_stream)) {
  case HookOutcome::Continue:
    return envoy_dynamic_module_type_on_http_filter_request_headers_status_Continue;
  case HookOutcome::Pending:
    // Hold headers and body (with flow control) until JS decides.
    return envoy_dynamic_module_type_on_http_filter_request_headers_status_StopAllIterationAndWatermark;
  case HookOutcome::Failed:
    failClosed();
    [[fallthrough]];
  case HookOutcome::Replied:
    break;
  }
  return envoy_dynamic_module_type_on_http_filter_request_headers_status_StopIteration;
}

envoy_dynamic_module_type_on_http_filter_response_headers_status
HttpStream::onResponseHeaders(bool end_of_stream) {
  switch (runHook(HookKind::ResponseHeaders, end_of_stream)) {
  case HookOutcome::Continue:
    return envoy_dynamic_module_type_on_http_filter_response_headers_status_Continue;
  case HookOutcome::Pending:
    return envoy_dynamic_module_type_on_http_filter_response_headers_status_StopAllIterationAndWatermark;
  case HookOutcome::Failed:
    failClosed();
    [[fallthrough]];
  case HookOutcome::Replied:
    break;
  }
  return envoy_dynamic_module_type_on_http_filter_response_headers_status_StopIteration;
}

bridge::HookOutcome HttpStream::runHook(HookKind hook, bool end_of_stream) {
  const Phase phase = hook == HookKind::RequestHeaders ? kRequest : kResponse;
  return enter(phase, [&] {
    if (!bridge_.hasConfig(config_.id)) {
      runtime::log(runtime::LogLevel::Error, "this worker has no usable copy of filter config " +
                                                 std::to_string(config_.id));
      return HookOutcome::Failed;
    }
    return bridge_.runHook(config_.id, ref_, hook, end_of_stream);
  });
}

void HttpStream::applyResume(Phase phase, HookOutcome outcome) {
  switch (outcome) {
  case HookOutcome::Continue:
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

void HttpStream::onStreamComplete() {
  runtime::Environment::CallScope scope(env_);
  closeJs();
  env_.pump();
}

void HttpStream::onDestroy() {
  if (!closed_) {
    onStreamComplete();
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

// HTTP filters declare no metrics yet.
bool HttpStream::recordMetric(uint32_t, bridge::MetricOp, int64_t) { return false; }

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
