#pragma once

#include "options.h"

namespace EnvoyTsHost {

// Runs the proxy from an envoy.yaml until SIGINT/SIGTERM or /quitquitquit. Returns the exit code.
int runServer(const Options& options);

// --mode validate: builds the configuration exactly as runServer does at startup (modules,
// program_init, every filter and per-route config), without binding any socket or starting
// workers; prints "configuration '<path>' OK" to stdout and returns 0, or prints the error and
// returns 1. The configs are destroyed (config_destroy) before it returns.
int validateConfig(const Options& options);

} // namespace EnvoyTsHost
