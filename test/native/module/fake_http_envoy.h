// An HttpEnvoy standing in for Envoy's side of one HTTP stream: bodies as lists of slices per
// direction (what Envoy buffered at the filter, and the chunk a body hook received), and a record
// of what the stream asked Envoy to do.
#pragma once

#include <algorithm>
#include <string>
#include <tuple>
#include <vector>

#include "native/module/http_envoy.h"

namespace envoy_ts::test {

class FakeHttpEnvoy final : public module::HttpEnvoy {
 public:
  int continued_decoding = 0;
  int continued_encoding = 0;
  struct Reply {
    uint32_t status;
    std::string body;
    std::string details;
  };
  std::vector<Reply> replies;
  bool has_scheduler = false;
  std::vector<uint64_t> committed;
  std::vector<std::tuple<uint32_t, bridge::MetricOp, int64_t>> metrics;
  uint64_t route_config_id = 0;
  uint64_t limit = 0;
  // Per direction (bridge::BufferKind).
  std::vector<std::string> buffered[2];
  std::vector<std::string> received[2];
  bool received_is_buffered[2] = {false, false};

  void continueDecoding() override { ++continued_decoding; }
  void continueEncoding() override { ++continued_encoding; }
  void sendLocalReply(uint32_t status, const bridge::HeaderList&, std::string_view body,
                      std::string_view details) override {
    replies.push_back({status, std::string(body), std::string(details)});
  }
  uint64_t routeConfigId() override { return route_config_id; }
  void ensureScheduler() override { has_scheduler = true; }
  void commitEvent(uint64_t event_id) override { committed.push_back(event_id); }
  bool recordMetric(uint32_t index, bridge::MetricOp op, int64_t value,
                    const std::vector<std::string>&) override {
    metrics.emplace_back(index, op, value);
    return true;
  }
  bool receivedIsBuffered(bridge::BufferKind direction) override {
    return received_is_buffered[index(direction)];
  }
  size_t bodySize(bridge::BufferKind direction, Body body) override {
    size_t size = 0;
    for (const std::string& slice : slices(direction, body)) {
      size += slice.size();
    }
    return size;
  }
  void bodySlices(bridge::BufferKind direction, Body body,
                  std::vector<std::string_view>& out) override {
    for (const std::string& slice : slices(direction, body)) {
      if (!slice.empty()) {
        out.push_back(slice);
      }
    }
  }
  void drainBody(bridge::BufferKind direction, Body body, size_t length) override {
    std::vector<std::string>& list = slices(direction, body);
    while (length > 0 && !list.empty()) {
      const size_t taken = std::min(length, list.front().size());
      list.front().erase(0, taken);
      length -= taken;
      if (list.front().empty()) {
        list.erase(list.begin());
      }
    }
  }
  bool appendBody(bridge::BufferKind direction, Body body, std::string_view data) override {
    slices(direction, body).emplace_back(data);
    return true;
  }
  uint64_t bufferLimit() override { return limit; }

  // One string of what `body` of `direction` holds.
  std::string text(bridge::BufferKind direction, Body body) {
    std::string out;
    for (const std::string& slice : slices(direction, body)) {
      out += slice;
    }
    return out;
  }

 private:
  static size_t index(bridge::BufferKind direction) { return static_cast<size_t>(direction); }
  std::vector<std::string>& slices(bridge::BufferKind direction, Body body) {
    return body == Body::Buffered ? buffered[index(direction)] : received[index(direction)];
  }
};

}  // namespace envoy_ts::test
