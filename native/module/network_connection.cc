#include "native/module/network_connection.h"

#include "native/module/abi_buffer.h"
#include "native/runtime/log.h"

namespace envoy_ts::module {
namespace {

using bridge::HookOutcome;
using bridge::NetworkHookKind;

constexpr auto kContinue = envoy_dynamic_module_type_on_network_filter_data_status_Continue;
constexpr auto kStopIteration = envoy_dynamic_module_type_on_network_filter_data_status_StopIteration;

}  // namespace

NetworkConnection::NetworkConnection(const NetworkFilterConfig& config,
                                     envoy_dynamic_module_type_network_filter_envoy_ptr envoy,
                                     runtime::Environment& env)
    : ConnectionRuntime(env), JsStream(environment_runtime_, config.fail_open),
      config_(config), envoy_(envoy) {
  ref_ = bridge().openConnection(this);
}

NetworkConnection::~NetworkConnection() {
  if (scheduler_ != nullptr) {
    envoy_dynamic_module_callback_network_filter_scheduler_delete(scheduler_);
  }
}

// ---- Hooks ----

envoy_dynamic_module_type_on_network_filter_data_status NetworkConnection::onNewConnection() {
  return statusOf(runHook(NetworkHookKind::NewConnection, false));
}

envoy_dynamic_module_type_on_network_filter_data_status NetworkConnection::onRead(bool end_stream) {
  read_ended_ = read_ended_ || end_stream;
  if (waiting()) {
    // Held in Envoy's read buffer; JS sees it once what it waits for settles.
    read_while_waiting_ = true;
    return kStopIteration;
  }
  return statusOf(runHook(NetworkHookKind::Data, end_stream));
}

envoy_dynamic_module_type_on_network_filter_data_status NetworkConnection::onWrite(bool end_stream) {
  in_write_ = true;
  HookOutcome outcome = runHook(NetworkHookKind::Write, end_stream);
  in_write_ = false;
  // JS runs onWrite synchronously; a stray Pending must not hold the write path.
  return statusOf(outcome == HookOutcome::Pending ? HookOutcome::Continue : outcome);
}

void NetworkConnection::onEvent(envoy_dynamic_module_type_network_connection_event event) {
  if (closed_ || (event != envoy_dynamic_module_type_network_connection_event_RemoteClose &&
                  event != envoy_dynamic_module_type_network_connection_event_LocalClose)) {
    return;
  }
  StreamRuntime::CallScope scope(runtime_);
  bridge().networkEvent(ref_, event == envoy_dynamic_module_type_network_connection_event_RemoteClose
                                  ? bridge::NetworkEvent::RemoteClose
                                  : bridge::NetworkEvent::LocalClose);
  runtime_.pump(false);
}

void NetworkConnection::onDestroy() {
  {
    StreamRuntime::CallScope scope(runtime_);
    closeJs();
    runtime_.pump(false);
  }
  delete this;
}

HookOutcome NetworkConnection::runHook(NetworkHookKind hook, bool end_stream) {
  const Phase phase = hook == NetworkHookKind::Write ? kWriting : kReading;
  return enter(phase, [&](Phase&) {
    if (!runtime_.hasConfig(config_.id)) {
      runtime::log(runtime::LogLevel::Error, "this worker has no usable copy of filter config " +
                                                 std::to_string(config_.id));
      return HookOutcome::Failed;
    }
    return runtime_.runNetworkHook(config_.id, ref_, hook, end_stream);
  });
}

envoy_dynamic_module_type_on_network_filter_data_status
NetworkConnection::statusOf(HookOutcome outcome) {
  switch (outcome) {
  case HookOutcome::Continue:
    return kContinue;
  case HookOutcome::Failed:
    // The call into JS itself failed: close, as the default failure policy does.
    close(bridge::CloseType::NoFlush);
    return kStopIteration;
  case HookOutcome::Pending:
  case HookOutcome::Replied:
    break;
  }
  return kStopIteration;
}

void NetworkConnection::applyResume(Phase, HookOutcome outcome) {
  if (outcome == HookOutcome::Continue && read_while_waiting_) {
    // Bytes arrived while JS waited: the chain sees the whole held buffer before it moves on.
    read_while_waiting_ = false;
    outcome = runHook(NetworkHookKind::Data, read_ended_);
  }
  switch (outcome) {
  case HookOutcome::Continue:
    envoy_dynamic_module_callback_network_filter_continue_reading(envoy_);
    break;
  case HookOutcome::Failed:
    close(bridge::CloseType::NoFlush);
    break;
  case HookOutcome::Pending:
  case HookOutcome::Replied:
    break;
  }
}

void NetworkConnection::ensureScheduler() {
  if (scheduler_ == nullptr) {
    scheduler_ = envoy_dynamic_module_callback_network_filter_scheduler_new(envoy_);
  }
}

void NetworkConnection::commitEvent(uint64_t event_id) {
  envoy_dynamic_module_callback_network_filter_scheduler_commit(scheduler_, event_id);
}

// ---- bridge::ConnectionHost ----

bool NetworkConnection::bufferSlices(bridge::BufferKind buffer, std::vector<std::string_view>& out) {
  out.clear();
  const bool read = buffer == bridge::BufferKind::Read;
  if (!read && !in_write_) {
    return false;
  }
  size_t count = read ? envoy_dynamic_module_callback_network_filter_get_read_buffer_chunks_size(envoy_)
                      : envoy_dynamic_module_callback_network_filter_get_write_buffer_chunks_size(envoy_);
  if (count == 0) {
    return true;
  }
  slice_scratch_.resize(count);
  bool ok = read ? envoy_dynamic_module_callback_network_filter_get_read_buffer_chunks(
                       envoy_, slice_scratch_.data())
                 : envoy_dynamic_module_callback_network_filter_get_write_buffer_chunks(
                       envoy_, slice_scratch_.data());
  if (!ok) {
    return false;
  }
  for (const auto& slice : slice_scratch_) {
    out.push_back(viewOf(slice));
  }
  return true;
}

bool NetworkConnection::bufferLength(bridge::BufferKind buffer, size_t& length) {
  if (buffer == bridge::BufferKind::Read) {
    length = envoy_dynamic_module_callback_network_filter_get_read_buffer_size(envoy_);
    return true;
  }
  if (!in_write_) {
    return false;
  }
  length = envoy_dynamic_module_callback_network_filter_get_write_buffer_size(envoy_);
  return true;
}

bool NetworkConnection::drainBuffer(bridge::BufferKind buffer, size_t length) {
  if (buffer == bridge::BufferKind::Read) {
    return envoy_dynamic_module_callback_network_filter_drain_read_buffer(envoy_, length);
  }
  return in_write_ && envoy_dynamic_module_callback_network_filter_drain_write_buffer(envoy_, length);
}

bool NetworkConnection::prependBuffer(bridge::BufferKind buffer, std::string_view data) {
  if (buffer == bridge::BufferKind::Read) {
    return envoy_dynamic_module_callback_network_filter_prepend_read_buffer(envoy_, moduleBuffer(data));
  }
  return in_write_ &&
         envoy_dynamic_module_callback_network_filter_prepend_write_buffer(envoy_, moduleBuffer(data));
}

bool NetworkConnection::appendBuffer(bridge::BufferKind buffer, std::string_view data) {
  if (buffer == bridge::BufferKind::Read) {
    return envoy_dynamic_module_callback_network_filter_append_read_buffer(envoy_, moduleBuffer(data));
  }
  return in_write_ &&
         envoy_dynamic_module_callback_network_filter_append_write_buffer(envoy_, moduleBuffer(data));
}

void NetworkConnection::write(std::string_view data, bool end_stream) {
  envoy_dynamic_module_callback_network_filter_write(envoy_, moduleBuffer(data), end_stream);
}

void NetworkConnection::injectRead(std::string_view data, bool end_stream) {
  envoy_dynamic_module_callback_network_filter_inject_read_data(envoy_, moduleBuffer(data), end_stream);
}

void NetworkConnection::continueReading() {
  envoy_dynamic_module_callback_network_filter_continue_reading(envoy_);
}

void NetworkConnection::close(bridge::CloseType type) {
  envoy_dynamic_module_callback_network_filter_close(
      envoy_, static_cast<envoy_dynamic_module_type_network_connection_close_type>(type));
}

void NetworkConnection::readDisable(bool disabled) {
  envoy_dynamic_module_callback_network_filter_read_disable(envoy_, disabled);
}

bridge::ConnectionFacts NetworkConnection::facts() {
  bridge::ConnectionFacts facts;
  facts.id = envoy_dynamic_module_callback_network_filter_get_connection_id(envoy_);
  envoy_dynamic_module_type_envoy_buffer address{nullptr, 0};
  if (envoy_dynamic_module_callback_network_filter_get_remote_address(envoy_, &address,
                                                                      &facts.remote_port)) {
    facts.remote_address = viewOf(address);
  }
  address = {nullptr, 0};
  if (envoy_dynamic_module_callback_network_filter_get_local_address(envoy_, &address,
                                                                     &facts.local_port)) {
    facts.local_address = viewOf(address);
  }
  facts.ssl = envoy_dynamic_module_callback_network_filter_is_ssl(envoy_);
  envoy_dynamic_module_type_envoy_buffer sni{nullptr, 0};
  facts.has_server_name =
      envoy_dynamic_module_callback_network_filter_get_requested_server_name(envoy_, &sni);
  facts.server_name = viewOf(sni);
  return facts;
}

void NetworkConnection::setMetadata(std::string_view ns, std::string_view key,
                                    std::string_view value) {
  envoy_dynamic_module_callback_network_set_dynamic_metadata_string(
      envoy_, moduleBuffer(ns), moduleBuffer(key), moduleBuffer(value));
}

void NetworkConnection::setMetadata(std::string_view ns, std::string_view key, double value) {
  envoy_dynamic_module_callback_network_set_dynamic_metadata_number(envoy_, moduleBuffer(ns),
                                                                    moduleBuffer(key), value);
}

void NetworkConnection::setMetadata(std::string_view ns, std::string_view key, bool value) {
  envoy_dynamic_module_callback_network_set_dynamic_metadata_bool(envoy_, moduleBuffer(ns),
                                                                  moduleBuffer(key), value);
}

bool NetworkConnection::setFilterState(std::string_view key, std::string_view value, bool typed) {
  return typed ? envoy_dynamic_module_callback_network_set_filter_state_typed(
                     envoy_, moduleBuffer(key), moduleBuffer(value))
               : envoy_dynamic_module_callback_network_set_filter_state_bytes(
                     envoy_, moduleBuffer(key), moduleBuffer(value));
}

bool NetworkConnection::getFilterState(std::string_view key, bool typed, std::string_view& value) {
  envoy_dynamic_module_type_envoy_buffer result{nullptr, 0};
  bool found = typed ? envoy_dynamic_module_callback_network_get_filter_state_typed(
                           envoy_, moduleBuffer(key), &result)
                     : envoy_dynamic_module_callback_network_get_filter_state_bytes(
                           envoy_, moduleBuffer(key), &result);
  value = viewOf(result);
  return found;
}

bool NetworkConnection::recordMetric(uint32_t index, bridge::MetricOp op, int64_t value,
                                     const std::vector<std::string>& labels) {
  if (index >= config_.metrics.size() || !labels.empty()) {
    return false;
  }
  const DefinedMetric& metric = config_.metrics[index];
  const uint64_t amount = static_cast<uint64_t>(value < 0 ? -value : value);
  envoy_dynamic_module_type_metrics_result result = envoy_dynamic_module_type_metrics_result_MetricNotFound;
  switch (metric.kind) {
  case DefinedMetric::Kind::Counter:
    if (op == bridge::MetricOp::Increment) {
      result = envoy_dynamic_module_callback_network_filter_increment_counter(envoy_, metric.envoy_id, amount);
    }
    break;
  case DefinedMetric::Kind::Gauge:
    if (op == bridge::MetricOp::Set) {
      result = envoy_dynamic_module_callback_network_filter_set_gauge(envoy_, metric.envoy_id, amount);
    } else if (op == bridge::MetricOp::Add) {
      result = value < 0 ? envoy_dynamic_module_callback_network_filter_decrement_gauge(
                               envoy_, metric.envoy_id, amount)
                         : envoy_dynamic_module_callback_network_filter_increment_gauge(
                               envoy_, metric.envoy_id, amount);
    }
    break;
  case DefinedMetric::Kind::Histogram:
    if (op == bridge::MetricOp::Record) {
      result = envoy_dynamic_module_callback_network_filter_record_histogram_value(
          envoy_, metric.envoy_id, amount);
    }
    break;
  }
  return result == envoy_dynamic_module_type_metrics_result_Success;
}

}  // namespace envoy_ts::module
