#pragma once

#include "options.h"

namespace EnvoyTsHost {

// Runs the proxy from an envoy.yaml until SIGINT/SIGTERM or /quitquitquit. Returns the exit code.
int runServer(const Options& options);

} // namespace EnvoyTsHost
