// A key-value store shared by every environment of the process, with compare-and-swap versions:
// proxy-wasm's shared data (module-level JS state is per worker).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace envoy_ts::runtime {

class SharedData {
 public:
  struct Value {
    std::string bytes;
    // Changes with every write; never 0 (0 in a write means "whatever the current version").
    uint32_t cas = 0;
  };

  static std::optional<Value> get(const std::string& key);
  // Stores `bytes` unless `cas` is non-zero and not the key's current version (returns false).
  static bool set(const std::string& key, std::string_view bytes, uint32_t cas);
};

}  // namespace envoy_ts::runtime
