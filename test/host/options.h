#pragma once

#include <cstdint>
#include <string>

#include "drain_decision.h"
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
  // Envoy's --drain-time-s (default 600) and --drain-strategy (gradual, the default, or
  // immediate): how long, and how eagerly, the connections of a listener replaced or removed by a
  // reload drain before the rest are closed.
  uint32_t drain_time_s{600};
  DrainStrategy drain_strategy{DrainStrategy::Gradual};
};

// Parses argv like Envoy: unknown flags are an error. Returns false with `error` set.
bool parseOptions(int argc, char** argv, Options& options, std::string& error);

} // namespace EnvoyTsHost
