#include "native/module/envoy_log.h"

#include "native/abi/types.h"

namespace envoy_ts::module {
namespace {

envoy_dynamic_module_type_log_level toEnvoy(runtime::LogLevel level) {
  return static_cast<envoy_dynamic_module_type_log_level>(level);
}

void write(runtime::LogLevel level, std::string_view message) {
  envoy_dynamic_module_callback_log(toEnvoy(level), {message.data(), message.size()});
}

bool enabled(runtime::LogLevel level) {
  return envoy_dynamic_module_callback_log_enabled(toEnvoy(level));
}

}  // namespace

runtime::LogSink envoyLogSink() { return {write, enabled}; }

}  // namespace envoy_ts::module
