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

} // namespace

void Histogram::record(uint64_t value) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++values_[value];
  ++count_;
}

std::string Histogram::summary() const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (count_ == 0) {
    return "No recorded values";
  }
  std::string out;
  for (const double q : Quantiles) {
    // Nearest rank over the exact recorded values (Envoy approximates with log-linear buckets).
    const uint64_t rank = q == 0 ? 1 : static_cast<uint64_t>(std::ceil(q * count_));
    uint64_t seen = 0;
    uint64_t value = 0;
    for (const auto& [v, n] : values_) {
      seen += n;
      value = v;
      if (seen >= rank) {
        break;
      }
    }
    if (!out.empty()) {
      out += ' ';
    }
    // The first figure is the interval quantile, which Envoy computes at each stats flush; the
    // host never flushes, so it is always nan.
    out += "P" + shortest(q * 100) + "(nan," + shortest(static_cast<double>(value)) + ")";
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
