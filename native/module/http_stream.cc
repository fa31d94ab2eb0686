#include "native/module/http_stream.h"

#include "native/runtime/log.h"

namespace envoy_ts::module {
namespace {

using bridge::HookKind;
using bridge::HookOutcome;

// Scheduler events this module commits.
constexpr uint64_t kResumeEvent = 1;  // JS settled: apply its decision
constexpr uint64_t kPumpEvent = 2;    // the Node loop has work due (from the waker thread)

envoy_dynamic_module_type_http_header_type toEnvoy(bridge::HeaderMapKind map) {
  return static_cast<envoy_dynamic_module_type_http_header_type>(map);
}

envoy_dynamic_module_type_module_buffer buffer(std::string_view text) {
  return {text.data(), text.size()};
}

}  // namespace

HttpStream::HttpStream(const HttpFilterConfig& config,
                       envoy_dynamic_module_type_http_filter_envoy_ptr envoy,
                       runtime::Environment& env)
    : config_(config), envoy_(envoy), env_(env), bridge_(bridge::Bridge::of(env)) {
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
  switch (enter(HookKind::RequestHeaders, end_of_stream)) {
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
  switch (enter(HookKind::ResponseHeaders, end_of_stream)) {
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

bridge::HookOutcome HttpStream::enter(HookKind hook, bool end_of_stream) {
  if (closed_) {
    return HookOutcome::Continue;
  }
  runtime::Environment::CallScope scope(env_);
  const Phase phase = hook == HookKind::RequestHeaders ? Phase::Request : Phase::Response;
  ++hook_depth_;
  HookOutcome outcome = HookOutcome::Failed;
  if (bridge_.hasConfig(config_.id)) {
    outcome = bridge_.runHook(config_.id, ref_, hook, end_of_stream);
  } else {
    runtime::log(runtime::LogLevel::Error,
                 "this worker has no usable copy of filter config " + std::to_string(config_.id));
  }
  if (outcome == HookOutcome::Pending) {
    startWaiting(phase);
  }
  env_.pump();
  outcome = resumeInHook(phase, outcome);
  --hook_depth_;
  if (hook_depth_ == 0 && resume_requested_) {
    // JS settled a wait of another phase (a nested hook): resume it from the scheduler.
    resume_requested_ = false;
    scheduleResume();
  }
  return outcome;
}

// An async hook whose promise settled before the hook returned (e.g. an `async` function that
// never really waited) is resumed right here, without a round trip through the scheduler.
bridge::HookOutcome HttpStream::resumeInHook(Phase phase, HookOutcome outcome) {
  while (outcome == HookOutcome::Pending && resume_requested_ && waiting_ == phase) {
    resume_requested_ = false;
    stopWaiting();
    outcome = bridge_.resume(ref_);
    if (outcome == HookOutcome::Pending) {
      startWaiting(phase);
    }
    env_.pump();
  }
  return outcome;
}

void HttpStream::onScheduled(uint64_t event_id) {
  if (closed_) {
    return;
  }
  runtime::Environment::CallScope scope(env_);
  if (event_id == kResumeEvent && waiting_ != Phase::None) {
    const Phase phase = waiting_;
    ++hook_depth_;
    stopWaiting();
    HookOutcome outcome = bridge_.resume(ref_);
    if (outcome == HookOutcome::Pending) {
      startWaiting(phase);
    }
    env_.pump();
    outcome = resumeInHook(phase, outcome);
    --hook_depth_;
    switch (outcome) {
    case HookOutcome::Continue:
      if (phase == Phase::Request) {
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
    if (resume_requested_) {
      resume_requested_ = false;
      scheduleResume();
    }
  }
  // Both events end by running what the loop has due (and re-arming the waker); the waker's
  // event means the loop's fd is readable: poll it.
  env_.pump(event_id == kPumpEvent ? runtime::Environment::Poll::Now
                                   : runtime::Environment::Poll::IfDue);
}

void HttpStream::onStreamComplete() {
  runtime::Environment::CallScope scope(env_);
  close();
  env_.pump();
}

void HttpStream::onDestroy() {
  if (!closed_) {
    runtime::Environment::CallScope scope(env_);
    close();
    env_.pump();
  }
  delete this;
}

// The stream is over (completed, reset or destroyed): JS can no longer reach it, and its pending
// work is aborted. Events already committed for it are ignored.
void HttpStream::close() {
  if (closed_) {
    return;
  }
  closed_ = true;
  stopWaiting();
  bridge_.closeStream(ref_);
}

void HttpStream::startWaiting(Phase phase) {
  waiting_ = phase;
  if (scheduler_ == nullptr) {
    scheduler_ = envoy_dynamic_module_callback_http_filter_scheduler_new(envoy_);
  }
  env_.waker()->addTarget(this);
}

void HttpStream::stopWaiting() {
  if (waiting_ == Phase::None) {
    return;
  }
  waiting_ = Phase::None;
  env_.waker()->removeTarget(this);
}

void HttpStream::scheduleResume() {
  if (scheduler_ == nullptr) {
    scheduler_ = envoy_dynamic_module_callback_http_filter_scheduler_new(envoy_);
  }
  envoy_dynamic_module_callback_http_filter_scheduler_commit(scheduler_, kResumeEvent);
}

void HttpStream::requestResume() {
  if (closed_) {
    return;
  }
  if (hook_depth_ > 0) {
    resume_requested_ = true;  // applied before the hook on the stack returns
    return;
  }
  scheduleResume();
}

void HttpStream::wake() {
  // Only called while this stream is a waker target, i.e. scheduler_ exists and is not deleted.
  envoy_dynamic_module_callback_http_filter_scheduler_commit(scheduler_, kPumpEvent);
}

// The call into JS itself failed: answer as the default failure policy ("closed") does.
void HttpStream::failClosed() {
  static constexpr std::string_view kBody = "internal error";
  static constexpr std::string_view kDetails = "envoy_ts_runtime_failed";
  envoy_dynamic_module_callback_http_send_response(envoy_, 500, nullptr, 0, buffer(kBody),
                                                   buffer(kDetails));
}

// ---- bridge::StreamHost ----

bool HttpStream::getHeader(bridge::HeaderMapKind map, std::string_view name, size_t index,
                           std::string_view& value, size_t& count) {
  envoy_dynamic_module_type_envoy_buffer result{nullptr, 0};
  count = 0;
  if (!envoy_dynamic_module_callback_http_get_header(envoy_, toEnvoy(map), buffer(name), &result,
                                                     index, &count)) {
    return false;
  }
  // An empty value may come back as a null pointer with length 0.
  value = result.ptr == nullptr ? std::string_view() : std::string_view(result.ptr, result.length);
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
  return envoy_dynamic_module_callback_http_set_header(envoy_, toEnvoy(map), buffer(name),
                                                       buffer(value));
}

bool HttpStream::addHeader(bridge::HeaderMapKind map, std::string_view name,
                           std::string_view value) {
  return envoy_dynamic_module_callback_http_add_header(envoy_, toEnvoy(map), buffer(name),
                                                       buffer(value));
}

bool HttpStream::removeHeader(bridge::HeaderMapKind map, std::string_view name) {
  // A null value removes every value of the header.
  return envoy_dynamic_module_callback_http_set_header(envoy_, toEnvoy(map), buffer(name),
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
                                                   envoy_headers.size(), buffer(body),
                                                   buffer(details));
}

}  // namespace envoy_ts::module
