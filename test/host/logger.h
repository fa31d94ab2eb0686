#pragma once

#include <string>

namespace EnvoyTsHost {

// Envoy's spdlog levels, in the order of the ABI's log_level enum.
enum class LogLevel { Trace = 0, Debug, Info, Warn, Error, Critical, Off };

// Process-wide logger writing Envoy-formatted lines to stderr. Thread-safe.
class Logger {
public:
  static void setLevel(LogLevel level);
  static bool enabled(LogLevel level);
  static void log(LogLevel level, const char* component, const std::string& message);
  // Parses an Envoy --log-level name; false when unknown.
  static bool parseLevel(const std::string& name, LogLevel& level);
};

} // namespace EnvoyTsHost

#define HOST_LOG(LEVEL, MSG)                                                                       \
  do {                                                                                             \
    if (::EnvoyTsHost::Logger::enabled(::EnvoyTsHost::LogLevel::LEVEL)) {                          \
      ::EnvoyTsHost::Logger::log(::EnvoyTsHost::LogLevel::LEVEL, "host", (MSG));                   \
    }                                                                                              \
  } while (false)
