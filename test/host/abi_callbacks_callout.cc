// The HTTP callout callbacks Envoy exports to HTTP filter modules: one-shot callouts (Envoy's
// abi_impl.cc envoy_dynamic_module_callback_http_filter_http_callout, then
// DynamicModuleHttpFilter::sendHttpCallout) and streaming ones (start_http_stream,
// http_stream_send_data / _send_trailers, reset_http_stream, then DynamicModuleHttpFilter's
// startHttpStream / sendStreamData / sendStreamTrailers / resetHttpStream).
#include <string>
#include <vector>

#include "header_map.h"
#include "http_filter.h"
#include "native/abi/http_filter.h"

using EnvoyTsHost::HeaderMap;
using EnvoyTsHost::HttpFilter;

namespace {

std::string toString(const char* data, size_t length) {
  return data == nullptr ? std::string() : std::string(data, length);
}

// Like Envoy: the headers are copied with lowercased keys (a RequestHeaderMap / trailer map).
std::vector<HeaderMap::Entry> copyHeaders(envoy_dynamic_module_type_module_http_header* headers,
                                          size_t size) {
  std::vector<HeaderMap::Entry> entries;
  for (size_t i = 0; headers != nullptr && i < size; ++i) {
    entries.emplace_back(EnvoyTsHost::toLower(toString(headers[i].key_ptr, headers[i].key_length)),
                         toString(headers[i].value_ptr, headers[i].value_length));
  }
  return entries;
}

// :method, :path and host (:authority, the same header in Envoy's RequestHeaderMap).
bool hasRequiredHeaders(const std::vector<HeaderMap::Entry>& entries) {
  bool has_method = false;
  bool has_path = false;
  bool has_host = false;
  for (const HeaderMap::Entry& entry : entries) {
    has_method = has_method || entry.first == ":method";
    has_path = has_path || entry.first == ":path";
    has_host = has_host || entry.first == "host" || entry.first == ":authority";
  }
  return has_method && has_path && has_host;
}

} // namespace

extern "C" {

__attribute__((visibility("default"))) envoy_dynamic_module_type_http_callout_init_result
envoy_dynamic_module_callback_http_filter_http_callout(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy, uint64_t* callout_id,
    envoy_dynamic_module_type_module_buffer cluster_name,
    envoy_dynamic_module_type_module_http_header* headers, size_t headers_size,
    envoy_dynamic_module_type_module_buffer body, uint64_t timeout_milliseconds) {
  HttpFilter* filter = HttpFilter::fromEnvoyPtr(filter_envoy);
  // The required headers are checked before the cluster is looked up, as in Envoy.
  std::vector<HeaderMap::Entry> entries = copyHeaders(headers, headers_size);
  if (!hasRequiredHeaders(entries)) {
    return envoy_dynamic_module_type_http_callout_init_result_MissingRequiredHeaders;
  }
  return filter->startCallout(callout_id, toString(cluster_name.ptr, cluster_name.length),
                              std::move(entries), toString(body.ptr, body.length),
                              timeout_milliseconds);
}

__attribute__((visibility("default"))) envoy_dynamic_module_type_http_callout_init_result
envoy_dynamic_module_callback_http_filter_start_http_stream(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy, uint64_t* stream_id,
    envoy_dynamic_module_type_module_buffer cluster_name,
    envoy_dynamic_module_type_module_http_header* headers, size_t headers_size,
    envoy_dynamic_module_type_module_buffer body, bool end_stream, uint64_t timeout_milliseconds) {
  HttpFilter* filter = HttpFilter::fromEnvoyPtr(filter_envoy);
  std::vector<HeaderMap::Entry> entries = copyHeaders(headers, headers_size);
  if (!hasRequiredHeaders(entries)) {
    return envoy_dynamic_module_type_http_callout_init_result_MissingRequiredHeaders;
  }
  // Unlike the one-shot callout, no content-length is added: the request streams.
  return filter->startHttpStream(stream_id, toString(cluster_name.ptr, cluster_name.length),
                                 entries, toString(body.ptr, body.length), end_stream,
                                 timeout_milliseconds);
}

__attribute__((visibility("default"))) bool envoy_dynamic_module_callback_http_stream_send_data(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy, uint64_t stream_id,
    envoy_dynamic_module_type_module_buffer data, bool end_stream) {
  return HttpFilter::fromEnvoyPtr(filter_envoy)
      ->sendHttpStreamData(stream_id, toString(data.ptr, data.length), end_stream);
}

__attribute__((visibility("default"))) bool
envoy_dynamic_module_callback_http_stream_send_trailers(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy, uint64_t stream_id,
    envoy_dynamic_module_type_module_http_header* trailers, size_t trailers_size) {
  return HttpFilter::fromEnvoyPtr(filter_envoy)
      ->sendHttpStreamTrailers(stream_id, copyHeaders(trailers, trailers_size));
}

__attribute__((visibility("default"))) void
envoy_dynamic_module_callback_http_filter_reset_http_stream(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy, uint64_t stream_id) {
  HttpFilter::fromEnvoyPtr(filter_envoy)->resetHttpStream(stream_id);
}

} // extern "C"
