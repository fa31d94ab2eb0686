#pragma once

#include <cstddef>
#include <deque>
#include <string>

namespace EnvoyTsHost {

// A byte buffer kept as the slices it was built from (Envoy's Buffer::OwnedImpl): each socket
// read or append adds a slice, so modules see real multi-slice buffers. Worker thread only.
class Buffer {
public:
  size_t length() const { return length_; }
  bool empty() const { return length_ == 0; }
  const std::deque<std::string>& slices() const { return slices_; }

  void append(std::string&& bytes) {
    if (!bytes.empty()) {
      length_ += bytes.size();
      slices_.push_back(std::move(bytes));
    }
  }
  void append(const char* data, size_t size) { append(std::string(data, size)); }
  void prepend(const char* data, size_t size) {
    if (size > 0) {
      length_ += size;
      slices_.emplace_front(data, size);
    }
  }
  // Removes up to `size` bytes from the front (clamped to the length).
  void drain(size_t size) {
    while (size > 0 && !slices_.empty()) {
      std::string& front = slices_.front();
      if (front.size() <= size) {
        size -= front.size();
        length_ -= front.size();
        slices_.pop_front();
      } else {
        front.erase(0, size);
        length_ -= size;
        size = 0;
      }
    }
  }
  // Moves every slice of `other` to the end of this buffer.
  void move(Buffer& other) {
    for (std::string& slice : other.slices_) {
      append(std::move(slice));
    }
    other.slices_.clear();
    other.length_ = 0;
  }
  std::string toString() const {
    std::string out;
    out.reserve(length_);
    for (const std::string& slice : slices_) {
      out += slice;
    }
    return out;
  }

private:
  std::deque<std::string> slices_;
  size_t length_{0};
};

} // namespace EnvoyTsHost
