#pragma once

#include "options.h"

namespace EnvoyTsHost {

// Scripted mode (--script): drives streams from a JSON scenario through the same module loading,
// worker dispatcher, filter manager and scheduler code, without sockets. Prints one JSON object
// with the results and timings on stdout. Returns the exit code.
int runScript(const Options& options);

} // namespace EnvoyTsHost
