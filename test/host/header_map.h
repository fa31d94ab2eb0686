#pragma once

#include <string>
#include <utility>
#include <vector>

namespace EnvoyTsHost {

// An ordered HTTP header map with lowercase keys, like Envoy's HeaderMapImpl. Pseudo-headers are
// kept first. Views into entries stay valid until the next mutation.
class HeaderMap {
public:
  using Entry = std::pair<std::string, std::string>;

  const std::vector<Entry>& entries() const { return entries_; }
  size_t size() const { return entries_.size(); }

  // Value number `index` of `key` (case-insensitive); nullptr if absent. `count` gets the number
  // of values when not null.
  const std::string* get(const char* key, size_t key_length, size_t index, size_t* count) const;
  const std::string* get(const std::string& key) const {
    return get(key.data(), key.size(), 0, nullptr);
  }
  // Replaces all values of `key` with one value, at the position of the first occurrence.
  void set(std::string key, std::string value);
  void add(std::string key, std::string value);
  void remove(const std::string& key);

private:
  std::vector<Entry> entries_;
};

std::string toLower(std::string value);

} // namespace EnvoyTsHost
