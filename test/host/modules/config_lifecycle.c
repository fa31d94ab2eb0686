// The host's config lifecycle test module: logs, on stderr, every call that creates or destroys
// something, each with the id of the filter config it belongs to, so that a test can check the
// order of calls across a reload (new config_new before old config_destroy; config_destroy after
// the last filter_destroy of that config; per-route configs destroyed before filter configs):
//   config_lifecycle: config_new <id>          config_lifecycle: config_destroy <id>
//   config_lifecycle: filter_new <id>          config_lifecycle: filter_destroy <id>
//   config_lifecycle: per_route_config_new <id>  config_lifecycle: per_route_config_destroy <id>
// The filter config string is the id; "reject" makes config_new (or per_route_config_new)
// return NULL. Each response gets `x-config: <id>` (the filter config that served the stream) and,
// with a per-route config, `x-per-route: <its id>`.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PASSTHROUGH_SKIP_CONFIG_NEW
#define PASSTHROUGH_SKIP_CONFIG_DESTROY
#define PASSTHROUGH_SKIP_FILTER_NEW
#define PASSTHROUGH_SKIP_DESTROY
#define PASSTHROUGH_SKIP_RESPONSE_HEADERS
#include "passthrough.h"

typedef envoy_dynamic_module_type_module_buffer mbuf;

struct config {
  char id[128];
};

struct filter {
  const struct config* config;
};

static int isReject(envoy_dynamic_module_type_envoy_buffer config) {
  return config.length == 6 && memcmp(config.ptr, "reject", 6) == 0;
}

ENVOY_TS_HOOK envoy_dynamic_module_type_http_filter_config_module_ptr
envoy_dynamic_module_on_http_filter_config_new(
    envoy_dynamic_module_type_http_filter_config_envoy_ptr config_envoy,
    envoy_dynamic_module_type_envoy_buffer name, envoy_dynamic_module_type_envoy_buffer config) {
  if (isReject(config)) {
    fprintf(stderr, "config_lifecycle: config_new rejects reject\n");
    return NULL;
  }
  struct config* c = calloc(1, sizeof(*c));
  snprintf(c->id, sizeof(c->id), "%.*s", (int)config.length, config.ptr);
  fprintf(stderr, "config_lifecycle: config_new %s\n", c->id);
  return c;
}

ENVOY_TS_HOOK void envoy_dynamic_module_on_http_filter_config_destroy(
    envoy_dynamic_module_type_http_filter_config_module_ptr config_module) {
  const struct config* c = config_module;
  fprintf(stderr, "config_lifecycle: config_destroy %s\n", c->id);
  free((void*)c);
}

ENVOY_TS_HOOK filter_module_ptr envoy_dynamic_module_on_http_filter_new(
    envoy_dynamic_module_type_http_filter_config_module_ptr config_module,
    filter_envoy_ptr filter_envoy) {
  struct filter* f = calloc(1, sizeof(*f));
  f->config = config_module;
  fprintf(stderr, "config_lifecycle: filter_new %s\n", f->config->id);
  return f;
}

ENVOY_TS_HOOK void envoy_dynamic_module_on_http_filter_destroy(filter_module_ptr filter_module) {
  struct filter* f = (struct filter*)filter_module;
  fprintf(stderr, "config_lifecycle: filter_destroy %s\n", f->config->id);
  free(f);
}

ENVOY_TS_HOOK envoy_dynamic_module_type_http_filter_per_route_config_module_ptr
envoy_dynamic_module_on_http_filter_per_route_config_new(
    envoy_dynamic_module_type_envoy_buffer name, envoy_dynamic_module_type_envoy_buffer config) {
  if (isReject(config)) {
    fprintf(stderr, "config_lifecycle: per_route_config_new rejects reject\n");
    return NULL;
  }
  char* id = calloc(1, config.length + 1);
  memcpy(id, config.ptr, config.length);
  fprintf(stderr, "config_lifecycle: per_route_config_new %s\n", id);
  return id;
}

ENVOY_TS_HOOK void envoy_dynamic_module_on_http_filter_per_route_config_destroy(
    envoy_dynamic_module_type_http_filter_per_route_config_module_ptr per_route_config) {
  fprintf(stderr, "config_lifecycle: per_route_config_destroy %s\n",
          (const char*)per_route_config);
  free((void*)per_route_config);
}

static mbuf str(const char* s) { return (mbuf){s, strlen(s)}; }

ENVOY_TS_HOOK envoy_dynamic_module_type_on_http_filter_response_headers_status
envoy_dynamic_module_on_http_filter_response_headers(
    filter_envoy_ptr e, filter_module_ptr filter_module, bool end_of_stream) {
  const struct filter* f = filter_module;
  envoy_dynamic_module_callback_http_set_header(
      e, envoy_dynamic_module_type_http_header_type_ResponseHeader, str("x-config"),
      str(f->config->id));
  const char* per_route = envoy_dynamic_module_callback_get_most_specific_route_config(e);
  if (per_route != NULL) {
    envoy_dynamic_module_callback_http_set_header(
        e, envoy_dynamic_module_type_http_header_type_ResponseHeader, str("x-per-route"),
        str(per_route));
  }
  return PASSTHROUGH_CONTINUE;
}
