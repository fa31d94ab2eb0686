// Token buckets shared by every environment of the process: rate limits that hold across Envoy
// workers (module-level JS state is per worker).
#pragma once

#include <cstdint>
#include <string>

namespace envoy_ts::runtime {

class SharedTokenBuckets {
 public:
  // Takes `cost` tokens from the bucket `key` (refilled at `rate_per_second`, holding at most
  // `burst`). Returns 0 when taken, else how many milliseconds until they would be available.
  static uint64_t take(const std::string& key, double rate_per_second, double burst, double cost);
};

}  // namespace envoy_ts::runtime
