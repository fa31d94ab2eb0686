// The per-stream HTTP hooks Envoy calls (worker thread). Each unwraps the stream and makes one
// call; downstream watermarks need nothing (the chain is never a terminal filter).
#include <string>

#include "native/abi/http_filter.h"
#include "native/module/http_filter_config.h"
#include "native/module/http_stream.h"
#include "native/runtime/environment_pool.h"
#include "native/runtime/log.h"

using envoy_ts::module::HttpFilterConfig;
using envoy_ts::bridge::FetchStreamEvent;
using envoy_ts::module::HttpStream;

using envoy_ts::bridge::BufferKind;
using envoy_ts::module::BodyStatus;
using envoy_ts::module::HeadersStatus;

namespace {

HttpStream* streamOf(envoy_dynamic_module_type_http_filter_module_ptr filter_module) {
  return static_cast<HttpStream*>(const_cast<void*>(filter_module));
}

// The stream's answers in Envoy's values (the request and response statuses share theirs).
template <class Status>
Status headersStatus(HeadersStatus status, Status continue_value, Status stop_value) {
  return status == HeadersStatus::Continue ? continue_value : stop_value;
}

envoy_dynamic_module_type_on_http_filter_request_body_status bodyStatus(BodyStatus status) {
  switch (status) {
  case BodyStatus::Continue:
    return envoy_dynamic_module_type_on_http_filter_request_body_status_Continue;
  case BodyStatus::StopIterationAndBuffer:
    return envoy_dynamic_module_type_on_http_filter_request_body_status_StopIterationAndBuffer;
  case BodyStatus::StopIterationAndWatermark:
    return envoy_dynamic_module_type_on_http_filter_request_body_status_StopIterationAndWatermark;
  case BodyStatus::StopIterationNoBuffer:
    break;
  }
  return envoy_dynamic_module_type_on_http_filter_request_body_status_StopIterationNoBuffer;
}

static_assert(envoy_dynamic_module_type_on_http_filter_request_body_status_Continue ==
              static_cast<int>(envoy_dynamic_module_type_on_http_filter_response_body_status_Continue));
static_assert(envoy_dynamic_module_type_on_http_filter_request_body_status_StopIterationAndBuffer ==
              static_cast<int>(envoy_dynamic_module_type_on_http_filter_response_body_status_StopIterationAndBuffer));
static_assert(envoy_dynamic_module_type_on_http_filter_request_body_status_StopIterationAndWatermark ==
              static_cast<int>(envoy_dynamic_module_type_on_http_filter_response_body_status_StopIterationAndWatermark));
static_assert(envoy_dynamic_module_type_on_http_filter_request_body_status_StopIterationNoBuffer ==
              static_cast<int>(envoy_dynamic_module_type_on_http_filter_response_body_status_StopIterationNoBuffer));

}  // namespace

extern "C" {

envoy_dynamic_module_type_http_filter_module_ptr envoy_dynamic_module_on_http_filter_new(
    envoy_dynamic_module_type_http_filter_config_module_ptr config_module,
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy) {
  using namespace envoy_ts;
  std::string error;
  runtime::Environment* env = runtime::EnvironmentPool::forWorkerThread(error);
  if (env == nullptr) {
    runtime::log(runtime::LogLevel::Error, "no Node.js environment for this worker: " + error);
    return nullptr;  // Envoy closes the stream
  }
  const auto& config = *static_cast<const HttpFilterConfig*>(config_module);
  bridge::Bridge& bridge = bridge::Bridge::of(*env);
  // Configs changed (an update, a reload): a stream that needs the change loads it now; one that
  // runs its config as it is has its environment load the change right after its first hook.
  const bool behind = bridge.configsBehind();
  const bool ahead = behind && bridge.runsLatest(config.id);
  if (behind && !ahead) {
    runtime::Environment::CallScope scope(*env);
    bridge.syncConfigs(bridge::Bridge::SyncOccasion::StreamStart);
  }
  auto* stream = new HttpStream(config, filter_envoy, *env);
  if (ahead) {
    stream->loadConfigsAhead();
  }
  return stream;
}

envoy_dynamic_module_type_on_http_filter_request_headers_status
envoy_dynamic_module_on_http_filter_request_headers(
    envoy_dynamic_module_type_http_filter_envoy_ptr,
    envoy_dynamic_module_type_http_filter_module_ptr filter_module, bool end_of_stream) {
  HttpStream* stream = streamOf(filter_module);
  stream->commitConfigLoad();
  return headersStatus(stream->core().onRequestHeaders(end_of_stream),
                       envoy_dynamic_module_type_on_http_filter_request_headers_status_Continue,
                       envoy_dynamic_module_type_on_http_filter_request_headers_status_StopIteration);
}

envoy_dynamic_module_type_on_http_filter_response_headers_status
envoy_dynamic_module_on_http_filter_response_headers(
    envoy_dynamic_module_type_http_filter_envoy_ptr,
    envoy_dynamic_module_type_http_filter_module_ptr filter_module, bool end_of_stream) {
  return headersStatus(streamOf(filter_module)->core().onResponseHeaders(end_of_stream),
                       envoy_dynamic_module_type_on_http_filter_response_headers_status_Continue,
                       envoy_dynamic_module_type_on_http_filter_response_headers_status_StopIteration);
}

envoy_dynamic_module_type_on_http_filter_request_body_status
envoy_dynamic_module_on_http_filter_request_body(
    envoy_dynamic_module_type_http_filter_envoy_ptr,
    envoy_dynamic_module_type_http_filter_module_ptr filter_module, bool end_of_stream) {
  return bodyStatus(streamOf(filter_module)->core().onBody(BufferKind::Read, end_of_stream));
}

envoy_dynamic_module_type_on_http_filter_request_trailers_status
envoy_dynamic_module_on_http_filter_request_trailers(
    envoy_dynamic_module_type_http_filter_envoy_ptr,
    envoy_dynamic_module_type_http_filter_module_ptr filter_module) {
  return headersStatus(streamOf(filter_module)->core().onTrailers(BufferKind::Read),
                       envoy_dynamic_module_type_on_http_filter_request_trailers_status_Continue,
                       envoy_dynamic_module_type_on_http_filter_request_trailers_status_StopIteration);
}

envoy_dynamic_module_type_on_http_filter_response_body_status
envoy_dynamic_module_on_http_filter_response_body(
    envoy_dynamic_module_type_http_filter_envoy_ptr,
    envoy_dynamic_module_type_http_filter_module_ptr filter_module, bool end_of_stream) {
  return static_cast<envoy_dynamic_module_type_on_http_filter_response_body_status>(
      bodyStatus(streamOf(filter_module)->core().onBody(BufferKind::Write, end_of_stream)));
}

envoy_dynamic_module_type_on_http_filter_response_trailers_status
envoy_dynamic_module_on_http_filter_response_trailers(
    envoy_dynamic_module_type_http_filter_envoy_ptr,
    envoy_dynamic_module_type_http_filter_module_ptr filter_module) {
  return headersStatus(streamOf(filter_module)->core().onTrailers(BufferKind::Write),
                       envoy_dynamic_module_type_on_http_filter_response_trailers_status_Continue,
                       envoy_dynamic_module_type_on_http_filter_response_trailers_status_StopIteration);
}

void envoy_dynamic_module_on_http_filter_stream_complete(
    envoy_dynamic_module_type_http_filter_envoy_ptr,
    envoy_dynamic_module_type_http_filter_module_ptr filter_module) {
  streamOf(filter_module)->core().onStreamComplete();
}

void envoy_dynamic_module_on_http_filter_destroy(
    envoy_dynamic_module_type_http_filter_module_ptr filter_module) {
  streamOf(filter_module)->onDestroy();
}

void envoy_dynamic_module_on_http_filter_scheduled(
    envoy_dynamic_module_type_http_filter_envoy_ptr,
    envoy_dynamic_module_type_http_filter_module_ptr filter_module, uint64_t event_id) {
  HttpStream* stream = streamOf(filter_module);
  if (event_id == HttpStream::kLoadConfigsEvent) {
    stream->loadConfigs(envoy_ts::bridge::Bridge::SyncOccasion::AheadOfStreams);
    return;
  }
  stream->core().onScheduledEvent(event_id);
}

void envoy_dynamic_module_on_http_filter_http_callout_done(
    envoy_dynamic_module_type_http_filter_envoy_ptr,
    envoy_dynamic_module_type_http_filter_module_ptr filter_module, uint64_t callout_id,
    envoy_dynamic_module_type_http_callout_result result,
    envoy_dynamic_module_type_envoy_http_header* headers, size_t headers_size,
    envoy_dynamic_module_type_envoy_buffer* body_chunks, size_t body_chunks_size) {
  streamOf(filter_module)->onCalloutDone(callout_id, result, headers, headers_size, body_chunks,
                                         body_chunks_size);
}

void envoy_dynamic_module_on_http_filter_http_stream_headers(
    envoy_dynamic_module_type_http_filter_envoy_ptr,
    envoy_dynamic_module_type_http_filter_module_ptr filter_module, uint64_t stream_id,
    envoy_dynamic_module_type_envoy_http_header* headers, size_t headers_size, bool end_stream) {
  streamOf(filter_module)->onFetchStreamEvent(stream_id, FetchStreamEvent::Headers, headers,
                                              headers_size, nullptr, 0, end_stream, 0);
}

void envoy_dynamic_module_on_http_filter_http_stream_data(
    envoy_dynamic_module_type_http_filter_envoy_ptr,
    envoy_dynamic_module_type_http_filter_module_ptr filter_module, uint64_t stream_id,
    const envoy_dynamic_module_type_envoy_buffer* data, size_t data_count, bool end_stream) {
  streamOf(filter_module)->onFetchStreamEvent(stream_id, FetchStreamEvent::Data, nullptr, 0, data,
                                              data_count, end_stream, 0);
}

void envoy_dynamic_module_on_http_filter_http_stream_trailers(
    envoy_dynamic_module_type_http_filter_envoy_ptr,
    envoy_dynamic_module_type_http_filter_module_ptr filter_module, uint64_t stream_id,
    envoy_dynamic_module_type_envoy_http_header* trailers, size_t trailers_size) {
  streamOf(filter_module)->onFetchStreamEvent(stream_id, FetchStreamEvent::Trailers, trailers,
                                              trailers_size, nullptr, 0, true, 0);
}

void envoy_dynamic_module_on_http_filter_http_stream_complete(
    envoy_dynamic_module_type_http_filter_envoy_ptr,
    envoy_dynamic_module_type_http_filter_module_ptr filter_module, uint64_t stream_id) {
  streamOf(filter_module)->onFetchStreamEvent(stream_id, FetchStreamEvent::Complete, nullptr, 0,
                                              nullptr, 0, true, 0);
}

void envoy_dynamic_module_on_http_filter_http_stream_reset(
    envoy_dynamic_module_type_http_filter_envoy_ptr,
    envoy_dynamic_module_type_http_filter_module_ptr filter_module, uint64_t stream_id,
    envoy_dynamic_module_type_http_stream_reset_reason reason) {
  streamOf(filter_module)->onFetchStreamEvent(stream_id, FetchStreamEvent::Reset, nullptr, 0,
                                              nullptr, 0, true, static_cast<uint32_t>(reason));
}

// The chain is never a terminal filter, so downstream watermarks need no action.
void envoy_dynamic_module_on_http_filter_downstream_above_write_buffer_high_watermark(
    envoy_dynamic_module_type_http_filter_envoy_ptr,
    envoy_dynamic_module_type_http_filter_module_ptr) {}

void envoy_dynamic_module_on_http_filter_downstream_below_write_buffer_low_watermark(
    envoy_dynamic_module_type_http_filter_envoy_ptr,
    envoy_dynamic_module_type_http_filter_module_ptr) {}

}  // extern "C"
