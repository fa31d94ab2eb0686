#include "native/runtime/config_registry.h"

namespace envoy_ts::runtime {

ConfigRegistry& ConfigRegistry::instance() {
  static ConfigRegistry* registry = new ConfigRegistry();  // outlives every thread
  return *registry;
}

uint64_t ConfigRegistry::reserveId() {
  std::lock_guard<std::mutex> lock(mu_);
  return next_id_++;
}

void ConfigRegistry::add(uint64_t id, Config config) {
  std::lock_guard<std::mutex> lock(mu_);
  configs_.emplace(id, std::move(config));
  generation_.fetch_add(1, std::memory_order_release);
}

void ConfigRegistry::remove(uint64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  configs_.erase(id);
  generation_.fetch_add(1, std::memory_order_release);
}

uint64_t ConfigRegistry::replaceBundle(uint64_t id, std::shared_ptr<const BundleSource> bundle) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = configs_.find(id);
  if (it == configs_.end()) {
    return 0;
  }
  it->second.bundle = std::move(bundle);
  ++it->second.revision;
  generation_.fetch_add(1, std::memory_order_release);
  return it->second.revision;
}

bool ConfigRegistry::empty() const {
  std::lock_guard<std::mutex> lock(mu_);
  return configs_.empty();
}

std::optional<uint64_t> ConfigRegistry::revisionOf(uint64_t id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = configs_.find(id);
  if (it == configs_.end()) {
    return std::nullopt;
  }
  return it->second.revision;
}

std::map<uint64_t, ConfigRegistry::Config> ConfigRegistry::snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  return configs_;
}

}  // namespace envoy_ts::runtime
