// Header and trailer callbacks Envoy exports to HTTP filter modules.
#include "filter_manager.h"
#include "native/abi/http_filter.h"

namespace EnvoyTsHost {
namespace {

HeaderMap* headerMapFor(envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy,
                        envoy_dynamic_module_type_http_header_type type) {
  FilterManager& manager = HttpFilter::fromEnvoyPtr(filter_envoy)->manager();
  switch (type) {
  case envoy_dynamic_module_type_http_header_type_RequestHeader:
    return manager.requestHeaders();
  case envoy_dynamic_module_type_http_header_type_RequestTrailer:
    return manager.requestTrailers();
  case envoy_dynamic_module_type_http_header_type_ResponseHeader:
    return manager.responseHeaders();
  case envoy_dynamic_module_type_http_header_type_ResponseTrailer:
    return manager.responseTrailers();
  }
  return nullptr;
}

std::string toString(envoy_dynamic_module_type_module_buffer buffer) {
  return buffer.ptr == nullptr ? std::string() : std::string(buffer.ptr, buffer.length);
}

} // namespace
} // namespace EnvoyTsHost

using EnvoyTsHost::headerMapFor;
using EnvoyTsHost::HeaderMap;

extern "C" {

__attribute__((visibility("default"))) bool envoy_dynamic_module_callback_http_get_header(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_http_header_type header_type,
    envoy_dynamic_module_type_module_buffer key, envoy_dynamic_module_type_envoy_buffer* result,
    size_t index, size_t* optional_count) {
  if (result != nullptr) {
    *result = {nullptr, 0};
  }
  if (optional_count != nullptr) {
    *optional_count = 0;
  }
  const HeaderMap* map = headerMapFor(filter_envoy, header_type);
  if (map == nullptr || key.ptr == nullptr) {
    return false;
  }
  const std::string* value = map->get(key.ptr, key.length, index, optional_count);
  if (value == nullptr) {
    return false;
  }
  if (result != nullptr) {
    *result = {value->data(), value->size()};
  }
  return true;
}

__attribute__((visibility("default"))) size_t envoy_dynamic_module_callback_http_get_headers_size(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_http_header_type header_type) {
  const HeaderMap* map = headerMapFor(filter_envoy, header_type);
  return map == nullptr ? 0 : map->size();
}

__attribute__((visibility("default"))) bool envoy_dynamic_module_callback_http_get_headers(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_http_header_type header_type,
    envoy_dynamic_module_type_envoy_http_header* result) {
  const HeaderMap* map = headerMapFor(filter_envoy, header_type);
  if (map == nullptr || result == nullptr) {
    return false;
  }
  size_t i = 0;
  for (const HeaderMap::Entry& entry : map->entries()) {
    result[i++] = {entry.first.data(), entry.first.size(), entry.second.data(),
                   entry.second.size()};
  }
  return true;
}

__attribute__((visibility("default"))) bool envoy_dynamic_module_callback_http_set_header(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_http_header_type header_type,
    envoy_dynamic_module_type_module_buffer key, envoy_dynamic_module_type_module_buffer value) {
  HeaderMap* map = headerMapFor(filter_envoy, header_type);
  if (map == nullptr || key.ptr == nullptr || key.length == 0) {
    return false;
  }
  if (value.ptr == nullptr) {
    map->remove(EnvoyTsHost::toString(key));
  } else {
    map->set(EnvoyTsHost::toString(key), EnvoyTsHost::toString(value));
  }
  return true;
}

__attribute__((visibility("default"))) bool envoy_dynamic_module_callback_http_add_header(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_http_header_type header_type,
    envoy_dynamic_module_type_module_buffer key, envoy_dynamic_module_type_module_buffer value) {
  HeaderMap* map = headerMapFor(filter_envoy, header_type);
  if (map == nullptr || key.ptr == nullptr || key.length == 0) {
    return false;
  }
  map->add(EnvoyTsHost::toString(key), EnvoyTsHost::toString(value));
  return true;
}

} // extern "C"
