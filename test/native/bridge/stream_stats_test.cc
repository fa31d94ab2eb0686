// A stream's built-in stats as the native side sums them: one record per metric and operation,
// Increment, Add and Record summed and Set keeping the latest, handed over once in the order they
// first came, beyond the records kept inline as well.
#include "native/bridge/stream_stats.h"

#include <vector>

#include "test/native/check.h"

using envoy_ts::bridge::MetricOp;
using envoy_ts::bridge::StreamStats;

namespace {

std::vector<StreamStats::Record> taken(StreamStats& stats) {
  std::vector<StreamStats::Record> out;
  stats.takeEach([&](const StreamStats::Record& record) { out.push_back(record); });
  return out;
}

}  // namespace

TEST(stream_stats_sum_per_metric_and_keep_the_latest_set) {
  StreamStats stats;
  stats.add(0, MetricOp::Increment, 1);
  stats.add(1, MetricOp::Record, 120);
  stats.add(0, MetricOp::Increment, 1);
  stats.add(1, MetricOp::Record, 30);
  stats.add(2, MetricOp::Set, 5);
  stats.add(2, MetricOp::Set, 3);
  stats.add(3, MetricOp::Add, 1);
  stats.add(3, MetricOp::Add, -1);
  const std::vector<StreamStats::Record> records = taken(stats);
  CHECK_EQ(records.size(), 4u);
  CHECK_EQ(records[0].index, 0u);
  CHECK_EQ(records[0].value, 2);
  CHECK_EQ(records[1].index, 1u);
  CHECK_EQ(records[1].value, 150);
  CHECK_EQ(records[2].value, 3);
  CHECK_EQ(records[3].value, 0);
  CHECK_EQ(taken(stats).size(), 0u);  // handed over once
}

TEST(stream_stats_past_the_inline_records_keep_their_order_and_sums) {
  StreamStats stats;
  // A chain of ten filters: two records each, more than are kept inline.
  for (int round = 0; round < 2; ++round) {
    for (uint32_t index = 0; index < 20; ++index) {
      stats.add(index, index % 2 == 0 ? MetricOp::Increment : MetricOp::Record, index + 1);
    }
  }
  std::vector<StreamStats::Record> records = taken(stats);
  CHECK_EQ(records.size(), 20u);
  for (uint32_t index = 0; index < records.size(); ++index) {
    CHECK_EQ(records[index].index, index);
    CHECK_EQ(records[index].value, 2 * (static_cast<int64_t>(index) + 1));
  }
  // Taken, the stats start over: a record first added now comes first.
  stats.add(7, MetricOp::Increment, 1);
  records = taken(stats);
  CHECK_EQ(records.size(), 1u);
  CHECK_EQ(records[0].index, 7u);
}
