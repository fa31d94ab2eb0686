// request_headers starts a thread that commits a scheduler event 100 ms later, when the stream is
// long destroyed: the host must drop the event (on_http_filter_scheduled aborts if it is delivered
// to a destroyed stream) and keep serving. Each commit is logged, saying whether destroy had run.
#define _POSIX_C_SOURCE 200809L // nanosleep
#define PASSTHROUGH_SKIP_FILTER_NEW
#define PASSTHROUGH_SKIP_REQUEST_HEADERS
#define PASSTHROUGH_SKIP_DESTROY
#define PASSTHROUGH_SKIP_SCHEDULED
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "passthrough.h"

// Never freed: the committing thread (and a wrongly delivered event) may read it after destroy.
struct stream {
  atomic_bool destroyed;
  envoy_dynamic_module_type_http_filter_scheduler_module_ptr scheduler;
};

static void* commitLater(void* arg) {
  struct stream* s = arg;
  nanosleep(&(struct timespec){.tv_nsec = 100 * 1000 * 1000}, NULL);
  const char* what = atomic_load(&s->destroyed) ? "commit after destroy" : "commit before destroy";
  envoy_dynamic_module_callback_http_filter_scheduler_commit(s->scheduler, 1);
  envoy_dynamic_module_callback_http_filter_scheduler_delete(s->scheduler);
  envoy_dynamic_module_callback_log(envoy_dynamic_module_type_log_level_Info,
                                    (envoy_dynamic_module_type_module_buffer){what, strlen(what)});
  return NULL;
}

ENVOY_TS_HOOK filter_module_ptr envoy_dynamic_module_on_http_filter_new(
    envoy_dynamic_module_type_http_filter_config_module_ptr config, filter_envoy_ptr filter_envoy) {
  return calloc(1, sizeof(struct stream));
}

ENVOY_TS_HOOK envoy_dynamic_module_type_on_http_filter_request_headers_status
envoy_dynamic_module_on_http_filter_request_headers(filter_envoy_ptr filter_envoy,
                                                    filter_module_ptr filter_module, bool end) {
  struct stream* s = (struct stream*)filter_module;
  s->scheduler = envoy_dynamic_module_callback_http_filter_scheduler_new(filter_envoy);
  pthread_t thread;
  if (pthread_create(&thread, NULL, commitLater, s) == 0) {
    pthread_detach(thread);
  }
  return PASSTHROUGH_CONTINUE;
}

ENVOY_TS_HOOK void envoy_dynamic_module_on_http_filter_destroy(filter_module_ptr filter_module) {
  atomic_store(&((struct stream*)filter_module)->destroyed, true);
}

ENVOY_TS_HOOK void envoy_dynamic_module_on_http_filter_scheduled(
    filter_envoy_ptr filter_envoy, filter_module_ptr filter_module, uint64_t event_id) {
  if (atomic_load(&((struct stream*)filter_module)->destroyed)) {
    abort();
  }
}
