#pragma once

#include <cstdint>
#include <string>

#include "logger.h"

namespace EnvoyTsHost {

// The subset of Envoy's command line the host honours.
struct Options {
  std::string config_path;
  uint32_t concurrency{0};
  LogLevel log_level{LogLevel::Info};
  std::string script_path;
};

// Parses argv like Envoy: unknown flags are an error. Returns false with `error` set.
bool parseOptions(int argc, char** argv, Options& options, std::string& error);

} // namespace EnvoyTsHost
