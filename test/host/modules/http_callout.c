// The host's HTTP callout test module: an external authorization filter. On request headers it
// starts a one-shot callout to the cluster named by x-authz-cluster, else by the filter config
// (default "authz"):
//   GET <x-authz-path request header, default "/check">, host: authz
// with the body of x-authz-body when set (as a POST), and timeout x-authz-timeout-ms (default 0),
// then stops iteration. In callout_done (which logs "callout_done id=<id> result=<r> status=<s>"):
//   Success and :status 200   → x-authz-status / x-authz-body / x-authz-id request headers, then
//                                continue_decoding (the router forwards the request);
//   Success and another status → local reply 403 "denied <status>: <body>";
//   Reset / ExceedResponseBufferLimit → local reply 502 "callout result <r>".
// A callout that cannot start → local reply 500 "callout init <init result>" (x-authz-no-host
// leaves out the required host header).
// With x-authz-twice: 1 the first successful result starts a second callout (from inside the hook)
// and only the second one continues; x-authz-id then holds both ids ("1,2").
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PASSTHROUGH_SKIP_FILTER_NEW
#define PASSTHROUGH_SKIP_REQUEST_HEADERS
#define PASSTHROUGH_SKIP_DESTROY
#define PASSTHROUGH_SKIP_CONFIG_NEW
#define PASSTHROUGH_SKIP_CONFIG_DESTROY
#define PASSTHROUGH_SKIP_CALLOUT_DONE
#include "passthrough.h"


typedef envoy_dynamic_module_type_module_buffer mbuf;
typedef envoy_dynamic_module_type_envoy_buffer ebuf;

struct config {
  char cluster[128];
};

struct filter {
  const struct config* config;
  int twice;         // start a second callout from the first one's hook
  char ids[64];      // the ids of the callouts so far, "1,2"
};

static mbuf str(const char* s) { return (mbuf){s, strlen(s)}; }

static void logLine(const char* line) {
  envoy_dynamic_module_callback_log(envoy_dynamic_module_type_log_level_Info, str(line));
}

// Copies request header `key` into `out` (NUL-terminated); false when absent.
static int requestHeader(filter_envoy_ptr e, const char* key, char* out, size_t size) {
  ebuf value = {NULL, 0};
  size_t count = 0;
  if (!envoy_dynamic_module_callback_http_get_header(
          e, envoy_dynamic_module_type_http_header_type_RequestHeader, str(key), &value, 0,
          &count) ||
      value.ptr == NULL) {
    return 0;
  }
  snprintf(out, size, "%.*s", (int)value.length, value.ptr);
  return 1;
}

static void reply(filter_envoy_ptr e, uint32_t status, const char* body) {
  envoy_dynamic_module_callback_http_send_response(e, status, NULL, 0, str(body), str("authz"));
}

ENVOY_TS_HOOK envoy_dynamic_module_type_http_filter_config_module_ptr
envoy_dynamic_module_on_http_filter_config_new(
    envoy_dynamic_module_type_http_filter_config_envoy_ptr config_envoy,
    envoy_dynamic_module_type_envoy_buffer name, envoy_dynamic_module_type_envoy_buffer config) {
  struct config* c = calloc(1, sizeof(*c));
  if (config.length > 0 && config.length < sizeof(c->cluster)) {
    memcpy(c->cluster, config.ptr, config.length);
  } else {
    strcpy(c->cluster, "authz");
  }
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

ENVOY_TS_HOOK void envoy_dynamic_module_on_http_filter_destroy(filter_module_ptr filter_module) {
  free((void*)filter_module);
}

// Starts the callout; 0 on success, else the init result (the local reply is already sent).
static int startCallout(filter_envoy_ptr e, struct filter* f) {
  char path[256] = "/check";
  char body[256] = "";
  char timeout[32] = "0";
  char cluster[128];
  snprintf(cluster, sizeof(cluster), "%s", f->config->cluster);
  requestHeader(e, "x-authz-cluster", cluster, sizeof(cluster));
  requestHeader(e, "x-authz-path", path, sizeof(path));
  const int has_body = requestHeader(e, "x-authz-body", body, sizeof(body));
  requestHeader(e, "x-authz-timeout-ms", timeout, sizeof(timeout));
  envoy_dynamic_module_type_module_http_header headers[] = {
      {":method", 7, has_body ? "POST" : "GET", has_body ? 4 : 3},
      {":path", 5, path, strlen(path)},
      {"X-Authz-Client", 14, "callout-test", 12}, // keys are lowercased by Envoy
      {"host", 4, "authz", 5},                    // left out with x-authz-no-host
  };
  char no_host[8];
  const size_t count = sizeof(headers) / sizeof(headers[0]) -
                       (requestHeader(e, "x-authz-no-host", no_host, sizeof(no_host)) ? 1 : 0);
  uint64_t id = 0;
  const envoy_dynamic_module_type_http_callout_init_result result =
      envoy_dynamic_module_callback_http_filter_http_callout(
          e, &id, str(cluster), headers, count,
          (mbuf){has_body ? body : NULL, strlen(body)}, strtoull(timeout, NULL, 10));
  if (result != envoy_dynamic_module_type_http_callout_init_result_Success) {
    char text[64];
    snprintf(text, sizeof(text), "callout init %d", (int)result);
    reply(e, 500, text);
    return (int)result;
  }
  const size_t used = strlen(f->ids);
  snprintf(f->ids + used, sizeof(f->ids) - used, "%s%llu", used ? "," : "", (unsigned long long)id);
  return 0;
}

ENVOY_TS_HOOK envoy_dynamic_module_type_on_http_filter_request_headers_status
envoy_dynamic_module_on_http_filter_request_headers(filter_envoy_ptr e, filter_module_ptr m,
                                                    bool end_of_stream) {
  struct filter* f = (struct filter*)m;
  char twice[8];
  f->twice = requestHeader(e, "x-authz-twice", twice, sizeof(twice));
  startCallout(e, f);
  return envoy_dynamic_module_type_on_http_filter_request_headers_status_StopIteration;
}

ENVOY_TS_HOOK void envoy_dynamic_module_on_http_filter_http_callout_done(
    filter_envoy_ptr e, filter_module_ptr m, uint64_t callout_id,
    envoy_dynamic_module_type_http_callout_result result,
    envoy_dynamic_module_type_envoy_http_header* headers, size_t headers_size,
    envoy_dynamic_module_type_envoy_buffer* body_chunks, size_t body_chunks_size) {
  struct filter* f = (struct filter*)m;
  char status[16] = "";
  if (headers_size > 0 && headers[0].key_length == 7 &&
      memcmp(headers[0].key_ptr, ":status", 7) == 0) {
    snprintf(status, sizeof(status), "%.*s", (int)headers[0].value_length, headers[0].value_ptr);
  }
  char line[160];
  snprintf(line, sizeof(line), "callout_done id=%llu result=%d status=%s headers=%zu chunks=%zu",
           (unsigned long long)callout_id, (int)result, status, headers_size, body_chunks_size);
  logLine(line);
  if (result != envoy_dynamic_module_type_http_callout_result_Success) {
    char text[64];
    snprintf(text, sizeof(text), "callout result %d", (int)result);
    reply(e, 502, text);
    return;
  }
  char body[512] = "";
  for (size_t i = 0; i < body_chunks_size; ++i) {
    const size_t used = strlen(body);
    snprintf(body + used, sizeof(body) - used, "%.*s", (int)body_chunks[i].length,
             body_chunks[i].ptr);
  }
  if (strcmp(status, "200") != 0) {
    char text[600];
    snprintf(text, sizeof(text), "denied %s: %s", status, body);
    reply(e, 403, text);
    return;
  }
  if (f->twice) {
    f->twice = 0;
    if (startCallout(e, f) == 0) {
      return; // The second result continues.
    }
    return;
  }
  envoy_dynamic_module_callback_http_set_header(
      e, envoy_dynamic_module_type_http_header_type_RequestHeader, str("x-authz-status"),
      str(status));
  envoy_dynamic_module_callback_http_set_header(
      e, envoy_dynamic_module_type_http_header_type_RequestHeader, str("x-authz-body"), str(body));
  envoy_dynamic_module_callback_http_set_header(
      e, envoy_dynamic_module_type_http_header_type_RequestHeader, str("x-authz-id"), str(f->ids));
  envoy_dynamic_module_callback_http_filter_continue_decoding(e);
}
