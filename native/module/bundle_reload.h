// Watch mode: a watched config's bundle changed on disk (runtime::BundleWatcher).
#pragma once

#include <cstdint>

namespace envoy_ts::module {

// Bundle watcher's thread. Validates the file's new version in a prepared worker environment (the
// spare) and, if it loads there, publishes it to every environment as the config's new revision:
// each worker loads it before its next stream, which gets the new chain, while streams already
// running keep theirs. A version that fails to load (a syntax error, a throw at its top level, a
// schema its config no longer passes, a metric Envoy did not define for the config) is rejected
// with a log line naming the problem, and the running version keeps serving. Returns false when
// no prepared environment was there to validate it in (the watcher tries again a little later).
bool reloadWatchedConfig(uint64_t config_id);

}  // namespace envoy_ts::module
