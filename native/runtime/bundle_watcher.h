// Watch mode ("watch": true in a filter_config): one thread watches the folders of the watched
// configs' bundles and, once a bundle's folder has been quiet for a moment after a change, asks
// for that config's bundle to be reloaded (module::reloadWatchedConfig). Envoy is not involved.
#pragma once

#include <cstdint>
#include <string>

namespace envoy_ts::runtime {

class BundleWatcher {
 public:
  // Called on the watcher's thread, never on one of Envoy's. Returns false to be called again a
  // little later (nothing was there to validate the reload in yet).
  using OnChange = bool (*)(uint64_t config_id);

  // Once, in program_init.
  static void configure(OnChange on_change);

  // Main thread, config_new: reload config `config_id` when the file at `path` (resolved) changes.
  // Returns "" or why it cannot be watched.
  static std::string watch(uint64_t config_id, const std::string& path);
  // Main thread, config_destroy: stop watching for it. When it was the last one, the thread ends
  // (waiting for a reload it is running).
  static void unwatch(uint64_t config_id);
};

}  // namespace envoy_ts::runtime
