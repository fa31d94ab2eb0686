#include "stats.h"

#include <charconv>
#include <cmath>
#include <regex>
#include <vector>

namespace EnvoyTsHost {
namespace {

// Envoy's supported quantiles (Stats::HistogramSettings defaults).
constexpr double Quantiles[] = {0, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.995, 0.999, 1};

// fmt's "{}" for a double: the shortest text that round-trips ("1", "1.5", "nan").
std::string shortest(double value) {
  if (std::isnan(value)) {
    return "nan";
  }
  char text[64];
  const auto result = std::to_chars(text, text + sizeof(text), value);
  return std::string(text, result.ptr);
}

// The nearest-rank quantile `q` of `values` (`count` values in all), or nan when there are none.
// Envoy approximates quantiles from log-linear buckets; the host's are exact.
double quantile(const std::map<uint64_t, uint64_t>& values, uint64_t count, double q) {
  if (count == 0) {
    return std::nan("");
  }
  const uint64_t rank = q == 0 ? 1 : static_cast<uint64_t>(std::ceil(q * count));
  uint64_t seen = 0;
  uint64_t value = 0;
  for (const auto& [v, n] : values) {
    seen += n;
    value = v;
    if (seen >= rank) {
      break;
    }
  }
  return static_cast<double>(value);
}

uint64_t countOf(const std::map<uint64_t, uint64_t>& values) {
  uint64_t count = 0;
  for (const auto& entry : values) {
    count += entry.second;
  }
  return count;
}

} // namespace

void Histogram::record(uint64_t value) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++recorded_[value];
}

void Histogram::merge() {
  std::lock_guard<std::mutex> lock(mutex_);
  // Envoy's ParentHistogramImpl::merge: nothing happens until a value was recorded; from then on
  // every flush replaces the interval, even with nothing.
  if (!merged_ && recorded_.empty()) {
    return;
  }
  interval_ = std::move(recorded_);
  recorded_.clear();
  for (const auto& [value, n] : interval_) {
    cumulative_[value] += n;
  }
  merged_ = true;
}

std::string Histogram::summary() const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!merged_) {
    return "No recorded values";
  }
  const uint64_t interval_count = countOf(interval_);
  const uint64_t cumulative_count = countOf(cumulative_);
  std::string out;
  for (const double q : Quantiles) {
    if (!out.empty()) {
      out += ' ';
    }
    out += "P" + shortest(q * 100) + "(" + shortest(quantile(interval_, interval_count, q)) + "," +
           shortest(quantile(cumulative_, cumulative_count, q)) + ")";
  }
  return out;
}

StatsStore& StatsStore::get() {
  static StatsStore* store = new StatsStore(); // Never destroyed: workers may record until exit.
  return *store;
}

Counter& StatsStore::counter(const std::string& name) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto& slot = counters_[name];
  if (slot == nullptr) {
    slot = std::make_unique<Counter>();
  }
  return *slot;
}

Gauge& StatsStore::gauge(const std::string& name) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto& slot = gauges_[name];
  if (slot == nullptr) {
    slot = std::make_unique<Gauge>();
  }
  return *slot;
}

Histogram& StatsStore::histogram(const std::string& name) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto& slot = histograms_[name];
  if (slot == nullptr) {
    slot = std::make_unique<Histogram>();
  }
  return *slot;
}

void StatsStore::mergeHistograms() {
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& entry : histograms_) {
    entry.second->merge();
  }
}

TextReadout& StatsStore::textReadout(const std::string& name) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto& slot = text_readouts_[name];
  if (slot == nullptr) {
    slot = std::make_unique<TextReadout>();
  }
  return *slot;
}

bool StatsStore::renderText(const std::string* filter, std::string& out, std::string& error) const {
  std::regex pattern;
  if (filter != nullptr) {
    try {
      pattern = std::regex(*filter);
    } catch (const std::regex_error& e) {
      error = "Invalid re2 regex";
      return false;
    }
  }
  auto keep = [&](const std::string& name) {
    return filter == nullptr || std::regex_search(name, pattern);
  };
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& [name, readout] : text_readouts_) {
    if (keep(name)) {
      out += name + ": \"" + readout->value() + "\"\n";
    }
  }
  std::map<std::string, uint64_t> scalars;
  for (const auto& [name, counter] : counters_) {
    if (keep(name)) {
      scalars[name] = counter->value();
    }
  }
  for (const auto& [name, gauge] : gauges_) {
    if (keep(name)) {
      scalars[name] = gauge->value();
    }
  }
  for (const auto& [name, value] : scalars) {
    out += name + ": " + std::to_string(value) + "\n";
  }
  for (const auto& [name, histogram] : histograms_) {
    if (keep(name)) {
      out += name + ": " + histogram->summary() + "\n";
    }
  }
  return true;
}

} // namespace EnvoyTsHost
