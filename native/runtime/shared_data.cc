#include "native/runtime/shared_data.h"

#include <mutex>
#include <unordered_map>

namespace envoy_ts::runtime {
namespace {

struct Store {
  std::mutex mu;
  std::unordered_map<std::string, SharedData::Value> values;  // guarded by mu
  uint32_t next_cas = 1;                                       // guarded by mu
};

// Leaked on purpose: workers may use it until the process exits.
Store& store() {
  static Store* instance = new Store();
  return *instance;
}

}  // namespace

std::optional<SharedData::Value> SharedData::get(const std::string& key) {
  Store& s = store();
  std::lock_guard<std::mutex> lock(s.mu);
  auto it = s.values.find(key);
  if (it == s.values.end()) {
    return std::nullopt;
  }
  return it->second;
}

bool SharedData::set(const std::string& key, std::string_view bytes, uint32_t cas) {
  Store& s = store();
  std::lock_guard<std::mutex> lock(s.mu);
  Value& value = s.values[key];
  if (cas != 0 && cas != value.cas) {
    return false;
  }
  value.bytes.assign(bytes);
  value.cas = s.next_cas++;
  if (s.next_cas == 0) {
    s.next_cas = 1;
  }
  return true;
}

}  // namespace envoy_ts::runtime
