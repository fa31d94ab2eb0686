#pragma once

#include <cstdint>
#include <string>

#include "logger.h"

namespace EnvoyTsHost {

// Envoy's --mode: serve (the default) runs the proxy; validate builds the configuration (modules,
// filter and per-route configs) without opening sockets, reports the outcome and exits.
enum class Mode { Serve, Validate };

// The subset of Envoy's command line the host honours.
struct Options {
  Mode mode{Mode::Serve};
  std::string config_path;
  uint32_t concurrency{0};
  LogLevel log_level{LogLevel::Info};
  std::string script_path;
};

// Parses argv like Envoy: unknown flags are an error. Returns false with `error` set.
bool parseOptions(int argc, char** argv, Options& options, std::string& error);

} // namespace EnvoyTsHost
