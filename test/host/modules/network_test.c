// The host's network-filter test module: one behaviour per filter_name, each proving one part of
// Envoy's network filter semantics through real TCP. It defines every required network hook and
// on_network_filter_scheduled, but none of the other optional ones (config_scheduled, watermarks,
// http_callout_done), which the host must tolerate. Every hook logs what it saw.
//   router  waits for "cluster:<name>\n", drains it, sets envoy.tcp_proxy.cluster, then lets
//           tcp_proxy connect (so the connect happens late, to the named cluster)
//   upper   holds bytes until a newline (or end of stream), then uppercases every slice
//   greet   writes a greeting downstream on the first read
//   suffix  appends "[seen]" to every upstream write
//   closer  on "close:<type>\n" writes "bye\n" and closes the connection with that close type
//   sched   on the first read commits a scheduler event, answered with "scheduled <id>\n"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "native/abi/network_filter.h"

typedef envoy_dynamic_module_type_network_filter_envoy_ptr fenv_t;
typedef envoy_dynamic_module_type_network_filter_module_ptr fmod_t;

#define CONTINUE envoy_dynamic_module_type_on_network_filter_data_status_Continue
#define STOP envoy_dynamic_module_type_on_network_filter_data_status_StopIteration

enum kind { ROUTER, UPPER, GREET, SUFFIX, CLOSER, SCHED };

struct config {
  enum kind kind;
  envoy_dynamic_module_type_network_filter_config_envoy_ptr envoy; // for the Frozen check
  size_t connections;     // counter
  size_t active;          // gauge
  size_t read_bytes;      // histogram
};

struct filter {
  const struct config* config;
  int routed;
  int greeted;
  uint64_t id;
  envoy_dynamic_module_type_network_filter_scheduler_module_ptr scheduler;
};

static void logf_(const char* format, ...) __attribute__((format(printf, 1, 2)));
#include <stdarg.h>
static void logf_(const char* format, ...) {
  char line[512];
  va_list args;
  va_start(args, format);
  const int n = vsnprintf(line, sizeof(line), format, args);
  va_end(args);
  envoy_dynamic_module_callback_log(envoy_dynamic_module_type_log_level_Info,
                                    (envoy_dynamic_module_type_module_buffer){line, (size_t)n});
}

static envoy_dynamic_module_type_module_buffer str(const char* s) {
  return (envoy_dynamic_module_type_module_buffer){s, strlen(s)};
}

// The read buffer as one string (malloc'd) and its slice count.
static char* readAll(fenv_t e, size_t* length, size_t* slices) {
  *slices = envoy_dynamic_module_callback_network_filter_get_read_buffer_chunks_size(e);
  *length = envoy_dynamic_module_callback_network_filter_get_read_buffer_size(e);
  envoy_dynamic_module_type_envoy_buffer* chunks = calloc(*slices + 1, sizeof(*chunks));
  char* out = malloc(*length + 1);
  size_t at = 0;
  if (envoy_dynamic_module_callback_network_filter_get_read_buffer_chunks(e, chunks)) {
    for (size_t i = 0; i < *slices; ++i) {
      memcpy(out + at, chunks[i].ptr, chunks[i].length);
      at += chunks[i].length;
    }
  }
  out[at] = '\0';
  free(chunks);
  return out;
}

ENVOY_TS_HOOK const char* envoy_dynamic_module_on_program_init(void) {
  return ENVOY_TS_TARGET_ABI_VERSION;
}

ENVOY_TS_HOOK envoy_dynamic_module_type_network_filter_config_module_ptr
envoy_dynamic_module_on_network_filter_config_new(
    envoy_dynamic_module_type_network_filter_config_envoy_ptr config_envoy,
    envoy_dynamic_module_type_envoy_buffer name, envoy_dynamic_module_type_envoy_buffer config) {
  static const char* names[] = {"router", "upper", "greet", "suffix", "closer", "sched"};
  struct config* c = calloc(1, sizeof(*c));
  c->kind = (enum kind)-1;
  c->envoy = config_envoy;
  for (int i = 0; i < 6; ++i) {
    if (name.length == strlen(names[i]) && memcmp(name.ptr, names[i], name.length) == 0) {
      c->kind = (enum kind)i;
    }
  }
  if ((int)c->kind < 0) {
    logf_("network_test: unknown filter_name %.*s", (int)name.length, name.ptr);
    free(c);
    return NULL;
  }
  envoy_dynamic_module_callback_network_filter_config_define_counter(
      config_envoy, str("net_test.connections"), &c->connections);
  envoy_dynamic_module_callback_network_filter_config_define_gauge(config_envoy,
                                                                   str("net_test.active"), &c->active);
  envoy_dynamic_module_callback_network_filter_config_define_histogram(
      config_envoy, str("net_test.read_bytes"), &c->read_bytes);
  logf_("network_test: config %.*s config=%.*s", (int)name.length, name.ptr, (int)config.length,
        config.ptr);
  return c;
}

ENVOY_TS_HOOK void envoy_dynamic_module_on_network_filter_config_destroy(
    envoy_dynamic_module_type_network_filter_config_module_ptr config) {
  free((void*)config);
}

ENVOY_TS_HOOK fmod_t envoy_dynamic_module_on_network_filter_new(
    envoy_dynamic_module_type_network_filter_config_module_ptr config, fenv_t e) {
  struct filter* f = calloc(1, sizeof(*f));
  f->config = config;
  f->id = envoy_dynamic_module_callback_network_filter_get_connection_id(e);
  return f;
}

ENVOY_TS_HOOK envoy_dynamic_module_type_on_network_filter_data_status
envoy_dynamic_module_on_network_filter_new_connection(fenv_t e, fmod_t m) {
  struct filter* f = (struct filter*)m;
  envoy_dynamic_module_callback_network_filter_increment_counter(e, f->config->connections, 1);
  envoy_dynamic_module_callback_network_filter_increment_gauge(e, f->config->active, 1);
  envoy_dynamic_module_type_envoy_buffer remote;
  uint32_t port = 0;
  envoy_dynamic_module_callback_network_filter_get_remote_address(e, &remote, &port);
  size_t unused_id;
  const int frozen = envoy_dynamic_module_callback_network_filter_config_define_counter(
      f->config->envoy, str("late"), &unused_id);
  const int missing = envoy_dynamic_module_callback_network_filter_increment_counter(e, 99, 1);
  logf_("network_test: C%llu new_connection from %.*s:%u ssl=%d frozen=%d missing_metric=%d",
        (unsigned long long)f->id, (int)remote.length, remote.ptr, port,
        envoy_dynamic_module_callback_network_filter_is_ssl(e), frozen, missing);
  if (f->config->kind == ROUTER) {
    // tcp_proxy read-disabled the connection until its upstream connects; read anyway.
    const int status = envoy_dynamic_module_callback_network_filter_read_disable(e, false);
    logf_("network_test: C%llu router read_disable(false)=%d", (unsigned long long)f->id, status);
    return STOP;
  }
  return CONTINUE;
}

ENVOY_TS_HOOK envoy_dynamic_module_type_on_network_filter_data_status
envoy_dynamic_module_on_network_filter_read(fenv_t e, fmod_t m, size_t length, bool end_stream) {
  struct filter* f = (struct filter*)m;
  envoy_dynamic_module_callback_network_filter_record_histogram_value(e, f->config->read_bytes,
                                                                      length);
  size_t size;
  size_t slices;
  char* data = readAll(e, &size, &slices);
  logf_("network_test: C%llu read %zu bytes in %zu slices end_stream=%d",
        (unsigned long long)f->id, size, slices, end_stream);
  envoy_dynamic_module_type_on_network_filter_data_status status = CONTINUE;
  switch (f->config->kind) {
  case ROUTER: {
    if (f->routed) {
      break;
    }
    char* newline = strchr(data, '\n');
    if (newline == NULL) {
      status = STOP;
      break;
    }
    *newline = '\0';
    const size_t line = (size_t)(newline - data) + 1;
    const char* cluster = strncmp(data, "cluster:", 8) == 0 ? data + 8 : "";
    const bool unknown = envoy_dynamic_module_callback_network_set_filter_state_typed(
        e, str("no.such.key"), str("x"));
    const bool set = envoy_dynamic_module_callback_network_set_filter_state_typed(
        e, str("envoy.tcp_proxy.cluster"), str(cluster));
    envoy_dynamic_module_type_envoy_buffer stored = {NULL, 0};
    envoy_dynamic_module_callback_network_get_filter_state_typed(
        e, str("envoy.tcp_proxy.cluster"), &stored);
    envoy_dynamic_module_callback_network_filter_drain_read_buffer(e, line);
    f->routed = 1;
    logf_("network_test: C%llu routing to %.*s (set=%d unknown_key=%d)", (unsigned long long)f->id,
          (int)stored.length, stored.ptr, set, unknown);
    // Balance our read_disable(false): tcp_proxy enables reading again once connected.
    envoy_dynamic_module_callback_network_filter_read_disable(e, true);
    envoy_dynamic_module_callback_network_filter_continue_reading(e);
    status = STOP;
    break;
  }
  case UPPER: {
    if (strchr(data, '\n') == NULL && !end_stream) {
      status = STOP; // Keep accumulating slices in the read buffer.
      break;
    }
    for (size_t i = 0; i < size; ++i) {
      if (data[i] >= 'a' && data[i] <= 'z') {
        data[i] = (char)(data[i] - 'a' + 'A');
      }
    }
    envoy_dynamic_module_callback_network_filter_drain_read_buffer(e, size + 1000); // clamped
    envoy_dynamic_module_callback_network_filter_append_read_buffer(
        e, (envoy_dynamic_module_type_module_buffer){data, size});
    break;
  }
  case GREET:
    if (!f->greeted) {
      f->greeted = 1;
      envoy_dynamic_module_callback_network_filter_write(e, str("hello from filter\n"), false);
    }
    break;
  case CLOSER: {
    const char* command = strstr(data, "close:");
    if (command != NULL && strchr(command, '\n') != NULL) {
      const int type = atoi(command + 6);
      envoy_dynamic_module_callback_network_filter_write(e, str("bye\n"), false);
      logf_("network_test: C%llu close(%d)", (unsigned long long)f->id, type);
      envoy_dynamic_module_callback_network_filter_close(
          e, (envoy_dynamic_module_type_network_connection_close_type)type);
      status = STOP;
    }
    break;
  }
  case SCHED:
    if (f->scheduler == NULL) {
      f->scheduler = envoy_dynamic_module_callback_network_filter_scheduler_new(e);
      envoy_dynamic_module_callback_network_filter_scheduler_commit(f->scheduler, 42);
    }
    break;
  case SUFFIX:
    break;
  }
  free(data);
  return status;
}

ENVOY_TS_HOOK envoy_dynamic_module_type_on_network_filter_data_status
envoy_dynamic_module_on_network_filter_write(fenv_t e, fmod_t m, size_t length, bool end_stream) {
  struct filter* f = (struct filter*)m;
  logf_("network_test: C%llu write %zu bytes end_stream=%d", (unsigned long long)f->id,
        envoy_dynamic_module_callback_network_filter_get_write_buffer_size(e), end_stream);
  if (f->config->kind == SUFFIX && length > 0) {
    envoy_dynamic_module_callback_network_filter_append_write_buffer(e, str("[seen]"));
  }
  return CONTINUE;
}

ENVOY_TS_HOOK void envoy_dynamic_module_on_network_filter_event(
    fenv_t e, fmod_t m, envoy_dynamic_module_type_network_connection_event event) {
  struct filter* f = (struct filter*)m;
  envoy_dynamic_module_callback_network_filter_decrement_gauge(e, f->config->active, 1);
  logf_("network_test: C%llu event %s", (unsigned long long)f->id,
        event == envoy_dynamic_module_type_network_connection_event_RemoteClose ? "RemoteClose"
        : event == envoy_dynamic_module_type_network_connection_event_LocalClose ? "LocalClose"
                                                                                  : "other");
}

ENVOY_TS_HOOK void envoy_dynamic_module_on_network_filter_scheduled(fenv_t e, fmod_t m,
                                                                   uint64_t event_id) {
  struct filter* f = (struct filter*)m;
  char line[64];
  snprintf(line, sizeof(line), "scheduled %llu\n", (unsigned long long)event_id);
  envoy_dynamic_module_callback_network_filter_write(e, str(line), false);
  envoy_dynamic_module_callback_network_filter_scheduler_delete(f->scheduler);
  f->scheduler = NULL;
}

ENVOY_TS_HOOK void envoy_dynamic_module_on_network_filter_destroy(fmod_t m) {
  struct filter* f = (struct filter*)m;
  logf_("network_test: C%llu destroy", (unsigned long long)f->id);
  free(f);
}
