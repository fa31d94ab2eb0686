// The streams of one environment, addressed from JS by (slot, generation).
#pragma once

#include <cstdint>
#include <vector>

#include "native/bridge/stream_host.h"

namespace envoy_ts::bridge {

struct StreamRef {
  uint32_t slot = 0;
  uint32_t gen = 0;
};

// JS holds (slot, gen) pairs, never pointers. Closing a stream bumps its slot's generation, so a
// call with a stale pair finds nothing instead of freed memory. HTTP streams and network
// connections share the table.
class StreamTable {
 public:
  enum class Kind { Http, Network };

  StreamRef open(HostBase* host, Kind kind);
  void close(StreamRef ref);

  struct Entry {
    HostBase* host = nullptr;
    Kind kind = Kind::Http;
    uint32_t gen = 1;

    StreamHost* http() const {
      return kind == Kind::Http ? static_cast<StreamHost*>(host) : nullptr;
    }
    ConnectionHost* connection() const {
      return kind == Kind::Network ? static_cast<ConnectionHost*>(host) : nullptr;
    }
  };
  size_t openCount() const { return entries_.size() - free_slots_.size(); }
  // Calls `fn(entry)` for every open stream.
  template <class Fn>
  void forEachOpen(Fn fn) {
    for (Entry& entry : entries_) {
      if (entry.host != nullptr) {
        fn(entry);
      }
    }
  }

  // Null when the stream is closed or the pair is stale.
  Entry* find(uint32_t slot, uint32_t gen) {
    if (slot >= entries_.size()) {
      return nullptr;
    }
    Entry& entry = entries_[slot];
    return entry.host != nullptr && entry.gen == gen ? &entry : nullptr;
  }

 private:
  std::vector<Entry> entries_;
  std::vector<uint32_t> free_slots_;
};

}  // namespace envoy_ts::bridge
