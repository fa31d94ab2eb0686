// A stream's built-in stats as the runtime hands them over after each call into JS: summed per
// metric until the stream completes, when each is recorded once (a histogram gets one sample per
// stream: the sum of what its calls measured).
#pragma once

#include <array>
#include <cstddef>
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
    for (size_t i = 0; i < count_; ++i) {
      Record& record = at(i);
      if (record.index == index && record.op == op) {
        record.value = op == MetricOp::Set ? value : record.value + value;
        return;
      }
    }
    if (count_ < kInline) {
      inline_[count_] = {index, op, value};
    } else {
      overflow_.push_back({index, op, value});
    }
    ++count_;
  }

  // Hands `take` each summed record, in the order they first came; then they are gone.
  template <class Take>
  void takeEach(Take take) {
    const size_t count = count_;
    count_ = 0;
    for (size_t i = 0; i < count; ++i) {
      take(at(i));
    }
    overflow_.clear();
  }

 private:
  // A filter leaves two records per stream (hook calls and hook time), three when a hook waited:
  // chains of a few filters fit without an allocation per stream.
  static constexpr size_t kInline = 8;

  Record& at(size_t i) { return i < kInline ? inline_[i] : overflow_[i - kInline]; }

  std::array<Record, kInline> inline_;
  std::vector<Record> overflow_;
  size_t count_ = 0;
};

}  // namespace envoy_ts::bridge
