#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace EnvoyTsHost {

// Process-wide stats (Envoy's Stats::Store, the subset the host needs): counters, gauges and
// histograms by full name, created on the main thread or lazily, updated from any worker.
class Counter {
public:
  void add(uint64_t value) { value_.fetch_add(value, std::memory_order_relaxed); }
  void inc() { add(1); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

private:
  std::atomic<uint64_t> value_{0};
};

class Gauge {
public:
  void set(uint64_t value) { value_.store(value, std::memory_order_relaxed); }
  void add(uint64_t value) { value_.fetch_add(value, std::memory_order_relaxed); }
  void sub(uint64_t value) { value_.fetch_sub(value, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

private:
  std::atomic<uint64_t> value_{0};
};

// Envoy's TextReadout: a string value.
class TextReadout {
public:
  void set(std::string value) {
    std::lock_guard<std::mutex> lock(mutex_);
    value_ = std::move(value);
  }
  std::string value() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return value_;
  }

private:
  mutable std::mutex mutex_;
  std::string value_;
};

class Histogram {
public:
  void record(uint64_t value);
  // Envoy's text summary: "P0(nan,v) P25(nan,v) ... P100(nan,v)", or "No recorded values".
  std::string summary() const;

private:
  mutable std::mutex mutex_;
  std::map<uint64_t, uint64_t> values_; // value -> how many times it was recorded
  uint64_t count_{0};
};

class StatsStore {
public:
  static StatsStore& get();

  // The stat with this full name, created on first use. The reference is stable.
  Counter& counter(const std::string& name);
  Gauge& gauge(const std::string& name);
  Histogram& histogram(const std::string& name);
  TextReadout& textReadout(const std::string& name);

  // Envoy's GET /stats plain-text body: text readouts sorted by name (`name: "value"`), then
  // "name: value" lines of counters and gauges sorted by name, then histograms sorted by name; `filter` (ECMAScript regex) keeps names it matches anywhere.
  // False with `error` set when the regex does not compile.
  bool renderText(const std::string* filter, std::string& out, std::string& error) const;

private:
  mutable std::mutex mutex_;
  std::map<std::string, std::unique_ptr<Counter>> counters_;
  std::map<std::string, std::unique_ptr<Gauge>> gauges_;
  std::map<std::string, std::unique_ptr<Histogram>> histograms_;
  std::map<std::string, std::unique_ptr<TextReadout>> text_readouts_;
};

} // namespace EnvoyTsHost
