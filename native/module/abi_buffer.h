// Conversions between our views and the ABI's buffer structs.
#pragma once

#include <string_view>

#include "native/abi/types.h"

namespace envoy_ts::module {

inline envoy_dynamic_module_type_module_buffer moduleBuffer(std::string_view bytes) {
  return {bytes.data(), bytes.size()};
}

// Envoy may hand out an empty buffer as a null pointer.
inline std::string_view viewOf(envoy_dynamic_module_type_envoy_buffer buffer) {
  return buffer.ptr == nullptr ? std::string_view() : std::string_view(buffer.ptr, buffer.length);
}

}  // namespace envoy_ts::module
