// Metric results shared by the HTTP and network parts of Envoy's dynamic-module C ABI.
#pragma once

#ifdef __cplusplus
extern "C" {
#endif

typedef enum envoy_dynamic_module_type_metrics_result {
  envoy_dynamic_module_type_metrics_result_Success = 0,
  envoy_dynamic_module_type_metrics_result_MetricNotFound = 1,
  envoy_dynamic_module_type_metrics_result_InvalidLabels = 2,
  envoy_dynamic_module_type_metrics_result_Frozen = 3,  // defined after config_new returned
} envoy_dynamic_module_type_metrics_result;

#ifdef __cplusplus
}  // extern "C"
#endif
