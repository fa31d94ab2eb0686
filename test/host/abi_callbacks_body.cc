// Body and buffer-limit callbacks Envoy exports to HTTP filter modules (Envoy's abi_impl.cc):
// "Received" is the chunk of the running body hook, "Buffered" the filter manager's
// decodingBuffer()/encodingBuffer(). Views into a body stay valid until it changes.
#include "filter_manager.h"
#include "native/abi/http_filter.h"

namespace EnvoyTsHost {
namespace {

struct BodyKind {
  bool valid;
  bool decode;
  bool buffered;
};

BodyKind bodyKind(envoy_dynamic_module_type_http_body_type type) {
  switch (type) {
  case envoy_dynamic_module_type_http_body_type_ReceivedRequestBody:
    return {true, true, false};
  case envoy_dynamic_module_type_http_body_type_BufferedRequestBody:
    return {true, true, true};
  case envoy_dynamic_module_type_http_body_type_ReceivedResponseBody:
    return {true, false, false};
  case envoy_dynamic_module_type_http_body_type_BufferedResponseBody:
    return {true, false, true};
  }
  return {false, false, false};
}

// nullptr when the body does not exist now (or `type` is no body type).
const Buffer* bodyFor(envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy,
                      envoy_dynamic_module_type_http_body_type type) {
  HttpFilter* filter = HttpFilter::fromEnvoyPtr(filter_envoy);
  const BodyKind kind = bodyKind(type);
  if (!kind.valid) {
    return nullptr;
  }
  return kind.buffered ? filter->manager().bufferedBody(kind.decode)
                       : filter->receivedBody(kind.decode);
}

// Envoy's check: the running body hook was handed the buffered body itself, which happens when a
// filter before it (or itself, after StopAll) continued with what it had buffered.
bool receivedBufferedBody(envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy,
                          bool decode) {
  HttpFilter* filter = HttpFilter::fromEnvoyPtr(filter_envoy);
  const Buffer* received = filter->receivedBody(decode);
  return received != nullptr && received == filter->manager().bufferedBody(decode);
}

} // namespace
} // namespace EnvoyTsHost

using EnvoyTsHost::Buffer;
using EnvoyTsHost::HttpFilter;

extern "C" {

__attribute__((visibility("default"))) size_t envoy_dynamic_module_callback_http_get_body_size(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_http_body_type body_type) {
  const Buffer* body = EnvoyTsHost::bodyFor(filter_envoy, body_type);
  return body == nullptr ? 0 : body->length();
}

__attribute__((visibility("default"))) size_t
envoy_dynamic_module_callback_http_get_body_chunks_size(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_http_body_type body_type) {
  const Buffer* body = EnvoyTsHost::bodyFor(filter_envoy, body_type);
  return body == nullptr ? 0 : body->slices().size();
}

__attribute__((visibility("default"))) bool envoy_dynamic_module_callback_http_get_body_chunks(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_http_body_type body_type,
    envoy_dynamic_module_type_envoy_buffer* result) {
  const Buffer* body = EnvoyTsHost::bodyFor(filter_envoy, body_type);
  if (body == nullptr || result == nullptr) {
    return false;
  }
  size_t i = 0;
  for (const std::string& slice : body->slices()) {
    result[i++] = {slice.data(), slice.size()};
  }
  return true;
}

__attribute__((visibility("default"))) bool envoy_dynamic_module_callback_http_append_body(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_http_body_type body_type,
    envoy_dynamic_module_type_module_buffer data) {
  const EnvoyTsHost::BodyKind kind = EnvoyTsHost::bodyKind(body_type);
  if (!kind.valid) {
    return false;
  }
  Buffer bytes;
  if (data.ptr != nullptr) {
    bytes.append(data.ptr, data.length);
  }
  HttpFilter* filter = HttpFilter::fromEnvoyPtr(filter_envoy);
  return filter->manager().appendBody(*filter, kind.decode, kind.buffered, bytes);
}

__attribute__((visibility("default"))) bool envoy_dynamic_module_callback_http_drain_body(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_http_body_type body_type, size_t number_of_bytes) {
  const EnvoyTsHost::BodyKind kind = EnvoyTsHost::bodyKind(body_type);
  if (!kind.valid) {
    return false;
  }
  HttpFilter* filter = HttpFilter::fromEnvoyPtr(filter_envoy);
  return filter->manager().drainBody(*filter, kind.decode, kind.buffered, number_of_bytes);
}

__attribute__((visibility("default"))) bool
envoy_dynamic_module_callback_http_received_buffered_request_body(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy) {
  return EnvoyTsHost::receivedBufferedBody(filter_envoy, true);
}

__attribute__((visibility("default"))) bool
envoy_dynamic_module_callback_http_received_buffered_response_body(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy) {
  return EnvoyTsHost::receivedBufferedBody(filter_envoy, false);
}

__attribute__((visibility("default"))) uint64_t envoy_dynamic_module_callback_http_get_buffer_limit(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy) {
  return HttpFilter::fromEnvoyPtr(filter_envoy)->manager().bufferLimit();
}

__attribute__((visibility("default"))) void envoy_dynamic_module_callback_http_set_buffer_limit(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy, uint64_t limit) {
  HttpFilter::fromEnvoyPtr(filter_envoy)->manager().setBufferLimit(limit);
}

} // extern "C"
