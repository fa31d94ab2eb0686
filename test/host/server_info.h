#pragma once

#include <cstdint>

namespace EnvoyTsHost {

// Process facts modules may query (set once at startup, before any module is loaded).
class ServerInfo {
public:
  static void setConcurrency(uint32_t concurrency) { concurrency_ = concurrency; }
  static uint32_t concurrency() { return concurrency_; }

private:
  static inline uint32_t concurrency_{1};
};

} // namespace EnvoyTsHost
