#include "native/runtime/shared_token_buckets.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <mutex>
#include <unordered_map>

namespace envoy_ts::runtime {
namespace {

struct Bucket {
  double tokens;
  double rate;
  double burst;
  double updated;  // seconds, steady clock
};

struct Buckets {
  std::mutex mu;
  std::unordered_map<std::string, Bucket> map;  // guarded by mu
  uint64_t takes = 0;                           // guarded by mu
};

// Leaked on purpose: workers may use it until the process exits.
Buckets& buckets() {
  static Buckets* instance = new Buckets();
  return *instance;
}

double nowSeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// A bucket that has refilled completely is the same as no bucket: forget it.
constexpr uint64_t kSweepEvery = 4096;

void sweep(std::unordered_map<std::string, Bucket>& map, double now) {
  for (auto it = map.begin(); it != map.end();) {
    const Bucket& b = it->second;
    if (b.tokens + (now - b.updated) * b.rate >= b.burst) {
      it = map.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace

uint64_t SharedTokenBuckets::take(const std::string& key, double rate_per_second, double burst,
                                  double cost) {
  Buckets& all = buckets();
  const double now = nowSeconds();
  std::lock_guard<std::mutex> lock(all.mu);
  if (++all.takes % kSweepEvery == 0) {
    sweep(all.map, now);
  }
  auto [it, added] = all.map.try_emplace(key, Bucket{burst, rate_per_second, burst, now});
  Bucket& bucket = it->second;
  if (!added) {
    bucket.rate = rate_per_second;
    bucket.burst = burst;
    bucket.tokens = std::min(burst, bucket.tokens + (now - bucket.updated) * rate_per_second);
    bucket.updated = now;
  }
  if (bucket.tokens >= cost) {
    bucket.tokens -= cost;
    return 0;
  }
  return static_cast<uint64_t>(std::ceil((cost - bucket.tokens) / rate_per_second * 1000.0));
}

}  // namespace envoy_ts::runtime
