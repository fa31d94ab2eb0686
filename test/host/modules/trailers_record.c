// The host's trailers test module: records what reaches the filter in both directions, so a test
// can tell trailers the codec never decoded from trailers a filter saw. Every hook returns
// Continue. One token per hook: H0/H1 (headers, end_of_stream), D0:<bytes>/D1:<bytes> (body:
// received chunk size, end_of_stream), T:<k>=<v>;... (trailers, all entries in order).
// stream_complete logs them at info as
//   "trailers_record <filter name>: request <tokens> | response <tokens>".
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PASSTHROUGH_SKIP_CONFIG_NEW
#define PASSTHROUGH_SKIP_CONFIG_DESTROY
#define PASSTHROUGH_SKIP_FILTER_NEW
#define PASSTHROUGH_SKIP_REQUEST_HEADERS
#define PASSTHROUGH_SKIP_REQUEST_BODY
#define PASSTHROUGH_SKIP_REQUEST_TRAILERS
#define PASSTHROUGH_SKIP_RESPONSE_HEADERS
#define PASSTHROUGH_SKIP_RESPONSE_BODY
#define PASSTHROUGH_SKIP_RESPONSE_TRAILERS
#define PASSTHROUGH_SKIP_STREAM_COMPLETE
#define PASSTHROUGH_SKIP_DESTROY
#include "passthrough.h"

struct config {
  char name[64];
};

struct filter {
  const struct config* config;
  char request[512];
  char response[512];
};

static void addToken(char* tokens, size_t size, const char* token) {
  const size_t used = strlen(tokens);
  snprintf(tokens + used, size - used, "%s%s", used == 0 ? "" : " ", token);
}

static void addBody(char* tokens, size_t size, filter_envoy_ptr filter_envoy,
                    envoy_dynamic_module_type_http_body_type type, int end_of_stream) {
  char token[48];
  snprintf(token, sizeof(token), "D%d:%zu", end_of_stream ? 1 : 0,
           envoy_dynamic_module_callback_http_get_body_size(filter_envoy, type));
  addToken(tokens, size, token);
}

static void addTrailers(char* tokens, size_t size, filter_envoy_ptr filter_envoy,
                        envoy_dynamic_module_type_http_header_type type) {
  const size_t count = envoy_dynamic_module_callback_http_get_headers_size(filter_envoy, type);
  envoy_dynamic_module_type_envoy_http_header* entries = calloc(count + 1, sizeof(*entries));
  char token[256] = "T:";
  if (envoy_dynamic_module_callback_http_get_headers(filter_envoy, type, entries)) {
    for (size_t i = 0; i < count; ++i) {
      const size_t used = strlen(token);
      snprintf(token + used, sizeof(token) - used, "%s%.*s=%.*s", i == 0 ? "" : ";",
               (int)entries[i].key_length, entries[i].key_ptr, (int)entries[i].value_length,
               entries[i].value_ptr);
    }
  }
  free(entries);
  addToken(tokens, size, token);
}

ENVOY_TS_HOOK envoy_dynamic_module_type_http_filter_config_module_ptr
envoy_dynamic_module_on_http_filter_config_new(
    envoy_dynamic_module_type_http_filter_config_envoy_ptr config_envoy,
    envoy_dynamic_module_type_envoy_buffer name, envoy_dynamic_module_type_envoy_buffer config) {
  struct config* c = calloc(1, sizeof(*c));
  snprintf(c->name, sizeof(c->name), "%.*s", (int)name.length, name.ptr);
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

ENVOY_TS_HOOK envoy_dynamic_module_type_on_http_filter_request_headers_status
envoy_dynamic_module_on_http_filter_request_headers(
    filter_envoy_ptr filter_envoy, filter_module_ptr filter_module, bool end_of_stream) {
  struct filter* f = (struct filter*)filter_module;
  addToken(f->request, sizeof(f->request), end_of_stream ? "H1" : "H0");
  return PASSTHROUGH_CONTINUE;
}

ENVOY_TS_HOOK envoy_dynamic_module_type_on_http_filter_request_body_status
envoy_dynamic_module_on_http_filter_request_body(
    filter_envoy_ptr filter_envoy, filter_module_ptr filter_module, bool end_of_stream) {
  struct filter* f = (struct filter*)filter_module;
  addBody(f->request, sizeof(f->request), filter_envoy,
          envoy_dynamic_module_type_http_body_type_ReceivedRequestBody, end_of_stream);
  return PASSTHROUGH_CONTINUE;
}

ENVOY_TS_HOOK envoy_dynamic_module_type_on_http_filter_request_trailers_status
envoy_dynamic_module_on_http_filter_request_trailers(filter_envoy_ptr filter_envoy,
                                                     filter_module_ptr filter_module) {
  struct filter* f = (struct filter*)filter_module;
  addTrailers(f->request, sizeof(f->request), filter_envoy,
              envoy_dynamic_module_type_http_header_type_RequestTrailer);
  return PASSTHROUGH_CONTINUE;
}

ENVOY_TS_HOOK envoy_dynamic_module_type_on_http_filter_response_headers_status
envoy_dynamic_module_on_http_filter_response_headers(
    filter_envoy_ptr filter_envoy, filter_module_ptr filter_module, bool end_of_stream) {
  struct filter* f = (struct filter*)filter_module;
  addToken(f->response, sizeof(f->response), end_of_stream ? "H1" : "H0");
  return PASSTHROUGH_CONTINUE;
}

ENVOY_TS_HOOK envoy_dynamic_module_type_on_http_filter_response_body_status
envoy_dynamic_module_on_http_filter_response_body(
    filter_envoy_ptr filter_envoy, filter_module_ptr filter_module, bool end_of_stream) {
  struct filter* f = (struct filter*)filter_module;
  addBody(f->response, sizeof(f->response), filter_envoy,
          envoy_dynamic_module_type_http_body_type_ReceivedResponseBody, end_of_stream);
  return PASSTHROUGH_CONTINUE;
}

ENVOY_TS_HOOK envoy_dynamic_module_type_on_http_filter_response_trailers_status
envoy_dynamic_module_on_http_filter_response_trailers(filter_envoy_ptr filter_envoy,
                                                      filter_module_ptr filter_module) {
  struct filter* f = (struct filter*)filter_module;
  addTrailers(f->response, sizeof(f->response), filter_envoy,
              envoy_dynamic_module_type_http_header_type_ResponseTrailer);
  return PASSTHROUGH_CONTINUE;
}

ENVOY_TS_HOOK void envoy_dynamic_module_on_http_filter_stream_complete(
    filter_envoy_ptr filter_envoy, filter_module_ptr filter_module) {
  const struct filter* f = (const struct filter*)filter_module;
  char line[1200];
  snprintf(line, sizeof(line), "trailers_record %s: request %s | response %s", f->config->name,
           f->request, f->response);
  envoy_dynamic_module_callback_log(envoy_dynamic_module_type_log_level_Info,
                                    (envoy_dynamic_module_type_module_buffer){line, strlen(line)});
}

ENVOY_TS_HOOK void envoy_dynamic_module_on_http_filter_destroy(filter_module_ptr filter_module) {
  free((void*)filter_module);
}
