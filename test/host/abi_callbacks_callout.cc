// The one-shot HTTP callout callback Envoy exports to HTTP filter modules (Envoy's abi_impl.cc
// envoy_dynamic_module_callback_http_filter_http_callout, then
// DynamicModuleHttpFilter::sendHttpCallout).
#include <string>
#include <vector>

#include "header_map.h"
#include "http_filter.h"
#include "native/abi/http_filter.h"

using EnvoyTsHost::HeaderMap;
using EnvoyTsHost::HttpFilter;

extern "C" {

__attribute__((visibility("default"))) envoy_dynamic_module_type_http_callout_init_result
envoy_dynamic_module_callback_http_filter_http_callout(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy, uint64_t* callout_id,
    envoy_dynamic_module_type_module_buffer cluster_name,
    envoy_dynamic_module_type_module_http_header* headers, size_t headers_size,
    envoy_dynamic_module_type_module_buffer body, uint64_t timeout_milliseconds) {
  HttpFilter* filter = HttpFilter::fromEnvoyPtr(filter_envoy);
  // Like Envoy: the headers are copied with lowercased keys (a RequestHeaderMap, where `host` is
  // :authority), and the required ones are checked before the cluster is looked up.
  std::vector<HeaderMap::Entry> entries;
  bool has_method = false;
  bool has_path = false;
  bool has_host = false;
  for (size_t i = 0; headers != nullptr && i < headers_size; ++i) {
    std::string key = EnvoyTsHost::toLower(headers[i].key_ptr == nullptr
                                               ? std::string()
                                               : std::string(headers[i].key_ptr,
                                                             headers[i].key_length));
    std::string value = headers[i].value_ptr == nullptr
                            ? std::string()
                            : std::string(headers[i].value_ptr, headers[i].value_length);
    has_method = has_method || key == ":method";
    has_path = has_path || key == ":path";
    has_host = has_host || key == "host" || key == ":authority";
    entries.emplace_back(std::move(key), std::move(value));
  }
  if (!has_method || !has_path || !has_host) {
    return envoy_dynamic_module_type_http_callout_init_result_MissingRequiredHeaders;
  }
  const std::string cluster = cluster_name.ptr == nullptr
                                  ? std::string()
                                  : std::string(cluster_name.ptr, cluster_name.length);
  const std::string bytes =
      body.ptr == nullptr ? std::string() : std::string(body.ptr, body.length);
  return filter->startCallout(callout_id, cluster, entries, bytes, timeout_milliseconds);
}

} // extern "C"
