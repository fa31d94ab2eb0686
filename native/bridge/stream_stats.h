// A stream's built-in stats as the runtime hands them over after each call into JS: summed per
// metric until the stream completes, when each is recorded once (a histogram gets one sample per
// stream: the sum of what its calls measured).
#pragma once

#include <cstdint>
#include <vector>

#include "native/bridge/codes.h"

namespace envoy_ts::bridge {

class StreamStats {
 public:
  struct Record {
    uint32_t index;  // into the config's metrics
    MetricOp op;
    int64_t value;
  };

  // Adds one [index, op, value] record: Increment, Add and Record sum up, Set keeps the latest.
  void add(uint32_t index, MetricOp op, int64_t value) {
    for (Record& record : records_) {
      if (record.index == index && record.op == op) {
        record.value = op == MetricOp::Set ? value : record.value + value;
        return;
      }
    }
    records_.push_back({index, op, value});
  }

  // The summed records, in the order they first came; then they are gone.
  std::vector<Record> take() {
    std::vector<Record> out;
    out.swap(records_);
    return out;
  }

 private:
  std::vector<Record> records_;
};

}  // namespace envoy_ts::bridge
