#include "native/bridge/stream_table.h"

namespace envoy_ts::bridge {

StreamRef StreamTable::open(HostBase* host, Kind kind) {
  uint32_t slot;
  if (free_slots_.empty()) {
    slot = static_cast<uint32_t>(entries_.size());
    entries_.emplace_back();
  } else {
    slot = free_slots_.back();
    free_slots_.pop_back();
  }
  Entry& entry = entries_[slot];
  entry.host = host;
  entry.kind = kind;
  return {slot, entry.gen};
}

void StreamTable::close(StreamRef ref) {
  Entry& entry = entries_[ref.slot];
  if (entry.host == nullptr || entry.gen != ref.gen) {
    return;
  }
  entry.host = nullptr;
  ++entry.gen;
  free_slots_.push_back(ref.slot);
}

}  // namespace envoy_ts::bridge
