#include "native/runtime/shared_counters.h"

#include <mutex>
#include <unordered_map>

namespace envoy_ts::runtime {
namespace {

struct Counters {
  std::mutex mu;
  std::unordered_map<std::string, int64_t> values;  // guarded by mu
};

// Leaked on purpose: workers may use it until the process exits.
Counters& counters() {
  static Counters* instance = new Counters();
  return *instance;
}

}  // namespace

int64_t SharedCounters::add(const std::string& key, int64_t delta) {
  Counters& c = counters();
  std::lock_guard<std::mutex> lock(c.mu);
  int64_t value = (c.values[key] += delta);
  if (value == 0) {
    c.values.erase(key);
  }
  return value;
}

int64_t SharedCounters::get(const std::string& key) {
  Counters& c = counters();
  std::lock_guard<std::mutex> lock(c.mu);
  auto it = c.values.find(key);
  return it == c.values.end() ? 0 : it->second;
}

}  // namespace envoy_ts::runtime
