#include "config.h"

#include <arpa/inet.h>
#include <yaml-cpp/yaml.h>

#include <cctype>
#include <cerrno>
#include <cstdint>
#include <map>
#include <set>

#include "logger.h"

namespace EnvoyTsHost {
namespace {

constexpr char HcmType[] = "type.googleapis.com/envoy.extensions.filters.network."
                           "http_connection_manager.v3.HttpConnectionManager";
constexpr char DynamicModuleType[] =
    "type.googleapis.com/envoy.extensions.filters.http.dynamic_modules.v3.DynamicModuleFilter";
constexpr char DynamicModulePerRouteType[] = "type.googleapis.com/envoy.extensions.filters.http."
                                            "dynamic_modules.v3.DynamicModuleFilterPerRoute";
constexpr char RouteFilterConfigType[] = "type.googleapis.com/envoy.config.route.v3.FilterConfig";
constexpr char NetworkDynamicModuleType[] = "type.googleapis.com/envoy.extensions.filters.network."
                                           "dynamic_modules.v3.DynamicModuleNetworkFilter";
constexpr char TcpProxyType[] =
    "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy";
constexpr char RouterType[] = "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router";
constexpr char UpstreamHttpProtocolOptionsName[] =
    "envoy.extensions.upstreams.http.v3.HttpProtocolOptions";
constexpr char UpstreamHttpProtocolOptionsType[] =
    "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions";
constexpr char StringValueType[] = "type.googleapis.com/google.protobuf.StringValue";
constexpr char BytesValueType[] = "type.googleapis.com/google.protobuf.BytesValue";

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw ConfigError(path + ": " + what);
}

// Rejects keys the host does not know, so a config that relies on them fails loudly.
void checkKeys(const YAML::Node& node, const std::string& path, const std::set<std::string>& allowed) {
  if (!node.IsMap()) {
    fail(path, "expected a mapping");
  }
  for (const auto& item : node) {
    const std::string key = item.first.as<std::string>();
    if (allowed.count(key) == 0) {
      fail(path + "." + key, "field not supported by the conformance host");
    }
  }
}

YAML::Node required(const YAML::Node& node, const std::string& key, const std::string& path) {
  const YAML::Node child = node[key];
  if (!child) {
    fail(path + "." + key, "required field is missing");
  }
  return child;
}

std::string scalar(const YAML::Node& node, const std::string& path) {
  if (!node.IsScalar()) {
    fail(path, "expected a scalar");
  }
  return node.as<std::string>();
}

bool boolean(const YAML::Node& node, const std::string& path) {
  const std::string value = scalar(node, path);
  if (value == "true") {
    return true;
  }
  if (value == "false") {
    return false;
  }
  fail(path, "expected true or false");
}

SocketAddress socketAddress(const YAML::Node& address, const std::string& path) {
  checkKeys(address, path, {"socket_address"});
  const std::string sa_path = path + ".socket_address";
  const YAML::Node sa = required(address, "socket_address", path);
  checkKeys(sa, sa_path, {"address", "port_value", "protocol"});
  if (sa["protocol"] && scalar(sa["protocol"], sa_path + ".protocol") != "TCP") {
    fail(sa_path + ".protocol", "only TCP is supported");
  }
  SocketAddress result;
  result.address = scalar(required(sa, "address", sa_path), sa_path + ".address");
  const std::string port = sa["port_value"] ? scalar(sa["port_value"], sa_path + ".port_value") : "0";
  char* end = nullptr;
  const unsigned long value = std::strtoul(port.c_str(), &end, 10);
  if (*end != '\0' || value > 65535) {
    fail(sa_path + ".port_value", "invalid port");
  }
  result.port = static_cast<uint16_t>(value);
  return result;
}

// Envoy resolves a socket_address with its default "envoy.ip" resolver, which takes IP literals
// only (no DNS): listeners, the admin address and STATIC cluster endpoints. Its error is
// "malformed IP address: <address>" (for STATIC clusters ClusterImplBase::resolveProtoAddress adds
// the hint below).
void requireIpLiteral(const SocketAddress& address, const std::string& path,
                      const std::string& hint = "") {
  unsigned char buffer[sizeof(in6_addr)];
  if (inet_pton(AF_INET, address.address.c_str(), buffer) != 1 &&
      inet_pton(AF_INET6, address.address.c_str(), buffer) != 1) {
    fail(path + ".socket_address.address", "malformed IP address: " + address.address + hint);
  }
}

// google.protobuf.UInt32Value in YAML: a decimal integer.
uint32_t uint32Value(const YAML::Node& node, const std::string& path) {
  const std::string value = scalar(node, path);
  char* end = nullptr;
  errno = 0;
  const unsigned long long parsed = std::strtoull(value.c_str(), &end, 10);
  if (value.empty() || !std::isdigit(static_cast<unsigned char>(value[0])) || *end != '\0' ||
      errno != 0 || parsed > UINT32_MAX) {
    fail(path, "expected an unsigned 32-bit integer");
  }
  return static_cast<uint32_t>(parsed);
}

// A uint32 field with a validation range [min, max] (inclusive).
uint32_t boundedUint(const YAML::Node& node, const std::string& path, uint32_t min, uint32_t max) {
  const uint32_t value = uint32Value(node, path);
  if (value < min || value > max) {
    fail(path, "must be between " + std::to_string(min) + " and " + std::to_string(max));
  }
  return value;
}

// Protobuf Duration in YAML: "0.25s", "5s".
uint32_t durationMs(const YAML::Node& node, const std::string& path) {
  const std::string value = scalar(node, path);
  if (value.empty() || value.back() != 's') {
    fail(path, "expected a duration like \"5s\"");
  }
  char* end = nullptr;
  const double seconds = std::strtod(value.c_str(), &end);
  if (end != value.c_str() + value.size() - 1 || seconds < 0) {
    fail(path, "expected a duration like \"5s\"");
  }
  if (seconds * 1000 > UINT32_MAX) {
    fail(path, "duration too long");
  }
  return static_cast<uint32_t>(seconds * 1000);
}

// envoy.config.core.v3.Http1ProtocolOptions: only enable_trailers (a bool, false by default).
Http1Settings http1ProtocolOptions(const YAML::Node& node, const std::string& path) {
  checkKeys(node, path, {"enable_trailers"});
  Http1Settings settings;
  if (node["enable_trailers"]) {
    settings.enable_trailers = boolean(node["enable_trailers"], path + ".enable_trailers");
  }
  return settings;
}

// A cluster's typed_extension_protocol_options. As in Envoy (upstream_impl.cc
// createProtocolOptionsConfig) each key names the factory and the value is unpacked as its proto.
// The host knows one factory, envoy.extensions.upstreams.http.v3.HttpProtocolOptions, whose
// protocol oneofs are required (PGV): explicit_http_config.http_protocol_options (HTTP/1.1) is the
// supported choice.
Http1Settings upstreamProtocolOptions(const YAML::Node& node, const std::string& path) {
  if (!node.IsMap()) {
    fail(path, "expected a mapping");
  }
  Http1Settings settings;
  for (const auto& item : node) {
    const std::string name = item.first.as<std::string>();
    const std::string o_path = path + "." + name;
    if (name != UpstreamHttpProtocolOptionsName) {
      fail(o_path, "unsupported protocol options (only " +
                       std::string(UpstreamHttpProtocolOptionsName) + ")");
    }
    const YAML::Node options = item.second;
    checkKeys(options, o_path, {"@type", "explicit_http_config"});
    const std::string type = scalar(required(options, "@type", o_path), o_path + ".@type");
    if (type != UpstreamHttpProtocolOptionsType) {
      fail(o_path + ".@type", "unsupported " + type + " (" + UpstreamHttpProtocolOptionsType +
                                  " expected)");
    }
    const std::string e_path = o_path + ".explicit_http_config";
    const YAML::Node explicit_config = required(options, "explicit_http_config", o_path);
    checkKeys(explicit_config, e_path, {"http_protocol_options"});
    settings = http1ProtocolOptions(required(explicit_config, "http_protocol_options", e_path),
                                    e_path + ".http_protocol_options");
  }
  return settings;
}

std::string anyValue(const YAML::Node& any, const std::string& path) {
  checkKeys(any, path, {"@type", "value"});
  const std::string type = scalar(required(any, "@type", path), path + ".@type");
  const std::string value = any["value"] ? scalar(any["value"], path + ".value") : "";
  if (type == StringValueType) {
    return value;
  }
  if (type == BytesValueType) {
    return decodeBase64(value, path + ".value");
  }
  fail(path + ".@type", "unsupported " + type + " (StringValue or BytesValue expected)");
}

// envoy.extensions.dynamic_modules.v3.DynamicModuleConfig (the supported fields) into `spec`.
template <class Spec>
void dynamicModuleConfig(const YAML::Node& tc, const std::string& path, Spec& spec) {
  const std::string dm_path = path + ".dynamic_module_config";
  const YAML::Node dm = required(tc, "dynamic_module_config", path);
  checkKeys(dm, dm_path, {"name", "do_not_close", "load_globally"});
  spec.module_name = scalar(required(dm, "name", dm_path), dm_path + ".name");
  if (dm["do_not_close"]) {
    spec.do_not_close = boolean(dm["do_not_close"], dm_path + ".do_not_close");
  }
  if (dm["load_globally"]) {
    spec.load_globally = boolean(dm["load_globally"], dm_path + ".load_globally");
  }
}

// A route's or virtual host's typed_per_filter_config. As in Envoy (Router::PerFilterConfigs)
// the factory is chosen by the value's type URL, not by the key: a key that names no http filter
// of the connection manager is accepted (its config is created, and never used). Only the
// dynamic-module filter's DynamicModuleFilterPerRoute is supported.
PerFilterConfigSpecs perFilterConfigs(const YAML::Node& node, const std::string& path) {
  if (!node.IsMap()) {
    fail(path, "expected a mapping");
  }
  PerFilterConfigSpecs result;
  for (const auto& item : node) {
    const std::string name = item.first.as<std::string>();
    const std::string e_path = path + "." + name;
    const YAML::Node any = item.second;
    if (!any.IsMap()) {
      fail(e_path, "expected a mapping");
    }
    const std::string type = scalar(required(any, "@type", e_path), e_path + ".@type");
    if (type == RouteFilterConfigType) {
      fail(e_path + ".@type", "envoy.config.route.v3.FilterConfig is not supported by the "
                              "conformance host yet");
    }
    if (type != DynamicModulePerRouteType) {
      fail(e_path + ".@type", "unsupported " + type + " (DynamicModuleFilterPerRoute expected)");
    }
    checkKeys(any, e_path, {"@type", "dynamic_module_config", "per_route_config_name",
                            "filter_config", "disabled"});
    if (any["disabled"] && boolean(any["disabled"], e_path + ".disabled")) {
      fail(e_path + ".disabled", "not supported by the conformance host yet");
    }
    PerRouteConfigSpec spec;
    spec.path = e_path;
    dynamicModuleConfig(any, e_path, spec);
    if (any["per_route_config_name"]) {
      spec.per_route_config_name =
          scalar(any["per_route_config_name"], e_path + ".per_route_config_name");
    }
    if (any["filter_config"]) {
      spec.filter_config = anyValue(any["filter_config"], e_path + ".filter_config");
    }
    result.emplace_back(name, std::move(spec));
  }
  return result;
}

DynamicModuleFilterSpec dynamicModuleFilter(const YAML::Node& tc, const std::string& path) {
  checkKeys(tc, path, {"@type", "dynamic_module_config", "filter_name", "filter_config",
                       "terminal_filter"});
  DynamicModuleFilterSpec spec;
  spec.path = path;
  dynamicModuleConfig(tc, path, spec);
  if (tc["terminal_filter"] && boolean(tc["terminal_filter"], path + ".terminal_filter")) {
    fail(path + ".terminal_filter", "not supported by the conformance host yet");
  }
  if (tc["filter_name"]) {
    spec.filter_name = scalar(tc["filter_name"], path + ".filter_name");
  }
  if (tc["filter_config"]) {
    spec.filter_config = anyValue(tc["filter_config"], path + ".filter_config");
  }
  return spec;
}

void routeConfig(const YAML::Node& rc, const std::string& path, ListenerSpec& listener) {
  checkKeys(rc, path, {"name", "virtual_hosts"});
  const YAML::Node vhosts = required(rc, "virtual_hosts", path);
  for (size_t i = 0; i < vhosts.size(); ++i) {
    const std::string vh_path = path + ".virtual_hosts[" + std::to_string(i) + "]";
    const YAML::Node vh = vhosts[i];
    checkKeys(vh, vh_path, {"name", "domains", "routes", "typed_per_filter_config"});
    VirtualHostSpec spec;
    spec.name = scalar(required(vh, "name", vh_path), vh_path + ".name");
    for (const auto& domain : required(vh, "domains", vh_path)) {
      spec.domains.push_back(domain.as<std::string>());
    }
    const YAML::Node routes = required(vh, "routes", vh_path);
    for (size_t j = 0; j < routes.size(); ++j) {
      const std::string r_path = vh_path + ".routes[" + std::to_string(j) + "]";
      const YAML::Node r = routes[j];
      checkKeys(r, r_path, {"name", "match", "route", "typed_per_filter_config"});
      const YAML::Node match = required(r, "match", r_path);
      checkKeys(match, r_path + ".match", {"prefix"});
      const YAML::Node route = required(r, "route", r_path);
      checkKeys(route, r_path + ".route", {"cluster"});
      spec.routes.push_back(
          {r["name"] ? scalar(r["name"], r_path + ".name") : std::string(),
           scalar(required(match, "prefix", r_path + ".match"), r_path + ".match.prefix"),
           scalar(required(route, "cluster", r_path + ".route"), r_path + ".route.cluster"),
           {}});
      if (r["typed_per_filter_config"]) {
        spec.routes.back().typed_per_filter_config =
            perFilterConfigs(r["typed_per_filter_config"], r_path + ".typed_per_filter_config");
      }
    }
    if (vh["typed_per_filter_config"]) {
      spec.typed_per_filter_config =
          perFilterConfigs(vh["typed_per_filter_config"], vh_path + ".typed_per_filter_config");
    }
    listener.virtual_hosts.push_back(std::move(spec));
  }
}

void httpConnectionManager(const YAML::Node& tc, const std::string& path, ListenerSpec& listener) {
  checkKeys(tc, path, {"@type", "stat_prefix", "route_config", "http_filters", "codec_type",
                       "http_protocol_options", "common_http_protocol_options",
                       "max_request_headers_kb", "generate_request_id",
                       "preserve_external_request_id", "use_remote_address"});
  if (tc["codec_type"]) {
    const std::string codec = scalar(tc["codec_type"], path + ".codec_type");
    if (codec != "AUTO" && codec != "HTTP1") {
      fail(path + ".codec_type", "only AUTO/HTTP1 are supported");
    }
  }
  if (tc["http_protocol_options"]) {
    listener.http1_settings =
        http1ProtocolOptions(tc["http_protocol_options"], path + ".http_protocol_options");
  }
  if (tc["common_http_protocol_options"]) {
    const std::string c_path = path + ".common_http_protocol_options";
    const YAML::Node common = tc["common_http_protocol_options"];
    checkKeys(common, c_path, {"max_headers_count"});
    if (common["max_headers_count"]) {
      // google.protobuf.UInt32Value, gte 1.
      listener.http1_settings.max_headers_count =
          boundedUint(common["max_headers_count"], c_path + ".max_headers_count", 1, 0xFFFFFFFFu);
    }
  }
  if (tc["max_request_headers_kb"]) {
    // Envoy: UInt32Value in (0, 8192]. The host's http-parser cannot read a request head above
    // 80 KiB (HTTP_MAX_HEADER_SIZE), so it accepts up to 80.
    listener.http1_settings.max_request_headers_kb =
        boundedUint(tc["max_request_headers_kb"], path + ".max_request_headers_kb", 1, 80);
  }
  if (tc["generate_request_id"]) {
    listener.request_id.generate =
        boolean(tc["generate_request_id"], path + ".generate_request_id");
  }
  if (tc["preserve_external_request_id"]) {
    listener.request_id.preserve_external =
        boolean(tc["preserve_external_request_id"], path + ".preserve_external_request_id");
  }
  if (tc["use_remote_address"] &&
      boolean(tc["use_remote_address"], path + ".use_remote_address")) {
    fail(path + ".use_remote_address", "only false (the default) is supported");
  }
  listener.stat_prefix = scalar(required(tc, "stat_prefix", path), path + ".stat_prefix");
  routeConfig(required(tc, "route_config", path), path + ".route_config", listener);
  const YAML::Node filters = required(tc, "http_filters", path);
  bool router_seen = false;
  for (size_t i = 0; i < filters.size(); ++i) {
    const std::string f_path = path + ".http_filters[" + std::to_string(i) + "]";
    const YAML::Node f = filters[i];
    checkKeys(f, f_path, {"name", "typed_config"});
    if (router_seen) {
      fail(f_path, "the router must be the last http filter");
    }
    const std::string tc_path = f_path + ".typed_config";
    const YAML::Node ftc = required(f, "typed_config", f_path);
    const std::string type = scalar(required(ftc, "@type", tc_path), tc_path + ".@type");
    if (type == DynamicModuleType) {
      listener.filters.push_back(dynamicModuleFilter(ftc, f_path));
      if (f["name"]) {
        listener.filters.back().config_name = scalar(f["name"], f_path + ".name");
      }
    } else if (type == RouterType) {
      checkKeys(ftc, tc_path, {"@type"});
      router_seen = true;
    } else {
      fail(tc_path + ".@type", "unsupported " + type);
    }
  }
  if (!router_seen) {
    fail(path + ".http_filters", "the last http filter must be envoy.filters.http.router");
  }
}

void tcpProxy(const YAML::Node& tc, const std::string& path, ListenerSpec& listener) {
  checkKeys(tc, path, {"@type", "stat_prefix", "cluster", "idle_timeout"});
  listener.tcp_proxy.stat_prefix = scalar(required(tc, "stat_prefix", path), path + ".stat_prefix");
  listener.tcp_proxy.cluster = scalar(required(tc, "cluster", path), path + ".cluster");
  listener.stat_prefix = listener.tcp_proxy.stat_prefix;
  if (tc["idle_timeout"]) {
    HOST_LOG(Debug, path + ".idle_timeout is ignored by the conformance host");
  }
}

// A node as text with mapping keys sorted (sequences keep their order), so that two YAML texts of
// the same configuration compare equal whatever their key order or style (Envoy compares protos).
// Keys in `skip` are left out of the top-level mapping.
std::string canonicalYaml(const YAML::Node& node, const std::set<std::string>& skip = {}) {
  if (node.IsMap()) {
    std::map<std::string, std::string> entries;
    for (const auto& item : node) {
      const std::string key = item.first.as<std::string>();
      if (skip.count(key) == 0) {
        entries[key] = canonicalYaml(item.second);
      }
    }
    std::string out = "{";
    for (const auto& [key, value] : entries) {
      out += YAML::Dump(YAML::Node(key)) + ":" + value + ",";
    }
    return out + "}";
  }
  if (node.IsSequence()) {
    std::string out = "[";
    for (const auto& item : node) {
      out += canonicalYaml(item) + ",";
    }
    return out + "]";
  }
  if (node.IsScalar()) {
    return YAML::Dump(YAML::Node(node.Scalar()));
  }
  return "~";
}

ListenerSpec listenerSpec(const YAML::Node& l, const std::string& path) {
  checkKeys(l, path, {"name", "address", "per_connection_buffer_limit_bytes", "filter_chains"});
  ListenerSpec spec;
  spec.canonical_config = canonicalYaml(l);
  spec.canonical_config_without_filter_chains = canonicalYaml(l, {"filter_chains"});
  spec.name = l["name"] ? scalar(l["name"], path + ".name") : path;
  spec.address = socketAddress(required(l, "address", path), path + ".address");
  requireIpLiteral(spec.address, path + ".address");
  const std::string limit_path = path + ".per_connection_buffer_limit_bytes";
  if (l["per_connection_buffer_limit_bytes"]) {
    spec.per_connection_buffer_limit_bytes =
        uint32Value(l["per_connection_buffer_limit_bytes"], limit_path);
  }
  const YAML::Node chains = required(l, "filter_chains", path);
  if (chains.size() != 1) {
    fail(path + ".filter_chains", "exactly one filter chain is supported");
  }
  const std::string fc_path = path + ".filter_chains[0]";
  checkKeys(chains[0], fc_path, {"filters"});
  const YAML::Node filters = required(chains[0], "filters", fc_path);
  if (filters.size() == 0) {
    fail(fc_path + ".filters", "at least one network filter is required");
  }
  auto typedConfig = [&](size_t i, std::string& tc_path, std::string& type) {
    const std::string f_path = fc_path + ".filters[" + std::to_string(i) + "]";
    checkKeys(filters[i], f_path, {"name", "typed_config"});
    tc_path = f_path + ".typed_config";
    const YAML::Node tc = required(filters[i], "typed_config", f_path);
    type = scalar(required(tc, "@type", tc_path), tc_path + ".@type");
    return tc;
  };
  std::string tc_path;
  std::string type;
  const YAML::Node first = typedConfig(0, tc_path, type);
  if (type == HcmType) {
    if (filters.size() != 1) {
      fail(fc_path + ".filters", "http_connection_manager must be the only network filter");
    }
    httpConnectionManager(first, tc_path, spec);
    return spec;
  }
  // A TCP listener: DynamicModuleNetworkFilter entries, then tcp_proxy last.
  spec.kind = ListenerSpec::Kind::Tcp;
  if (l["per_connection_buffer_limit_bytes"]) {
    fail(limit_path, "connection buffer limits of TCP listeners are not supported by the "
                     "conformance host");
  }
  for (size_t i = 0; i < filters.size(); ++i) {
    const YAML::Node tc = typedConfig(i, tc_path, type);
    const bool last = i + 1 == filters.size();
    if (type == NetworkDynamicModuleType && !last) {
      spec.network_filters.push_back(
          dynamicModuleFilter(tc, fc_path + ".filters[" + std::to_string(i) + "]"));
    } else if (type == TcpProxyType && last) {
      tcpProxy(tc, tc_path, spec);
    } else if (type == TcpProxyType || type == NetworkDynamicModuleType) {
      fail(tc_path + ".@type", "a TCP filter chain is DynamicModuleNetworkFilter entries, then "
                               "envoy.filters.network.tcp_proxy last");
    } else {
      fail(tc_path + ".@type", "unsupported " + type);
    }
  }
  return spec;
}

} // namespace

ClusterSpec clusterSpec(const YAML::Node& c, const std::string& path) {
  checkKeys(c, path, {"name", "type", "connect_timeout", "load_assignment", "lb_policy",
                      "typed_extension_protocol_options"});
  ClusterSpec spec;
  spec.name = scalar(required(c, "name", path), path + ".name");
  spec.type = c["type"] ? scalar(c["type"], path + ".type") : "STATIC";
  if (spec.type != "STATIC" && spec.type != "STRICT_DNS" && spec.type != "LOGICAL_DNS") {
    fail(path + ".type", "unsupported " + spec.type);
  }
  if (c["lb_policy"] && scalar(c["lb_policy"], path + ".lb_policy") != "ROUND_ROBIN") {
    fail(path + ".lb_policy", "only ROUND_ROBIN is supported");
  }
  if (c["connect_timeout"]) {
    spec.connect_timeout_ms = durationMs(c["connect_timeout"], path + ".connect_timeout");
  }
  if (c["typed_extension_protocol_options"]) {
    spec.http1_settings = upstreamProtocolOptions(c["typed_extension_protocol_options"],
                                                  path + ".typed_extension_protocol_options");
  }
  const std::string la_path = path + ".load_assignment";
  const YAML::Node la = required(c, "load_assignment", path);
  checkKeys(la, la_path, {"cluster_name", "endpoints"});
  const YAML::Node endpoints = required(la, "endpoints", la_path);
  for (size_t i = 0; i < endpoints.size(); ++i) {
    const std::string e_path = la_path + ".endpoints[" + std::to_string(i) + "]";
    checkKeys(endpoints[i], e_path, {"lb_endpoints"});
    const YAML::Node lbs = required(endpoints[i], "lb_endpoints", e_path);
    for (size_t j = 0; j < lbs.size(); ++j) {
      const std::string lb_path = e_path + ".lb_endpoints[" + std::to_string(j) + "]";
      checkKeys(lbs[j], lb_path, {"endpoint"});
      const YAML::Node ep = required(lbs[j], "endpoint", lb_path);
      checkKeys(ep, lb_path + ".endpoint", {"address"});
      spec.endpoints.push_back(
          socketAddress(required(ep, "address", lb_path + ".endpoint"), lb_path + ".endpoint.address"));
      if (spec.type == "STATIC") {
        requireIpLiteral(spec.endpoints.back(), lb_path + ".endpoint.address",
                         ". Consider setting resolver_name or setting cluster type to "
                         "'STRICT_DNS' or 'LOGICAL_DNS'");
      }
    }
  }
  if (spec.endpoints.empty()) {
    fail(la_path, "cluster has no endpoints");
  }
  return spec;
}

std::string decodeBase64(const std::string& input, const std::string& field) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (const char c : input) {
    int v;
    if (c >= 'A' && c <= 'Z') {
      v = c - 'A';
    } else if (c >= 'a' && c <= 'z') {
      v = c - 'a' + 26;
    } else if (c >= '0' && c <= '9') {
      v = c - '0' + 52;
    } else if (c == '+' || c == '-') {
      v = 62;
    } else if (c == '/' || c == '_') {
      v = 63;
    } else if (c == '=' || c == '\n' || c == '\r' || c == ' ') {
      continue;
    } else {
      fail(field, "invalid base64");
    }
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

namespace {

constexpr char ListenerType[] = "type.googleapis.com/envoy.config.listener.v3.Listener";

// Envoy's RouteConfiguration validation (validate_clusters, on by default for an inline route
// configuration with static clusters): every route's cluster must exist. "" when they do.
std::string unknownRouteCluster(const ListenerSpec& listener, const std::set<std::string>& names) {
  for (const VirtualHostSpec& vh : listener.virtual_hosts) {
    for (const RouteSpec& r : vh.routes) {
      if (names.count(r.cluster) == 0) {
        return "route references unknown cluster '" + r.cluster + "'";
      }
    }
  }
  return "";
}

// dynamic_resources: lds_config with a path_config_source only.
LdsConfigSpec dynamicResources(const YAML::Node& dr) {
  checkKeys(dr, "dynamic_resources", {"lds_config"});
  const std::string path = "dynamic_resources.lds_config";
  const YAML::Node lds = required(dr, "lds_config", "dynamic_resources");
  checkKeys(lds, path, {"resource_api_version", "path_config_source"});
  if (lds["resource_api_version"]) {
    // AUTO (the default) and V3 both mean v3 today; V2 is gone.
    const std::string version = scalar(lds["resource_api_version"], path + ".resource_api_version");
    if (version != "V3" && version != "AUTO") {
      fail(path + ".resource_api_version", "only V3 is supported");
    }
  }
  const std::string pcs_path = path + ".path_config_source";
  const YAML::Node pcs = required(lds, "path_config_source", path);
  checkKeys(pcs, pcs_path, {"path", "watched_directory"});
  LdsConfigSpec spec;
  spec.path = scalar(required(pcs, "path", pcs_path), pcs_path + ".path");
  if (spec.path.empty()) {
    fail(pcs_path + ".path", "value length must be at least 1 characters");
  }
  if (pcs["watched_directory"]) {
    const std::string wd_path = pcs_path + ".watched_directory";
    checkKeys(pcs["watched_directory"], wd_path, {"path"});
    spec.watched_directory =
        scalar(required(pcs["watched_directory"], "path", wd_path), wd_path + ".path");
    if (spec.watched_directory->empty()) {
      fail(wd_path + ".path", "value length must be at least 1 characters");
    }
  }
  return spec;
}

} // namespace

BootstrapSpec loadBootstrap(const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    throw ConfigError("unable to parse " + path + ": " + e.what());
  }
  if (!root.IsMap()) {
    throw ConfigError(path + ": expected a mapping at the top level");
  }
  BootstrapSpec bootstrap;
  bool stats_flush_interval_set = false;
  std::string node_id;
  std::string node_cluster;
  for (const auto& item : root) {
    const std::string key = item.first.as<std::string>();
    if (key == "static_resources") {
      const YAML::Node sr = item.second;
      checkKeys(sr, key, {"listeners", "clusters"});
      const YAML::Node listeners = sr["listeners"];
      for (size_t i = 0; listeners && i < listeners.size(); ++i) {
        bootstrap.listeners.push_back(listenerSpec(
            listeners[i], "static_resources.listeners[" + std::to_string(i) + "]"));
      }
      const YAML::Node clusters = sr["clusters"];
      bootstrap.canonical_clusters = clusters ? canonicalYaml(clusters) : "";
      for (size_t i = 0; clusters && i < clusters.size(); ++i) {
        bootstrap.clusters.push_back(
            clusterSpec(clusters[i], "static_resources.clusters[" + std::to_string(i) + "]"));
      }
    } else if (key == "admin") {
      checkKeys(item.second, "admin", {"address", "access_log", "access_log_path"});
      bootstrap.admin = socketAddress(required(item.second, "address", "admin"), "admin.address");
      bootstrap.canonical_admin = canonicalYaml(item.second);
      requireIpLiteral(*bootstrap.admin, "admin.address");
    } else if (key == "dynamic_resources") {
      bootstrap.lds = dynamicResources(item.second);
      bootstrap.canonical_dynamic_resources = canonicalYaml(item.second);
    } else if (key == "node") {
      // Only id and cluster matter to the host (an xDS subscription requires them).
      if (item.second.IsMap()) {
        if (item.second["id"] && item.second["id"].IsScalar()) {
          node_id = item.second["id"].as<std::string>();
        }
        if (item.second["cluster"] && item.second["cluster"].IsScalar()) {
          node_cluster = item.second["cluster"].as<std::string>();
        }
      }
    } else if (key == "stats_flush_interval") {
      // Envoy's validation: at least 1ms, less than 300s.
      const uint32_t ms = durationMs(item.second, key);
      if (ms < 1 || ms >= 300000) {
        fail(key, "value must be inside range [1ms, 300s)");
      }
      bootstrap.stats_flush.interval_ms = ms;
      stats_flush_interval_set = true;
    } else if (key == "stats_flush_on_admin") {
      if (!boolean(item.second, key)) {
        fail(key, "value must equal true");
      }
      bootstrap.stats_flush.on_admin = true;
    } else if (key == "layered_runtime" || key == "overload_manager" || key == "stats_config" ||
               key == "cluster_manager") {
      HOST_LOG(Debug, "ignoring top-level config key '" + key + "'");
    } else {
      fail(key, "top-level field not supported by the conformance host");
    }
  }
  // Envoy's StatsConfigImpl.
  if (stats_flush_interval_set && bootstrap.stats_flush.on_admin) {
    fail("stats_flush_interval",
         "Only one of stats_flush_interval or stats_flush_on_admin should be set!");
  }
  // Envoy's Config::Utility::checkLocalInfo, run for every xDS subscription (the host has no
  // --service-node / --service-cluster).
  if (bootstrap.lds && (node_id.empty() || node_cluster.empty())) {
    fail("dynamic_resources.lds_config",
         std::string(ListenerType) + ": node 'id' and 'cluster' are required. Set it either in "
                                     "'node' config or via --service-node and --service-cluster "
                                     "options.");
  }
  std::set<std::string> cluster_names;
  for (const ClusterSpec& c : bootstrap.clusters) {
    cluster_names.insert(c.name);
  }
  for (size_t i = 0; i < bootstrap.listeners.size(); ++i) {
    const std::string error = unknownRouteCluster(bootstrap.listeners[i], cluster_names);
    if (!error.empty()) {
      throw ConfigError("static_resources.listeners[" + std::to_string(i) + "]: " + error);
    }
  }
  return bootstrap;
}

LdsResponse loadLdsResponse(const std::string& path, const std::vector<ClusterSpec>& clusters) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    throw LdsFileError("unable to parse " + path + ": " + e.what());
  }
  if (!root.IsMap()) {
    throw LdsFileError(path + ": expected a DiscoveryResponse (a mapping) at the top level");
  }
  // The fields Envoy's filesystem subscription reads (type_url and nonce are read and unused).
  checkKeys(root, "DiscoveryResponse", {"version_info", "resources", "type_url", "nonce"});
  LdsResponse response;
  if (root["version_info"]) {
    response.version_info = scalar(root["version_info"], "version_info");
  }
  const YAML::Node resources = root["resources"];
  if (resources && !resources.IsSequence() && !resources.IsNull()) {
    throw LdsFileError(path + ": resources: expected a list");
  }
  std::set<std::string> cluster_names;
  for (const ClusterSpec& c : clusters) {
    cluster_names.insert(c.name);
  }
  for (size_t i = 0; resources && i < resources.size(); ++i) {
    const std::string r_path = "resources[" + std::to_string(i) + "]";
    const YAML::Node resource = resources[i];
    if (!resource.IsMap() || !resource["@type"]) {
      throw LdsFileError(path + ": " + r_path + ": expected a google.protobuf.Any with an @type");
    }
    const std::string type = scalar(resource["@type"], r_path + ".@type");
    if (type != ListenerType) {
      fail(r_path + ".@type", "Unable to unpack as envoy.config.listener.v3.Listener: " + type);
    }
    YAML::Node listener = YAML::Clone(resource);
    listener.remove("@type");
    LdsResource entry;
    entry.name = scalar(required(listener, "name", r_path), r_path + ".name");
    try {
      ListenerSpec spec = listenerSpec(listener, r_path);
      const std::string error = unknownRouteCluster(spec, cluster_names);
      if (!error.empty()) {
        fail(r_path, error);
      }
      entry.spec = std::move(spec);
    } catch (const ConfigError& e) {
      entry.error = e.what();
    } catch (const YAML::Exception& e) {
      entry.error = r_path + ": " + e.what();
    }
    response.resources.push_back(std::move(entry));
  }
  return response;
}

} // namespace EnvoyTsHost
