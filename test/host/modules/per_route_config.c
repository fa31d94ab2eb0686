// The host's per-route config test module: implements the two per-route hooks and copies the
// most specific per-route config of each stream into request headers, which the test's upstream
// echoes.
//   per_route_config_new(name, config): a heap string "<name>:<config>"; NULL (rejected) when the
//     config is "reject". per_route_config_destroy frees it. Both print a line on stderr so the
//     test can check the calls and their order against config_destroy.
//   filter config: "<header>" or "<header>,rewrite". The request hook sets <header> to the
//     stream's most specific per-route config string, or "none" without one. With ",rewrite", a
//     :path starting with /a is first rewritten to /b... and the route cache cleared; the config
//     seen before that goes into <header>-before.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PASSTHROUGH_SKIP_CONFIG_NEW
#define PASSTHROUGH_SKIP_CONFIG_DESTROY
#define PASSTHROUGH_SKIP_REQUEST_HEADERS
#include "passthrough.h"

typedef envoy_dynamic_module_type_module_buffer mbuf;
typedef envoy_dynamic_module_type_envoy_buffer ebuf;

struct config {
  char header[128];
  int rewrite;
};

static mbuf str(const char* s) { return (mbuf){s, strlen(s)}; }

ENVOY_TS_HOOK envoy_dynamic_module_type_http_filter_config_module_ptr
envoy_dynamic_module_on_http_filter_config_new(
    envoy_dynamic_module_type_http_filter_config_envoy_ptr config_envoy,
    envoy_dynamic_module_type_envoy_buffer name, envoy_dynamic_module_type_envoy_buffer config) {
  struct config* c = calloc(1, sizeof(*c));
  snprintf(c->header, sizeof(c->header), "%.*s", (int)config.length, config.ptr);
  char* comma = strchr(c->header, ',');
  if (comma != NULL) {
    c->rewrite = strcmp(comma + 1, "rewrite") == 0;
    *comma = '\0';
  }
  if (c->header[0] == '\0') {
    strcpy(c->header, "x-per-route");
  }
  fprintf(stderr, "per_route_config module: config_new %s\n", c->header);
  return c;
}

ENVOY_TS_HOOK void envoy_dynamic_module_on_http_filter_config_destroy(
    envoy_dynamic_module_type_http_filter_config_module_ptr config_module) {
  const struct config* c = config_module;
  fprintf(stderr, "per_route_config module: config_destroy %s\n", c->header);
  free((void*)c);
}

ENVOY_TS_HOOK envoy_dynamic_module_type_http_filter_per_route_config_module_ptr
envoy_dynamic_module_on_http_filter_per_route_config_new(
    envoy_dynamic_module_type_envoy_buffer name, envoy_dynamic_module_type_envoy_buffer config) {
  if (config.length == 6 && memcmp(config.ptr, "reject", 6) == 0) {
    fprintf(stderr, "per_route_config module: per_route_config_new rejects %.*s\n",
            (int)name.length, name.ptr);
    return NULL;
  }
  const size_t size = name.length + 1 + config.length + 1;
  char* copy = malloc(size);
  snprintf(copy, size, "%.*s:%.*s", (int)name.length, name.ptr, (int)config.length, config.ptr);
  fprintf(stderr, "per_route_config module: per_route_config_new %s\n", copy);
  return copy;
}

ENVOY_TS_HOOK void envoy_dynamic_module_on_http_filter_per_route_config_destroy(
    envoy_dynamic_module_type_http_filter_per_route_config_module_ptr per_route_config) {
  fprintf(stderr, "per_route_config module: per_route_config_destroy %s\n",
          (const char*)per_route_config);
  free((void*)per_route_config);
}

static void setRequestHeader(filter_envoy_ptr e, const char* key, const char* value) {
  envoy_dynamic_module_callback_http_set_header(
      e, envoy_dynamic_module_type_http_header_type_RequestHeader, str(key), str(value));
}

static const char* mostSpecific(filter_envoy_ptr e) {
  const char* config = envoy_dynamic_module_callback_get_most_specific_route_config(e);
  return config == NULL ? "none" : config;
}

ENVOY_TS_HOOK envoy_dynamic_module_type_on_http_filter_request_headers_status
envoy_dynamic_module_on_http_filter_request_headers(
    filter_envoy_ptr e, filter_module_ptr filter_module, bool end_of_stream) {
  const struct config* c = filter_module; // filter_new returns the config
  if (c->rewrite) {
    ebuf path = {NULL, 0};
    char path_copy[256] = {0};
    if (envoy_dynamic_module_callback_http_get_header(
            e, envoy_dynamic_module_type_http_header_type_RequestHeader, str(":path"), &path, 0,
            NULL)) {
      snprintf(path_copy, sizeof(path_copy), "%.*s", (int)path.length, path.ptr);
    }
    if (strncmp(path_copy, "/a", 2) == 0) {
      char before[160];
      snprintf(before, sizeof(before), "%s-before", c->header);
      setRequestHeader(e, before, mostSpecific(e));
      char rewritten[256];
      snprintf(rewritten, sizeof(rewritten), "/b%s", path_copy + 2);
      setRequestHeader(e, ":path", rewritten);
      envoy_dynamic_module_callback_http_clear_route_cache(e);
    }
  }
  setRequestHeader(e, c->header, mostSpecific(e));
  return PASSTHROUGH_CONTINUE;
}
