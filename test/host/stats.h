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

// Envoy's ParentHistogram as its admin shows it. Values recorded (from any thread) wait for the
// next stats flush (Envoy: each thread's histogram until ThreadLocalStoreImpl::mergeHistograms),
// which merges them: the interval figures are then the values that flush merged, the cumulative
// ones every value merged so far. Until a flush has merged a value the summary is "No recorded
// values", however many were recorded.
class Histogram {
public:
  // Any thread.
  void record(uint64_t value);
  // The stats flush (main thread): the values recorded since the previous one become the interval
  // and join the cumulative values.
  void merge();
  // Envoy's text summary: "P0(i,c) P25(i,c) ... P100(i,c)" (interval `i` is nan when the last
  // flush merged nothing), or "No recorded values" before a flush merged any value.
  std::string summary() const;

private:
  using Values = std::map<uint64_t, uint64_t>; // value -> how many times it was recorded

  mutable std::mutex mutex_;
  Values recorded_; // Since the last flush.
  Values interval_;
  Values cumulative_;
  bool merged_{false}; // Envoy's ParentHistogramImpl::used(): a flush has merged a value.
};

class StatsStore {
public:
  static StatsStore& get();

  // The stat with this full name, created on first use. The reference is stable.
  Counter& counter(const std::string& name);
  Gauge& gauge(const std::string& name);
  Histogram& histogram(const std::string& name);
  TextReadout& textReadout(const std::string& name);

  // The stats flush's histogram merge (see Histogram::merge). Main thread.
  void mergeHistograms();

  // Envoy's GET /stats plain-text body: text readouts sorted by name (`name: "value"`), then
  // "name: value" lines of counters and gauges sorted by name, then histograms sorted by name;
  // `filter` (ECMAScript regex) keeps names it matches anywhere. Counters, gauges and text
  // readouts are their current values (Envoy's admin reads them live), histograms what the last
  // stats flush merged. False with `error` set when the regex does not compile.
  bool renderText(const std::string* filter, std::string& out, std::string& error) const;

private:
  mutable std::mutex mutex_;
  std::map<std::string, std::unique_ptr<Counter>> counters_;
  std::map<std::string, std::unique_ptr<Gauge>> gauges_;
  std::map<std::string, std::unique_ptr<Histogram>> histograms_;
  std::map<std::string, std::unique_ptr<TextReadout>> text_readouts_;
};

} // namespace EnvoyTsHost
