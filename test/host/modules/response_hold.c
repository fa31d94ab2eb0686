// The host's response-holding test module: records what reaches each filter of the response
// direction, and can hold a whole response back. The filter config is one of:
//   record        every response hook returns Continue
//   hold-all:MS   response headers StopAllIterationAndBuffer; a thread commits a scheduler event MS
//                 milliseconds later, whose hook calls continue_encoding (the response, complete
//                 by then, goes on from this filter); every later hook returns Continue
// Both keep one token per response hook: H0/H1 (headers, end_of_stream), D0:<bytes>/D1:<bytes>
// (body: received chunk size, end_of_stream), T (trailers). stream_complete logs them at info as
// "response_hold <filter name>: <tokens>". Envoy ends a direction once: a token after H1, D1:* or T
// is a host bug.
#define _POSIX_C_SOURCE 200809L // nanosleep
#define PASSTHROUGH_SKIP_CONFIG_NEW
#define PASSTHROUGH_SKIP_CONFIG_DESTROY
#define PASSTHROUGH_SKIP_FILTER_NEW
#define PASSTHROUGH_SKIP_RESPONSE_HEADERS
#define PASSTHROUGH_SKIP_RESPONSE_BODY
#define PASSTHROUGH_SKIP_RESPONSE_TRAILERS
#define PASSTHROUGH_SKIP_STREAM_COMPLETE
#define PASSTHROUGH_SKIP_DESTROY
#define PASSTHROUGH_SKIP_SCHEDULED
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "passthrough.h"

struct config {
  char name[64];
  long hold_ms; // -1: record only
};

struct filter {
  const struct config* config;
  envoy_dynamic_module_type_http_filter_scheduler_module_ptr scheduler;
  pthread_t thread;
  int thread_started;
  int holding;
  char tokens[512];
};

static void addToken(struct filter* f, const char* token) {
  const size_t used = strlen(f->tokens);
  snprintf(f->tokens + used, sizeof(f->tokens) - used, "%s%s", used == 0 ? "" : " ", token);
}

static void* commitLater(void* arg) {
  struct filter* f = arg;
  const long ms = f->config->hold_ms;
  nanosleep(&(struct timespec){.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000}, NULL);
  envoy_dynamic_module_callback_http_filter_scheduler_commit(f->scheduler, 1);
  return NULL;
}

ENVOY_TS_HOOK envoy_dynamic_module_type_http_filter_config_module_ptr
envoy_dynamic_module_on_http_filter_config_new(
    envoy_dynamic_module_type_http_filter_config_envoy_ptr config_envoy,
    envoy_dynamic_module_type_envoy_buffer name, envoy_dynamic_module_type_envoy_buffer config) {
  struct config* c = calloc(1, sizeof(*c));
  snprintf(c->name, sizeof(c->name), "%.*s", (int)name.length, name.ptr);
  char text[64];
  snprintf(text, sizeof(text), "%.*s", (int)config.length, config.ptr);
  c->hold_ms = strncmp(text, "hold-all:", 9) == 0 ? strtol(text + 9, NULL, 10) : -1;
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

ENVOY_TS_HOOK envoy_dynamic_module_type_on_http_filter_response_headers_status
envoy_dynamic_module_on_http_filter_response_headers(
    filter_envoy_ptr filter_envoy, filter_module_ptr filter_module, bool end_of_stream) {
  struct filter* f = (struct filter*)filter_module;
  addToken(f, end_of_stream ? "H1" : "H0");
  if (f->config->hold_ms < 0 || f->thread_started) {
    return envoy_dynamic_module_type_on_http_filter_response_headers_status_Continue;
  }
  f->scheduler = envoy_dynamic_module_callback_http_filter_scheduler_new(filter_envoy);
  f->thread_started = pthread_create(&f->thread, NULL, commitLater, f) == 0;
  f->holding = f->thread_started;
  if (!f->holding) {
    return envoy_dynamic_module_type_on_http_filter_response_headers_status_Continue;
  }
  return envoy_dynamic_module_type_on_http_filter_response_headers_status_StopAllIterationAndBuffer;
}

ENVOY_TS_HOOK envoy_dynamic_module_type_on_http_filter_response_body_status
envoy_dynamic_module_on_http_filter_response_body(
    filter_envoy_ptr filter_envoy, filter_module_ptr filter_module, bool end_of_stream) {
  struct filter* f = (struct filter*)filter_module;
  char token[48];
  snprintf(token, sizeof(token), "D%d:%zu", end_of_stream ? 1 : 0,
           envoy_dynamic_module_callback_http_get_body_size(
               filter_envoy, envoy_dynamic_module_type_http_body_type_ReceivedResponseBody));
  addToken(f, token);
  return envoy_dynamic_module_type_on_http_filter_response_body_status_Continue;
}

ENVOY_TS_HOOK envoy_dynamic_module_type_on_http_filter_response_trailers_status
envoy_dynamic_module_on_http_filter_response_trailers(filter_envoy_ptr filter_envoy,
                                                      filter_module_ptr filter_module) {
  addToken((struct filter*)filter_module, "T");
  return envoy_dynamic_module_type_on_http_filter_response_trailers_status_Continue;
}

ENVOY_TS_HOOK void envoy_dynamic_module_on_http_filter_scheduled(
    filter_envoy_ptr filter_envoy, filter_module_ptr filter_module, uint64_t event_id) {
  struct filter* f = (struct filter*)filter_module;
  if (f->holding) {
    f->holding = 0;
    envoy_dynamic_module_callback_http_filter_continue_encoding(filter_envoy);
  }
}

ENVOY_TS_HOOK void envoy_dynamic_module_on_http_filter_stream_complete(
    filter_envoy_ptr filter_envoy, filter_module_ptr filter_module) {
  const struct filter* f = (const struct filter*)filter_module;
  char line[640];
  snprintf(line, sizeof(line), "response_hold %s: %s", f->config->name, f->tokens);
  envoy_dynamic_module_callback_log(envoy_dynamic_module_type_log_level_Info,
                                    (envoy_dynamic_module_type_module_buffer){line, strlen(line)});
}

ENVOY_TS_HOOK void envoy_dynamic_module_on_http_filter_destroy(filter_module_ptr filter_module) {
  struct filter* f = (struct filter*)filter_module;
  if (f->thread_started) {
    pthread_join(f->thread, NULL); // its commit comes before the scheduler goes
  }
  if (f->scheduler != NULL) {
    envoy_dynamic_module_callback_http_filter_scheduler_delete(f->scheduler);
  }
  free(f);
}
