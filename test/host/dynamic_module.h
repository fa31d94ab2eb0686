#pragma once

#include <memory>
#include <string>

#include "native/abi/http_filter.h"
#include "native/abi/network_filter.h"

namespace EnvoyTsHost {

// The HTTP filter hooks of one module, resolved like Envoy's newDynamicModuleHttpFilterConfig.
struct HttpFilterHooks {
  decltype(&envoy_dynamic_module_on_http_filter_config_new) config_new;
  decltype(&envoy_dynamic_module_on_http_filter_config_destroy) config_destroy;
  decltype(&envoy_dynamic_module_on_http_filter_new) filter_new;
  decltype(&envoy_dynamic_module_on_http_filter_request_headers) request_headers;
  decltype(&envoy_dynamic_module_on_http_filter_request_body) request_body;
  decltype(&envoy_dynamic_module_on_http_filter_request_trailers) request_trailers;
  decltype(&envoy_dynamic_module_on_http_filter_response_headers) response_headers;
  decltype(&envoy_dynamic_module_on_http_filter_response_body) response_body;
  decltype(&envoy_dynamic_module_on_http_filter_response_trailers) response_trailers;
  decltype(&envoy_dynamic_module_on_http_filter_stream_complete) stream_complete;
  decltype(&envoy_dynamic_module_on_http_filter_destroy) destroy;
  decltype(&envoy_dynamic_module_on_http_filter_scheduled) scheduled;
  decltype(&envoy_dynamic_module_on_http_filter_http_callout_done) http_callout_done;
  decltype(&envoy_dynamic_module_on_http_filter_http_stream_headers) http_stream_headers;
  decltype(&envoy_dynamic_module_on_http_filter_http_stream_data) http_stream_data;
  decltype(&envoy_dynamic_module_on_http_filter_http_stream_trailers) http_stream_trailers;
  decltype(&envoy_dynamic_module_on_http_filter_http_stream_complete) http_stream_complete;
  decltype(&envoy_dynamic_module_on_http_filter_http_stream_reset) http_stream_reset;
};

// The two per-route config hooks of one module, resolved like Envoy's
// newDynamicModuleHttpPerRouteConfig: only when a DynamicModuleFilterPerRoute uses the module, so a
// module without them still loads as an HTTP filter.
struct HttpPerRouteConfigHooks {
  decltype(&envoy_dynamic_module_on_http_filter_per_route_config_new) config_new;
  decltype(&envoy_dynamic_module_on_http_filter_per_route_config_destroy) config_destroy;
};

// The network filter hooks of one module, resolved like Envoy's newDynamicModuleNetworkFilterConfig:
// the first eight are required; the others are optional (Envoy versions differ) and never called
// when missing.
struct NetworkFilterHooks {
  decltype(&envoy_dynamic_module_on_network_filter_config_new) config_new;
  decltype(&envoy_dynamic_module_on_network_filter_config_destroy) config_destroy;
  decltype(&envoy_dynamic_module_on_network_filter_new) filter_new;
  decltype(&envoy_dynamic_module_on_network_filter_new_connection) new_connection;
  decltype(&envoy_dynamic_module_on_network_filter_read) read;
  decltype(&envoy_dynamic_module_on_network_filter_write) write;
  decltype(&envoy_dynamic_module_on_network_filter_event) event;
  decltype(&envoy_dynamic_module_on_network_filter_destroy) destroy;
  decltype(&envoy_dynamic_module_on_network_filter_scheduled) scheduled;               // Optional.
  decltype(&envoy_dynamic_module_on_network_filter_config_scheduled) config_scheduled; // Optional.
  decltype(&envoy_dynamic_module_on_network_filter_http_callout_done) http_callout_done; // Optional.
  decltype(&envoy_dynamic_module_on_network_filter_above_write_buffer_high_watermark)
      above_write_buffer_high_watermark; // Optional.
  decltype(&envoy_dynamic_module_on_network_filter_below_write_buffer_low_watermark)
      below_write_buffer_low_watermark; // Optional.
};

// A loaded module (Envoy's DynamicModule): the dlopen handle, closed on destruction.
class DynamicModule {
public:
  ~DynamicModule();

  // Finds lib<name>.so like Envoy, dlopens it and calls program_init unless the module was already
  // resident. Returns nullptr with `error` set.
  static std::shared_ptr<DynamicModule> load(const std::string& name, bool do_not_close,
                                             bool load_globally, std::string& error);

  // Resolves every HTTP filter hook (the watermark ones are required too, as in Envoy, though the
  // host never calls them). False with `error` naming the missing symbol.
  bool resolveHttpFilterHooks(HttpFilterHooks& hooks, std::string& error) const;

  // Resolves both per-route config hooks. False with `error` naming the first missing symbol.
  bool resolveHttpPerRouteConfigHooks(HttpPerRouteConfigHooks& hooks, std::string& error) const;

  // Resolves the network filter hooks. False with `error` naming the first missing required one.
  bool resolveNetworkFilterHooks(NetworkFilterHooks& hooks, std::string& error) const;

  const std::string& path() const { return path_; }

private:
  DynamicModule(void* handle, std::string path) : handle_(handle), path_(std::move(path)) {}

  void* handle_;
  std::string path_;
};

using DynamicModuleSharedPtr = std::shared_ptr<DynamicModule>;

} // namespace EnvoyTsHost
