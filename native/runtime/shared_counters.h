// Counters shared by every environment of the process (module-level JS state is per worker).
#pragma once

#include <cstdint>
#include <string>

namespace envoy_ts::runtime {

class SharedCounters {
 public:
  // Atomically adds `delta` to `key` and returns the new value; a key at 0 is forgotten.
  static int64_t add(const std::string& key, int64_t delta);
  static int64_t get(const std::string& key);
};

}  // namespace envoy_ts::runtime
