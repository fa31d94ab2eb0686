// Stream-info callbacks Envoy exports to HTTP filter modules (Envoy's HTTP abi_impl.cc): routing,
// attributes, dynamic metadata, filter state and the module's metrics.
#include <string>
#include <vector>

#include "connection_info.h"
#include "filter_manager.h"
#include "logger.h"
#include "module_metrics.h"
#include "native/abi/http_filter.h"
#include "router.h"

using EnvoyTsHost::DynamicMetadata;
using EnvoyTsHost::FilterManager;
using EnvoyTsHost::HttpFilter;
using EnvoyTsHost::HttpFilterConfig;
using EnvoyTsHost::MetadataValue;
using EnvoyTsHost::ModuleMetrics;

namespace {

FilterManager& streamOf(envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy) {
  return HttpFilter::fromEnvoyPtr(filter_envoy)->manager();
}

std::string text(envoy_dynamic_module_type_module_buffer buffer) {
  return buffer.ptr == nullptr ? std::string() : std::string(buffer.ptr, buffer.length);
}

bool setString(const std::string& value, envoy_dynamic_module_type_envoy_buffer* result) {
  *result = {value.data(), value.size()};
  return true;
}

void unsupported(envoy_dynamic_module_type_attribute_id id, const char* as) {
  // Envoy logs unsupported ids (and ids of another type) at error level and answers false.
  HOST_LOG(Error, "Unsupported attribute ID " + std::to_string(static_cast<int64_t>(id)) + " as " +
                      as);
}

// The stream's dynamic metadata value, or nullptr. Only the Dynamic source exists in the host:
// routes, clusters, hosts and localities carry no metadata.
const MetadataValue* metadataValue(envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy,
                                   envoy_dynamic_module_type_metadata_source source,
                                   envoy_dynamic_module_type_module_buffer ns,
                                   envoy_dynamic_module_type_module_buffer key) {
  if (source != envoy_dynamic_module_type_metadata_source_Dynamic) {
    return nullptr;
  }
  const DynamicMetadata& metadata = streamOf(filter_envoy).dynamicMetadata();
  const auto by_namespace = metadata.find(text(ns));
  if (by_namespace == metadata.end()) {
    return nullptr;
  }
  const auto value = by_namespace->second.find(text(key));
  return value == by_namespace->second.end() ? nullptr : &value->second;
}

void setMetadata(envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy,
                 envoy_dynamic_module_type_module_buffer ns,
                 envoy_dynamic_module_type_module_buffer key, MetadataValue value) {
  // Envoy merges {key: value} into the namespace's Struct: a key set again is replaced.
  streamOf(filter_envoy).dynamicMetadata()[text(ns)][text(key)] = std::move(value);
}

ModuleMetrics::Labels labels(const envoy_dynamic_module_type_module_buffer* names, size_t length) {
  ModuleMetrics::Labels out;
  for (size_t i = 0; names != nullptr && i < length; ++i) {
    out.push_back(text(names[i]));
  }
  return out;
}

ModuleMetrics& configMetrics(envoy_dynamic_module_type_http_filter_config_envoy_ptr config_envoy) {
  return static_cast<HttpFilterConfig*>(config_envoy)->metrics();
}

const ModuleMetrics& filterMetrics(envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy) {
  return HttpFilter::fromEnvoyPtr(filter_envoy)->config().metrics();
}

} // namespace

#define HOST_EXPORT __attribute__((visibility("default")))

extern "C" {

// ---- Routing ----

HOST_EXPORT void envoy_dynamic_module_callback_http_clear_route_cache(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy) {
  streamOf(filter_envoy).clearRouteCache();
}

// Envoy's setUpstreamOverrideHost: only an IP address ("ip", "ip:port", "[ipv6]:port") is taken;
// the router's load balancer then prefers the endpoint whose address reads the same.
HOST_EXPORT bool envoy_dynamic_module_callback_http_set_upstream_override_host(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_module_buffer host, bool strict) {
  const std::string value = text(host);
  if (!EnvoyTsHost::isIpAuthority(value)) {
    HOST_LOG(Debug, "override host is not a valid IP address: " + value);
    return false;
  }
  streamOf(filter_envoy).setUpstreamOverrideHost(value, strict);
  return true;
}

// Envoy's resolveMostSpecificPerFilterConfig: the current route (picked again if the cache was
// cleared), then the entry keyed by this filter's name in the route's typed_per_filter_config,
// else in its virtual host's; NULL without a route or an entry.
HOST_EXPORT envoy_dynamic_module_type_http_filter_per_route_config_module_ptr
envoy_dynamic_module_callback_get_most_specific_route_config(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy) {
  HttpFilter* filter = HttpFilter::fromEnvoyPtr(filter_envoy);
  const EnvoyTsHost::RouteEntry* route = filter->manager().route();
  if (route == nullptr) {
    return nullptr;
  }
  const EnvoyTsHost::HttpPerRouteConfig* config =
      route->mostSpecificPerFilterConfig(filter->config().configName());
  return config == nullptr ? nullptr : config->moduleConfig();
}

// ---- Attributes ----

HOST_EXPORT bool envoy_dynamic_module_callback_http_filter_get_attribute_string(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_attribute_id attribute_id,
    envoy_dynamic_module_type_envoy_buffer* result) {
  *result = {nullptr, 0};
  FilterManager& stream = streamOf(filter_envoy);
  const EnvoyTsHost::DownstreamConnectionInfo* connection = stream.downstreamConnection();
  switch (attribute_id) {
  case envoy_dynamic_module_type_attribute_id_RequestId: {
    // Envoy's request id is the stream's x-request-id header (its StreamIdProvider reads it).
    const EnvoyTsHost::HeaderMap* headers = stream.requestHeaders();
    const std::string* id = headers == nullptr ? nullptr : headers->get("x-request-id");
    return id != nullptr && setString(*id, result);
  }
  case envoy_dynamic_module_type_attribute_id_RequestProtocol:
    return setString(stream.protocol(), result);
  case envoy_dynamic_module_type_attribute_id_SourceAddress:
    return connection != nullptr && !connection->remote.text.empty() &&
           setString(connection->remote.text, result);
  case envoy_dynamic_module_type_attribute_id_DestinationAddress:
    return connection != nullptr && !connection->local.text.empty() &&
           setString(connection->local.text, result);
  case envoy_dynamic_module_type_attribute_id_XdsRouteName: {
    // StreamInfo::getRouteName(): the route's name, empty for an unnamed route or no route.
    static const std::string empty;
    const EnvoyTsHost::RouteEntry* route = stream.route();
    return setString(route == nullptr ? empty : route->name, result);
  }
  case envoy_dynamic_module_type_attribute_id_ConnectionRequestedServerName:
  case envoy_dynamic_module_type_attribute_id_ConnectionTlsVersion:
    return false; // No TLS in the host: no SNI, no TLS version.
  default:
    unsupported(attribute_id, "string");
    return false;
  }
}

HOST_EXPORT bool envoy_dynamic_module_callback_http_filter_get_attribute_int(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_attribute_id attribute_id, uint64_t* result) {
  const EnvoyTsHost::DownstreamConnectionInfo* connection =
      streamOf(filter_envoy).downstreamConnection();
  switch (attribute_id) {
  case envoy_dynamic_module_type_attribute_id_SourcePort:
    if (connection == nullptr || connection->remote.text.empty()) {
      return false;
    }
    *result = connection->remote.port;
    return true;
  case envoy_dynamic_module_type_attribute_id_DestinationPort:
    if (connection == nullptr || connection->local.text.empty()) {
      return false;
    }
    *result = connection->local.port;
    return true;
  case envoy_dynamic_module_type_attribute_id_ConnectionId:
    if (connection == nullptr) {
      return false;
    }
    *result = connection->id;
    return true;
  default:
    unsupported(attribute_id, "int");
    return false;
  }
}

HOST_EXPORT bool envoy_dynamic_module_callback_http_filter_get_attribute_bool(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_attribute_id attribute_id, bool* result) {
  switch (attribute_id) {
  case envoy_dynamic_module_type_attribute_id_ConnectionMtls:
    if (streamOf(filter_envoy).downstreamConnection() == nullptr) {
      return false;
    }
    *result = false; // Plaintext connections: no peer certificate.
    return true;
  default:
    unsupported(attribute_id, "bool");
    return false;
  }
}

// ---- Dynamic metadata ----

HOST_EXPORT void envoy_dynamic_module_callback_http_set_dynamic_metadata_string(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_module_buffer ns, envoy_dynamic_module_type_module_buffer key,
    envoy_dynamic_module_type_module_buffer value) {
  MetadataValue v;
  v.type = MetadataValue::Type::String;
  v.string = text(value);
  setMetadata(filter_envoy, ns, key, std::move(v));
}

HOST_EXPORT void envoy_dynamic_module_callback_http_set_dynamic_metadata_number(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_module_buffer ns, envoy_dynamic_module_type_module_buffer key,
    double value) {
  MetadataValue v;
  v.type = MetadataValue::Type::Number;
  v.number = value;
  setMetadata(filter_envoy, ns, key, std::move(v));
}

HOST_EXPORT void envoy_dynamic_module_callback_http_set_dynamic_metadata_bool(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_module_buffer ns, envoy_dynamic_module_type_module_buffer key,
    bool value) {
  MetadataValue v;
  v.type = MetadataValue::Type::Bool;
  v.boolean = value;
  setMetadata(filter_envoy, ns, key, std::move(v));
}

HOST_EXPORT bool envoy_dynamic_module_callback_http_get_metadata_string(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_metadata_source source, envoy_dynamic_module_type_module_buffer ns,
    envoy_dynamic_module_type_module_buffer key, envoy_dynamic_module_type_envoy_buffer* result) {
  const MetadataValue* value = metadataValue(filter_envoy, source, ns, key);
  if (value == nullptr || value->type != MetadataValue::Type::String) {
    return false;
  }
  return setString(value->string, result);
}

HOST_EXPORT bool envoy_dynamic_module_callback_http_get_metadata_number(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_metadata_source source, envoy_dynamic_module_type_module_buffer ns,
    envoy_dynamic_module_type_module_buffer key, double* result) {
  const MetadataValue* value = metadataValue(filter_envoy, source, ns, key);
  if (value == nullptr || value->type != MetadataValue::Type::Number) {
    return false;
  }
  *result = value->number;
  return true;
}

HOST_EXPORT bool envoy_dynamic_module_callback_http_get_metadata_bool(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_metadata_source source, envoy_dynamic_module_type_module_buffer ns,
    envoy_dynamic_module_type_module_buffer key, bool* result) {
  const MetadataValue* value = metadataValue(filter_envoy, source, ns, key);
  if (value == nullptr || value->type != MetadataValue::Type::Bool) {
    return false;
  }
  *result = value->boolean;
  return true;
}

// ---- Filter state ----

HOST_EXPORT bool envoy_dynamic_module_callback_http_set_filter_state_bytes(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_module_buffer key, envoy_dynamic_module_type_module_buffer value) {
  auto& state = streamOf(filter_envoy).filterStateBytes();
  const std::string name = text(key);
  if (state.count(name) != 0) {
    // Envoy stores these objects ReadOnly; setting one again is a FilterStateAccessViolation
    // (an exception / ENVOY_BUG there). The first value stays.
    HOST_LOG(Error, "FilterState::setData<T> called twice on same ReadOnly state: " + name);
    return false;
  }
  state.emplace(name, text(value));
  return true;
}

HOST_EXPORT bool envoy_dynamic_module_callback_http_get_filter_state_bytes(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy,
    envoy_dynamic_module_type_module_buffer key, envoy_dynamic_module_type_envoy_buffer* result) {
  const auto& state = streamOf(filter_envoy).filterStateBytes();
  const auto it = state.find(text(key));
  if (it == state.end()) {
    *result = {nullptr, 0};
    return false;
  }
  return setString(it->second, result);
}

// ---- Metrics ----

HOST_EXPORT envoy_dynamic_module_type_metrics_result
envoy_dynamic_module_callback_http_filter_config_define_counter(
    envoy_dynamic_module_type_http_filter_config_envoy_ptr config_envoy,
    envoy_dynamic_module_type_module_buffer name,
    envoy_dynamic_module_type_module_buffer* label_names, size_t label_names_length,
    size_t* counter_id) {
  return configMetrics(config_envoy).define(ModuleMetrics::Kind::Counter, text(name),
                                            labels(label_names, label_names_length), counter_id);
}

HOST_EXPORT envoy_dynamic_module_type_metrics_result
envoy_dynamic_module_callback_http_filter_config_define_gauge(
    envoy_dynamic_module_type_http_filter_config_envoy_ptr config_envoy,
    envoy_dynamic_module_type_module_buffer name,
    envoy_dynamic_module_type_module_buffer* label_names, size_t label_names_length,
    size_t* gauge_id) {
  return configMetrics(config_envoy).define(ModuleMetrics::Kind::Gauge, text(name),
                                            labels(label_names, label_names_length), gauge_id);
}

HOST_EXPORT envoy_dynamic_module_type_metrics_result
envoy_dynamic_module_callback_http_filter_config_define_histogram(
    envoy_dynamic_module_type_http_filter_config_envoy_ptr config_envoy,
    envoy_dynamic_module_type_module_buffer name,
    envoy_dynamic_module_type_module_buffer* label_names, size_t label_names_length,
    size_t* histogram_id) {
  return configMetrics(config_envoy).define(ModuleMetrics::Kind::Histogram, text(name),
                                            labels(label_names, label_names_length), histogram_id);
}

HOST_EXPORT envoy_dynamic_module_type_metrics_result
envoy_dynamic_module_callback_http_filter_increment_counter(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy, size_t id,
    envoy_dynamic_module_type_module_buffer* label_values, size_t label_values_length,
    uint64_t value) {
  return filterMetrics(filter_envoy).incrementCounter(id, label_values, label_values_length, value);
}

HOST_EXPORT envoy_dynamic_module_type_metrics_result
envoy_dynamic_module_callback_http_filter_increment_gauge(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy, size_t id,
    envoy_dynamic_module_type_module_buffer* label_values, size_t label_values_length,
    uint64_t value) {
  return filterMetrics(filter_envoy).updateGauge(id, label_values, label_values_length,
                                                 ModuleMetrics::GaugeOp::Increase, value);
}

HOST_EXPORT envoy_dynamic_module_type_metrics_result
envoy_dynamic_module_callback_http_filter_decrement_gauge(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy, size_t id,
    envoy_dynamic_module_type_module_buffer* label_values, size_t label_values_length,
    uint64_t value) {
  return filterMetrics(filter_envoy).updateGauge(id, label_values, label_values_length,
                                                 ModuleMetrics::GaugeOp::Decrease, value);
}

HOST_EXPORT envoy_dynamic_module_type_metrics_result
envoy_dynamic_module_callback_http_filter_set_gauge(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy, size_t id,
    envoy_dynamic_module_type_module_buffer* label_values, size_t label_values_length,
    uint64_t value) {
  return filterMetrics(filter_envoy).updateGauge(id, label_values, label_values_length,
                                                 ModuleMetrics::GaugeOp::Set, value);
}

HOST_EXPORT envoy_dynamic_module_type_metrics_result
envoy_dynamic_module_callback_http_filter_record_histogram_value(
    envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy, size_t id,
    envoy_dynamic_module_type_module_buffer* label_values, size_t label_values_length,
    uint64_t value) {
  return filterMetrics(filter_envoy).recordHistogram(id, label_values, label_values_length, value);
}

} // extern "C"
