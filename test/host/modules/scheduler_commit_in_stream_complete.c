// stream_complete commits a scheduler event (and request_headers one that is still pending then):
// Envoy destroys every filter right after stream_complete, before its dispatcher runs the posted
// events, so neither is delivered. Logs "committed in stream_complete", "destroyed" and, if an
// event is delivered, "scheduled <id> delivered".
#define PASSTHROUGH_SKIP_STREAM_COMPLETE
#define PASSTHROUGH_SKIP_DESTROY
#define PASSTHROUGH_SKIP_SCHEDULED
#include <stdio.h>
#include <string.h>

#include "passthrough.h"

static void logLine(const char* line) {
  envoy_dynamic_module_callback_log(envoy_dynamic_module_type_log_level_Info,
                                    (envoy_dynamic_module_type_module_buffer){line, strlen(line)});
}

ENVOY_TS_HOOK void envoy_dynamic_module_on_http_filter_stream_complete(
    filter_envoy_ptr filter_envoy, filter_module_ptr filter_module) {
  envoy_dynamic_module_type_http_filter_scheduler_module_ptr scheduler =
      envoy_dynamic_module_callback_http_filter_scheduler_new(filter_envoy);
  envoy_dynamic_module_callback_http_filter_scheduler_commit(scheduler, 7);
  envoy_dynamic_module_callback_http_filter_scheduler_delete(scheduler);
  logLine("committed in stream_complete");
}

ENVOY_TS_HOOK void envoy_dynamic_module_on_http_filter_destroy(filter_module_ptr filter_module) {
  logLine("destroyed");
}

ENVOY_TS_HOOK void envoy_dynamic_module_on_http_filter_scheduled(
    filter_envoy_ptr filter_envoy, filter_module_ptr filter_module, uint64_t event_id) {
  char line[64];
  snprintf(line, sizeof line, "scheduled %llu delivered", (unsigned long long)event_id);
  logLine(line);
}
