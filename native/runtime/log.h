// The module's log: every layer writes through here; native/module points it at Envoy's logger.
#pragma once

#include <string>
#include <string_view>

namespace envoy_ts::runtime {

// Envoy's levels, same values as envoy_dynamic_module_type_log_level.
enum class LogLevel { Trace = 0, Debug = 1, Info = 2, Warn = 3, Error = 4, Critical = 5 };

struct LogSink {
  void (*write)(LogLevel level, std::string_view message);
  bool (*enabled)(LogLevel level);
};

// Installed once, in program_init, before anything logs. Until then logs go to stderr.
void setLogSink(LogSink sink);

bool logEnabled(LogLevel level);
// Prefixes "[envoy-ts] ".
void log(LogLevel level, std::string_view message);
// Writes `line` as it is: for callers that prefix their own lines (the JS runtime).
void writeLine(LogLevel level, std::string_view line);

}  // namespace envoy_ts::runtime
