// A network filter module without on_network_filter_event (required): the host must refuse it
// and name the symbol.
#include "native/abi/network_filter.h"

ENVOY_TS_HOOK const char* envoy_dynamic_module_on_program_init(void) {
  return ENVOY_TS_TARGET_ABI_VERSION;
}

ENVOY_TS_HOOK envoy_dynamic_module_type_network_filter_config_module_ptr
envoy_dynamic_module_on_network_filter_config_new(
    envoy_dynamic_module_type_network_filter_config_envoy_ptr config_envoy,
    envoy_dynamic_module_type_envoy_buffer name, envoy_dynamic_module_type_envoy_buffer config) {
  static const char config_module = 0;
  return &config_module;
}

ENVOY_TS_HOOK void envoy_dynamic_module_on_network_filter_config_destroy(
    envoy_dynamic_module_type_network_filter_config_module_ptr config_module) {}

ENVOY_TS_HOOK envoy_dynamic_module_type_network_filter_module_ptr
envoy_dynamic_module_on_network_filter_new(
    envoy_dynamic_module_type_network_filter_config_module_ptr config_module,
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy) {
  return config_module;
}

ENVOY_TS_HOOK envoy_dynamic_module_type_on_network_filter_data_status
envoy_dynamic_module_on_network_filter_new_connection(
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_network_filter_module_ptr filter_module) {
  return envoy_dynamic_module_type_on_network_filter_data_status_Continue;
}

ENVOY_TS_HOOK envoy_dynamic_module_type_on_network_filter_data_status
envoy_dynamic_module_on_network_filter_read(
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_network_filter_module_ptr filter_module, size_t data_length,
    bool end_stream) {
  return envoy_dynamic_module_type_on_network_filter_data_status_Continue;
}

ENVOY_TS_HOOK envoy_dynamic_module_type_on_network_filter_data_status
envoy_dynamic_module_on_network_filter_write(
    envoy_dynamic_module_type_network_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_network_filter_module_ptr filter_module, size_t data_length,
    bool end_stream) {
  return envoy_dynamic_module_type_on_network_filter_data_status_Continue;
}

ENVOY_TS_HOOK void envoy_dynamic_module_on_network_filter_destroy(
    envoy_dynamic_module_type_network_filter_module_ptr filter_module) {}
