// on_http_filter_config_new rejects every config: the host must exit 1, naming the filter's path.
#define PASSTHROUGH_SKIP_CONFIG_NEW
#include "passthrough.h"

ENVOY_TS_HOOK envoy_dynamic_module_type_http_filter_config_module_ptr
envoy_dynamic_module_on_http_filter_config_new(
    envoy_dynamic_module_type_http_filter_config_envoy_ptr config_envoy,
    envoy_dynamic_module_type_envoy_buffer name, envoy_dynamic_module_type_envoy_buffer config) {
  return NULL;
}
