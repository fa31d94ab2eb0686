// Logging and process callbacks Envoy exports to dynamic modules.
#include <string>

#include "logger.h"
#include "native/abi/types.h"
#include "server_info.h"

extern "C" {

__attribute__((visibility("default"))) void
envoy_dynamic_module_callback_log(envoy_dynamic_module_type_log_level level,
                                  envoy_dynamic_module_type_module_buffer message) {
  const auto host_level = static_cast<EnvoyTsHost::LogLevel>(level);
  if (level < envoy_dynamic_module_type_log_level_Trace ||
      level >= envoy_dynamic_module_type_log_level_Off || !EnvoyTsHost::Logger::enabled(host_level)) {
    return;
  }
  EnvoyTsHost::Logger::log(host_level, "dynamic_modules",
                           message.ptr == nullptr ? std::string()
                                                  : std::string(message.ptr, message.length));
}

__attribute__((visibility("default"))) bool
envoy_dynamic_module_callback_log_enabled(envoy_dynamic_module_type_log_level level) {
  return level >= envoy_dynamic_module_type_log_level_Trace &&
         level < envoy_dynamic_module_type_log_level_Off &&
         EnvoyTsHost::Logger::enabled(static_cast<EnvoyTsHost::LogLevel>(level));
}

__attribute__((visibility("default"))) uint32_t envoy_dynamic_module_callback_get_concurrency() {
  return EnvoyTsHost::ServerInfo::concurrency();
}

} // extern "C"
