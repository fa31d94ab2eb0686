// A typed array of the runtime's that native code reads and writes in place (the crossing frame,
// the clock cell, ...): through a raw pointer, so a hook pays a plain load, no Node-API call.
#pragma once

#include <cstddef>

#include "node_api.h"

namespace envoy_ts::bridge {

template <class T>
class KeptArray {
 public:
  KeptArray() = default;
  KeptArray(const KeptArray&) = delete;
  KeptArray& operator=(const KeptArray&) = delete;

  // Holds `array` (`data`: its elements) in place of the one held before: the reference keeps it,
  // and so its memory (which does not move), alive.
  void adopt(napi_env env, napi_value array, T* data, size_t length) {
    if (ref_ != nullptr) {
      napi_delete_reference(env, ref_);
    }
    napi_create_reference(env, array, 1, &ref_);
    data_ = data;
    length_ = length;
  }

  bool adopted() const { return data_ != nullptr; }
  size_t length() const { return length_; }
  T& operator[](size_t i) const { return data_[i]; }

 private:
  napi_ref ref_ = nullptr;
  T* data_ = nullptr;
  size_t length_ = 0;
};

}  // namespace envoy_ts::bridge
