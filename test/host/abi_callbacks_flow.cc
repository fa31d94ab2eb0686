// Filter-chain control callbacks (continue, local reply) Envoy exports to HTTP filter modules.
#include "filter_manager.h"
#include "native/abi/http_filter.h"

using EnvoyTsHost::HttpFilter;

extern "C" {

__attribute__((visibility("default"))) void envoy_dynamic_module_callback_http_send_response(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy, uint32_t status_code,
    envoy_dynamic_module_type_module_http_header* headers, size_t headers_size,
    envoy_dynamic_module_type_module_buffer body, envoy_dynamic_module_type_module_buffer details) {
  HttpFilter* filter = HttpFilter::fromEnvoyPtr(filter_envoy);
  std::vector<EnvoyTsHost::HeaderMap::Entry> reply_headers;
  for (size_t i = 0; headers != nullptr && i < headers_size; ++i) {
    if (headers[i].key_ptr == nullptr) {
      continue;
    }
    reply_headers.emplace_back(
        std::string(headers[i].key_ptr, headers[i].key_length),
        headers[i].value_ptr == nullptr ? std::string()
                                        : std::string(headers[i].value_ptr, headers[i].value_length));
  }
  filter->manager().sendLocalReply(
      status_code, reply_headers, body.ptr == nullptr ? "" : std::string(body.ptr, body.length),
      details.ptr == nullptr ? "" : std::string(details.ptr, details.length));
}

__attribute__((visibility("default"))) void envoy_dynamic_module_callback_http_filter_continue_decoding(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy) {
  HttpFilter* filter = HttpFilter::fromEnvoyPtr(filter_envoy);
  filter->manager().continueIteration(true, *filter);
}

__attribute__((visibility("default"))) void envoy_dynamic_module_callback_http_filter_continue_encoding(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy) {
  HttpFilter* filter = HttpFilter::fromEnvoyPtr(filter_envoy);
  filter->manager().continueIteration(false, *filter);
}

} // extern "C"
