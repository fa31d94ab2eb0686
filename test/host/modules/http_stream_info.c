// The host's HTTP stream-info test module: proves the routing, attribute, dynamic metadata,
// filter state and labelled-metric callbacks through real HTTP. The filter config selects what
// the request hook does to :path:
//   "rewrite-clear"  /a... becomes /b... and the route cache is cleared
//   "rewrite"        /a... becomes /b... without clearing the route cache
//   anything else    the path is left alone
// In every stream the request hook reads the attributes, sets dynamic metadata and filter state
// and records metrics; the response hook copies what it read into x-attr-* / x-md-* / x-fs-* /
// x-metric-* response headers (and logs a summary line), which the test checks.
// Metrics defined in config_new: counter "requests" {method}, gauge "inflight", histogram
// "path_length" {kind}, counter "plain".
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PASSTHROUGH_SKIP_CONFIG_NEW
#define PASSTHROUGH_SKIP_CONFIG_DESTROY
#define PASSTHROUGH_SKIP_FILTER_NEW
#define PASSTHROUGH_SKIP_REQUEST_HEADERS
#define PASSTHROUGH_SKIP_RESPONSE_HEADERS
#define PASSTHROUGH_SKIP_DESTROY
#include "passthrough.h"

typedef envoy_dynamic_module_type_module_buffer mbuf;
typedef envoy_dynamic_module_type_envoy_buffer ebuf;

enum mode { KEEP, REWRITE, REWRITE_CLEAR };

struct config {
  enum mode mode;
  envoy_dynamic_module_type_http_filter_config_envoy_ptr envoy; // for the Frozen check
  size_t requests, inflight, path_length, plain;
  int define_results; // sum of the define results in config_new (0 = all Success)
};

struct filter {
  const struct config* config;
  char attrs[1024]; // "name=value;" for the response headers, filled on request headers
  char results[256];
};

static mbuf str(const char* s) { return (mbuf){s, strlen(s)}; }

static void appendf(char* out, size_t size, const char* format, ...)
    __attribute__((format(printf, 3, 4)));
static void appendf(char* out, size_t size, const char* format, ...) {
  const size_t used = strlen(out);
  va_list args;
  va_start(args, format);
  vsnprintf(out + used, size - used, format, args);
  va_end(args);
}

static void setResponseHeader(filter_envoy_ptr e, const char* key, const char* value) {
  envoy_dynamic_module_callback_http_set_header(
      e, envoy_dynamic_module_type_http_header_type_ResponseHeader, str(key), str(value));
}

ENVOY_TS_HOOK envoy_dynamic_module_type_http_filter_config_module_ptr
envoy_dynamic_module_on_http_filter_config_new(
    envoy_dynamic_module_type_http_filter_config_envoy_ptr config_envoy,
    envoy_dynamic_module_type_envoy_buffer name, envoy_dynamic_module_type_envoy_buffer config) {
  struct config* c = calloc(1, sizeof(*c));
  c->envoy = config_envoy;
  if (config.length == 13 && memcmp(config.ptr, "rewrite-clear", 13) == 0) {
    c->mode = REWRITE_CLEAR;
  } else if (config.length == 7 && memcmp(config.ptr, "rewrite", 7) == 0) {
    c->mode = REWRITE;
  }
  mbuf method[] = {str("method")};
  mbuf kind[] = {str("kind")};
  c->define_results +=
      envoy_dynamic_module_callback_http_filter_config_define_counter(config_envoy, str("requests"),
                                                                      method, 1, &c->requests);
  c->define_results += envoy_dynamic_module_callback_http_filter_config_define_gauge(
      config_envoy, str("inflight"), NULL, 0, &c->inflight);
  c->define_results += envoy_dynamic_module_callback_http_filter_config_define_histogram(
      config_envoy, str("path_length"), kind, 1, &c->path_length);
  c->define_results += envoy_dynamic_module_callback_http_filter_config_define_counter(
      config_envoy, str("plain"), NULL, 0, &c->plain);
  return c;
}

ENVOY_TS_HOOK void envoy_dynamic_module_on_http_filter_config_destroy(
    envoy_dynamic_module_type_http_filter_config_module_ptr config_module) {
  free((void*)config_module);
}

ENVOY_TS_HOOK filter_module_ptr envoy_dynamic_module_on_http_filter_new(
    envoy_dynamic_module_type_http_filter_config_module_ptr config_module,
    filter_envoy_ptr filter_envoy) {
  struct filter* f = calloc(1, sizeof(*f));
  f->config = config_module;
  return f;
}

ENVOY_TS_HOOK void envoy_dynamic_module_on_http_filter_destroy(
    envoy_dynamic_module_type_http_filter_module_ptr filter_module) {
  free((void*)filter_module);
}

static void readAttributes(filter_envoy_ptr e, struct filter* f) {
  static const struct {
    const char* name;
    envoy_dynamic_module_type_attribute_id id;
  } strings[] = {
      {"request-id", envoy_dynamic_module_type_attribute_id_RequestId},
      {"protocol", envoy_dynamic_module_type_attribute_id_RequestProtocol},
      {"source", envoy_dynamic_module_type_attribute_id_SourceAddress},
      {"destination", envoy_dynamic_module_type_attribute_id_DestinationAddress},
      {"sni", envoy_dynamic_module_type_attribute_id_ConnectionRequestedServerName},
      {"tls-version", envoy_dynamic_module_type_attribute_id_ConnectionTlsVersion},
      {"source-port-as-string", envoy_dynamic_module_type_attribute_id_SourcePort},
      {"unknown", (envoy_dynamic_module_type_attribute_id)4}, // RequestMethod: not supported
  };
  for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); ++i) {
    ebuf value = {NULL, 0};
    if (envoy_dynamic_module_callback_http_filter_get_attribute_string(e, strings[i].id, &value)) {
      appendf(f->attrs, sizeof(f->attrs), "%s=%.*s;", strings[i].name, (int)value.length,
              value.ptr);
    } else {
      appendf(f->attrs, sizeof(f->attrs), "%s=<none>;", strings[i].name);
    }
  }
  static const struct {
    const char* name;
    envoy_dynamic_module_type_attribute_id id;
  } ints[] = {
      {"source-port", envoy_dynamic_module_type_attribute_id_SourcePort},
      {"destination-port", envoy_dynamic_module_type_attribute_id_DestinationPort},
      {"connection-id", envoy_dynamic_module_type_attribute_id_ConnectionId},
  };
  for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); ++i) {
    uint64_t value = 0;
    if (envoy_dynamic_module_callback_http_filter_get_attribute_int(e, ints[i].id, &value)) {
      appendf(f->attrs, sizeof(f->attrs), "%s=%llu;", ints[i].name, (unsigned long long)value);
    } else {
      appendf(f->attrs, sizeof(f->attrs), "%s=<none>;", ints[i].name);
    }
  }
  bool mtls = true;
  const bool mtls_ok = envoy_dynamic_module_callback_http_filter_get_attribute_bool(
      e, envoy_dynamic_module_type_attribute_id_ConnectionMtls, &mtls);
  appendf(f->attrs, sizeof(f->attrs), "mtls=%s;", mtls_ok ? (mtls ? "true" : "false") : "<none>");
}

ENVOY_TS_HOOK envoy_dynamic_module_type_on_http_filter_request_headers_status
envoy_dynamic_module_on_http_filter_request_headers(
    filter_envoy_ptr e, filter_module_ptr filter_module, bool end_of_stream) {
  struct filter* f = (struct filter*)filter_module;
  const struct config* c = f->config;

  // Per-stream state: nothing set by an earlier stream is visible.
  ebuf old = {NULL, 0};
  const int stale_md = envoy_dynamic_module_callback_http_get_metadata_string(
      e, envoy_dynamic_module_type_metadata_source_Dynamic, str("test.ns"), str("s"), &old);
  const int stale_fs =
      envoy_dynamic_module_callback_http_get_filter_state_bytes(e, str("test.state"), &old);

  ebuf path = {NULL, 0};
  char path_copy[256] = {0};
  if (envoy_dynamic_module_callback_http_get_header(
          e, envoy_dynamic_module_type_http_header_type_RequestHeader, str(":path"), &path, 0,
          NULL)) {
    snprintf(path_copy, sizeof(path_copy), "%.*s", (int)path.length, path.ptr);
  }
  if (c->mode != KEEP && strncmp(path_copy, "/a", 2) == 0) {
    char rewritten[256];
    snprintf(rewritten, sizeof(rewritten), "/b%s", path_copy + 2);
    envoy_dynamic_module_callback_http_set_header(
        e, envoy_dynamic_module_type_http_header_type_RequestHeader, str(":path"), str(rewritten));
    if (c->mode == REWRITE_CLEAR) {
      envoy_dynamic_module_callback_http_clear_route_cache(e);
    }
  }

  readAttributes(e, f);

  // Dynamic metadata and filter state of this stream.
  envoy_dynamic_module_callback_http_set_dynamic_metadata_string(e, str("test.ns"), str("s"),
                                                                 str("hello"));
  envoy_dynamic_module_callback_http_set_dynamic_metadata_number(e, str("test.ns"), str("n"), 42.5);
  envoy_dynamic_module_callback_http_set_dynamic_metadata_bool(e, str("test.ns"), str("b"), true);
  envoy_dynamic_module_callback_http_set_dynamic_metadata_string(e, str("test.ns"), str("replaced"),
                                                                 str("first"));
  envoy_dynamic_module_callback_http_set_dynamic_metadata_number(e, str("test.ns"), str("replaced"),
                                                                 7);
  const int fs_first =
      envoy_dynamic_module_callback_http_set_filter_state_bytes(e, str("test.state"), str("v1"));
  const int fs_again =
      envoy_dynamic_module_callback_http_set_filter_state_bytes(e, str("test.state"), str("v2"));

  // Metrics: labelled counter and histogram, plain gauge, and the error results.
  ebuf method = {NULL, 0};
  envoy_dynamic_module_callback_http_get_header(
      e, envoy_dynamic_module_type_http_header_type_RequestHeader, str(":method"), &method, 0, NULL);
  mbuf method_value[] = {{method.ptr, method.length}};
  mbuf kind_value[] = {str("path")};
  mbuf two_values[] = {str("x"), str("y")};
  const int inc = envoy_dynamic_module_callback_http_filter_increment_counter(
      e, c->requests, method_value, 1, 1);
  const int plain =
      envoy_dynamic_module_callback_http_filter_increment_counter(e, c->plain, NULL, 0, 2);
  const int gauge_inc =
      envoy_dynamic_module_callback_http_filter_increment_gauge(e, c->inflight, NULL, 0, 5);
  const int gauge_dec =
      envoy_dynamic_module_callback_http_filter_decrement_gauge(e, c->inflight, NULL, 0, 2);
  const int hist = envoy_dynamic_module_callback_http_filter_record_histogram_value(
      e, c->path_length, kind_value, 1, strlen(path_copy));
  const int invalid = envoy_dynamic_module_callback_http_filter_increment_counter(
      e, c->requests, two_values, 2, 1);
  const int not_found =
      envoy_dynamic_module_callback_http_filter_increment_counter(e, 77, NULL, 0, 1);
  const int labelled_not_found = envoy_dynamic_module_callback_http_filter_set_gauge(
      e, c->inflight, kind_value, 1, 1); // "inflight" has no labels: no labelled gauge 1
  size_t late_id = 0;
  const int frozen = envoy_dynamic_module_callback_http_filter_config_define_counter(
      c->envoy, str("late"), NULL, 0, &late_id);
  snprintf(f->results, sizeof(f->results),
           "define=%d;inc=%d;plain=%d;gauge=%d,%d;hist=%d;invalid=%d;not_found=%d;"
           "labelled_not_found=%d;frozen=%d;stale=%d,%d;fs=%d,%d",
           c->define_results, inc, plain, gauge_inc, gauge_dec, hist, invalid, not_found,
           labelled_not_found, frozen, stale_md, stale_fs, fs_first, fs_again);
  return PASSTHROUGH_CONTINUE;
}

ENVOY_TS_HOOK envoy_dynamic_module_type_on_http_filter_response_headers_status
envoy_dynamic_module_on_http_filter_response_headers(
    filter_envoy_ptr e, filter_module_ptr filter_module, bool end_of_stream) {
  struct filter* f = (struct filter*)filter_module;
  setResponseHeader(e, "x-attrs", f->attrs);
  setResponseHeader(e, "x-results", f->results);

  ebuf route = {NULL, 0};
  char value[256];
  if (envoy_dynamic_module_callback_http_filter_get_attribute_string(
          e, envoy_dynamic_module_type_attribute_id_XdsRouteName, &route)) {
    snprintf(value, sizeof(value), "%.*s", (int)route.length, route.ptr);
  } else {
    snprintf(value, sizeof(value), "<none>");
  }
  setResponseHeader(e, "x-route-name", value);

  char md[512] = {0};
  ebuf s = {NULL, 0};
  double n = 0;
  bool b = false;
  const envoy_dynamic_module_type_metadata_source dyn =
      envoy_dynamic_module_type_metadata_source_Dynamic;
  if (envoy_dynamic_module_callback_http_get_metadata_string(e, dyn, str("test.ns"), str("s"), &s)) {
    appendf(md, sizeof(md), "s=%.*s;", (int)s.length, s.ptr);
  }
  if (envoy_dynamic_module_callback_http_get_metadata_number(e, dyn, str("test.ns"), str("n"), &n)) {
    appendf(md, sizeof(md), "n=%g;", n);
  }
  if (envoy_dynamic_module_callback_http_get_metadata_bool(e, dyn, str("test.ns"), str("b"), &b)) {
    appendf(md, sizeof(md), "b=%s;", b ? "true" : "false");
  }
  if (envoy_dynamic_module_callback_http_get_metadata_number(e, dyn, str("test.ns"),
                                                             str("replaced"), &n)) {
    appendf(md, sizeof(md), "replaced=%g;", n);
  }
  appendf(md, sizeof(md), "s-as-number=%d;",
          envoy_dynamic_module_callback_http_get_metadata_number(e, dyn, str("test.ns"), str("s"),
                                                                 &n));
  appendf(md, sizeof(md), "n-as-bool=%d;",
          envoy_dynamic_module_callback_http_get_metadata_bool(e, dyn, str("test.ns"), str("n"),
                                                               &b));
  appendf(md, sizeof(md), "missing-key=%d;",
          envoy_dynamic_module_callback_http_get_metadata_string(e, dyn, str("test.ns"),
                                                                 str("nope"), &s));
  appendf(md, sizeof(md), "missing-ns=%d;",
          envoy_dynamic_module_callback_http_get_metadata_string(e, dyn, str("other"), str("s"),
                                                                 &s));
  static const envoy_dynamic_module_type_metadata_source others[] = {
      envoy_dynamic_module_type_metadata_source_Route,
      envoy_dynamic_module_type_metadata_source_Cluster,
      envoy_dynamic_module_type_metadata_source_Host,
      envoy_dynamic_module_type_metadata_source_HostLocality};
  for (size_t i = 0; i < 4; ++i) {
    appendf(md, sizeof(md), "source%d=%d;", (int)others[i],
            envoy_dynamic_module_callback_http_get_metadata_string(e, others[i], str("test.ns"),
                                                                   str("s"), &s));
  }
  setResponseHeader(e, "x-md", md);

  ebuf fs = {NULL, 0};
  if (envoy_dynamic_module_callback_http_get_filter_state_bytes(e, str("test.state"), &fs)) {
    snprintf(value, sizeof(value), "%.*s", (int)fs.length, fs.ptr);
  } else {
    snprintf(value, sizeof(value), "<none>");
  }
  setResponseHeader(e, "x-fs", value);

  char line[2048];
  const int length = snprintf(line, sizeof(line), "http_stream_info: %s route=%.*s %s", f->attrs,
                              (int)route.length, route.ptr ? route.ptr : "", f->results);
  envoy_dynamic_module_callback_log(envoy_dynamic_module_type_log_level_Info,
                                    (mbuf){line, (size_t)length});
  return PASSTHROUGH_CONTINUE;
}
