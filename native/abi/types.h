// Common types of Envoy's dynamic-module C ABI, declared in our own words from the facts of Envoy's
// public header (source/extensions/dynamic_modules/abi/abi.h, Envoy v1.39/v1.40, ABI "v0.1.0").
// Only what envoy-ts uses is declared. Enum values are Envoy's and must not be reordered.
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// Marks the hooks a module exports: they stay visible when the module is built with hidden
// visibility (every other symbol of the module stays local).
#define ENVOY_TS_HOOK __attribute__((visibility("default")))

// The ABI version string envoy_dynamic_module_on_program_init returns.
#define ENVOY_TS_TARGET_ABI_VERSION "v0.1.0"

// Bytes owned by Envoy. Valid until the current hook returns, or until a setter changes them.
typedef struct envoy_dynamic_module_type_envoy_buffer {
  const char* ptr;
  size_t length;
} envoy_dynamic_module_type_envoy_buffer;

// Bytes owned by the module. Envoy copies them during the call that receives them.
typedef struct envoy_dynamic_module_type_module_buffer {
  const char* ptr;
  size_t length;
} envoy_dynamic_module_type_module_buffer;

// A header Envoy hands out (both views Envoy-owned).
typedef struct envoy_dynamic_module_type_envoy_http_header {
  const char* key_ptr;
  size_t key_length;
  const char* value_ptr;
  size_t value_length;
} envoy_dynamic_module_type_envoy_http_header;

// A header the module hands to Envoy (both views module-owned; Envoy copies them).
typedef struct envoy_dynamic_module_type_module_http_header {
  const char* key_ptr;
  size_t key_length;
  const char* value_ptr;
  size_t value_length;
} envoy_dynamic_module_type_module_http_header;

// Envoy's log levels (mirrors Envoy's spdlog levels).
typedef enum envoy_dynamic_module_type_log_level {
  envoy_dynamic_module_type_log_level_Trace = 0,
  envoy_dynamic_module_type_log_level_Debug = 1,
  envoy_dynamic_module_type_log_level_Info = 2,
  envoy_dynamic_module_type_log_level_Warn = 3,
  envoy_dynamic_module_type_log_level_Error = 4,
  envoy_dynamic_module_type_log_level_Critical = 5,
  envoy_dynamic_module_type_log_level_Off = 6,
} envoy_dynamic_module_type_log_level;

// Outcome of an HTTP callout (AsyncClient failure reasons plus success).
typedef enum envoy_dynamic_module_type_http_callout_result {
  envoy_dynamic_module_type_http_callout_result_Success = 0,
  envoy_dynamic_module_type_http_callout_result_Reset = 1,
  envoy_dynamic_module_type_http_callout_result_ExceedResponseBufferLimit = 2,
} envoy_dynamic_module_type_http_callout_result;

// ---- Hook the module exports ----

// Main thread, once, when Envoy loads the module. Returns the ABI version the module was built for;
// NULL makes the load fail. Envoy copies the string.
ENVOY_TS_HOOK const char* envoy_dynamic_module_on_program_init(void);

// ---- Callbacks Envoy exports ----

// Writes `message` to Envoy's log under the dynamic_modules logger. Any thread.
void envoy_dynamic_module_callback_log(envoy_dynamic_module_type_log_level level,
                                       envoy_dynamic_module_type_module_buffer message);

// Whether `level` is enabled for the dynamic_modules logger; cheap. Any thread.
bool envoy_dynamic_module_callback_log_enabled(envoy_dynamic_module_type_log_level level);

// Number of Envoy worker threads (--concurrency). Main thread only. Declared weak: older Envoys
// lack it, and Envoy >= 1.40 loads modules with RTLD_NOW.
uint32_t envoy_dynamic_module_callback_get_concurrency(void) __attribute__((weak));

#ifdef __cplusplus
}  // extern "C"
#endif
