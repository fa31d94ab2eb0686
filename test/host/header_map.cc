#include "header_map.h"

#include <strings.h>

#include <algorithm>

namespace EnvoyTsHost {

std::string toLower(std::string value) {
  std::transform(value.begin(), value.end(), value.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return value;
}

namespace {

bool keyEquals(const std::string& entry_key, const char* key, size_t key_length) {
  return entry_key.size() == key_length && strncasecmp(entry_key.data(), key, key_length) == 0;
}

} // namespace

const std::string* HeaderMap::get(const char* key, size_t key_length, size_t index,
                                  size_t* count) const {
  const std::string* found = nullptr;
  size_t seen = 0;
  for (const Entry& entry : entries_) {
    if (keyEquals(entry.first, key, key_length)) {
      if (seen == index) {
        found = &entry.second;
        if (count == nullptr) {
          break;
        }
      }
      ++seen;
    }
  }
  if (count != nullptr) {
    *count = seen;
  }
  return found;
}

void HeaderMap::set(std::string key, std::string value) {
  key = toLower(std::move(key));
  auto first = std::find_if(entries_.begin(), entries_.end(),
                            [&](const Entry& e) { return e.first == key; });
  if (first == entries_.end()) {
    add(std::move(key), std::move(value));
    return;
  }
  first->second = std::move(value);
  entries_.erase(std::remove_if(first + 1, entries_.end(),
                                [&](const Entry& e) { return e.first == key; }),
                 entries_.end());
}

void HeaderMap::add(std::string key, std::string value) {
  key = toLower(std::move(key));
  if (!key.empty() && key[0] == ':') {
    // Pseudo-headers precede regular headers, as in Envoy's header maps.
    auto pos = std::find_if(entries_.begin(), entries_.end(),
                            [](const Entry& e) { return e.first.empty() || e.first[0] != ':'; });
    entries_.emplace(pos, std::move(key), std::move(value));
    return;
  }
  entries_.emplace_back(std::move(key), std::move(value));
}

void HeaderMap::remove(const std::string& key) {
  const std::string lower = toLower(key);
  entries_.erase(std::remove_if(entries_.begin(), entries_.end(),
                                [&](const Entry& e) { return e.first == lower; }),
                 entries_.end());
}

} // namespace EnvoyTsHost
