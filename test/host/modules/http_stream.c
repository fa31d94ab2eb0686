// The host's streaming HTTP callout test module. On request headers it starts a stream
// (start_http_stream) to the cluster named by x-stream-cluster, else by the filter config
// (default "stream"), stops iteration, and records every stream event in a log, one line each:
//   start <id> | init <result>                 start_http_stream's outcome
//   headers <id> end=<0|1> <k>=<v>;<k>=<v>...   all response headers in the order received
//   data <id> end=<0|1> chunks=<n> <bytes>      one line per data event
//   trailers <id> <k>=<v>;...
//   complete <id> | reset <id> <reason>
//   send <id> <piece> ok=<0|1> | send-trailers <id> ok=<0|1> | send-unknown ok=<0|1>
//   reset-call <id> | reset-returned <id>      around a reset_http_stream call
// Each line is also logged at info as "stream_event <tag> <line>" (tag: x-stream-tag). Once no
// stream is open any more the module replies 200 with the log as the body.
// The request headers drive it:
//   x-stream-path (default "/"), x-stream-method (default GET, POST with a body or pieces),
//   x-stream-body     the body passed to start_http_stream
//   x-stream-pieces   comma-separated pieces, each sent with send_data from its own scheduler event
//                     after the start, the last one ending the request (unless trailers follow)
//   x-stream-pieces-on-headers  the pieces start from the first response headers instead
//   x-stream-req-trailers  "k:v" request trailers sent after the pieces (send_trailers)
//   x-stream-open     the start does not end the request, and nothing ends it later
//   x-stream-timeout-ms
//   x-stream-reset    "start" (reset_http_stream right after the start), "headers" / "data"
//                     (from inside the first headers / data hook of the first stream)
//   x-stream-then     a path: once the first stream ended, a second GET stream is started there
//                     and the reply waits for it too
//   x-stream-probe    send_data on an unknown id right after the start
//   x-stream-no-host  leaves out the required host header
// Without pieces, trailers or x-stream-open the start ends the request. The reply also waits for
// the pieces and trailers to have been sent (or refused).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PASSTHROUGH_SKIP_FILTER_NEW
#define PASSTHROUGH_SKIP_REQUEST_HEADERS
#define PASSTHROUGH_SKIP_DESTROY
#define PASSTHROUGH_SKIP_CONFIG_NEW
#define PASSTHROUGH_SKIP_CONFIG_DESTROY
#define PASSTHROUGH_SKIP_SCHEDULED
#define PASSTHROUGH_SKIP_HTTP_STREAM
#include "passthrough.h"

typedef envoy_dynamic_module_type_module_buffer mbuf;
typedef envoy_dynamic_module_type_envoy_buffer ebuf;

struct config {
  char cluster[128];
};

struct filter {
  const struct config* config;
  envoy_dynamic_module_type_http_filter_scheduler_module_ptr scheduler;
  char tag[32];
  char cluster[128];
  uint64_t first_id;
  int open;            // streams started and not yet complete/reset
  int replied;
  int in_reset;        // inside reset_http_stream: the reply waits until it returned
  char reset_on[16];   // "headers" / "data" (for the first stream), cleared once done
  char then_path[128]; // cleared once the second stream started
  char pieces[512];    // what is left to send, comma-separated
  int pieces_sent;     // the pieces are done (or refused)
  int pieces_on_headers; // not scheduled yet: they start from the first response headers
  char req_trailers[128];
  char log[8192];
};

static mbuf str(const char* s) { return (mbuf){s, strlen(s)}; }

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

static void note(struct filter* f, const char* line) {
  const size_t used = strlen(f->log);
  snprintf(f->log + used, sizeof(f->log) - used, "%s\n", line);
  char text[1200];
  snprintf(text, sizeof(text), "stream_event %s %s", f->tag, line);
  envoy_dynamic_module_callback_log(envoy_dynamic_module_type_log_level_Info, str(text));
}

static void replyIfDone(filter_envoy_ptr e, struct filter* f) {
  const int sending = (f->pieces[0] != '\0' && !f->pieces_sent) || f->req_trailers[0] != '\0';
  if (f->open > 0 || f->replied || f->in_reset || sending || f->then_path[0] != '\0') {
    return;
  }
  f->replied = 1;
  envoy_dynamic_module_callback_http_send_response(e, 200, NULL, 0, str(f->log), str("stream"));
}

static void resetStream(filter_envoy_ptr e, struct filter* f, uint64_t id) {
  char line[64];
  snprintf(line, sizeof(line), "reset-call %llu", (unsigned long long)id);
  note(f, line);
  f->in_reset = 1;
  envoy_dynamic_module_callback_http_filter_reset_http_stream(e, id);
  f->in_reset = 0;
  snprintf(line, sizeof(line), "reset-returned %llu", (unsigned long long)id);
  note(f, line);
  replyIfDone(e, f);
}

// Starts a stream; its id, or 0 when it could not start (logged).
static uint64_t startStream(filter_envoy_ptr e, struct filter* f, const char* method,
                            const char* path, const char* body, int end_stream,
                            uint64_t timeout_ms, int with_host) {
  envoy_dynamic_module_type_module_http_header headers[] = {
      {":method", 7, method, strlen(method)},
      {":path", 5, path, strlen(path)},
      {"X-Stream-Client", 15, "stream-test", 11}, // keys are lowercased by Envoy
      {"host", 4, "streams", 7},
  };
  const size_t count = sizeof(headers) / sizeof(headers[0]) - (with_host ? 0 : 1);
  uint64_t id = 0;
  const envoy_dynamic_module_type_http_callout_init_result result =
      envoy_dynamic_module_callback_http_filter_start_http_stream(
          e, &id, str(f->cluster), headers, count, str(body), end_stream, timeout_ms);
  char line[64];
  if (result != envoy_dynamic_module_type_http_callout_init_result_Success) {
    snprintf(line, sizeof(line), "init %d", (int)result);
    note(f, line);
    return 0;
  }
  snprintf(line, sizeof(line), "start %llu", (unsigned long long)id);
  note(f, line);
  f->open++;
  return id;
}

static void schedule(filter_envoy_ptr e, struct filter* f) {
  if (f->scheduler == NULL) {
    f->scheduler = envoy_dynamic_module_callback_http_filter_scheduler_new(e);
  }
  envoy_dynamic_module_callback_http_filter_scheduler_commit(f->scheduler, 1);
}

// The first stream ended: start the follow-up stream if one is asked for, else maybe reply.
static void onStreamEnded(filter_envoy_ptr e, struct filter* f) {
  if (f->then_path[0] != '\0') {
    char path[128];
    snprintf(path, sizeof(path), "%s", f->then_path);
    f->then_path[0] = '\0';
    startStream(e, f, "GET", path, "", 1, 0, 1);
  }
  replyIfDone(e, f);
}

ENVOY_TS_HOOK envoy_dynamic_module_type_http_filter_config_module_ptr
envoy_dynamic_module_on_http_filter_config_new(
    envoy_dynamic_module_type_http_filter_config_envoy_ptr config_envoy,
    envoy_dynamic_module_type_envoy_buffer name, envoy_dynamic_module_type_envoy_buffer config) {
  struct config* c = calloc(1, sizeof(*c));
  if (config.length > 0 && config.length < sizeof(c->cluster)) {
    memcpy(c->cluster, config.ptr, config.length);
  } else {
    strcpy(c->cluster, "stream");
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
  struct filter* f = (struct filter*)filter_module;
  if (f->scheduler != NULL) {
    envoy_dynamic_module_callback_http_filter_scheduler_delete(f->scheduler);
  }
  free(f);
}

ENVOY_TS_HOOK envoy_dynamic_module_type_on_http_filter_request_headers_status
envoy_dynamic_module_on_http_filter_request_headers(filter_envoy_ptr e, filter_module_ptr m,
                                                    bool end_of_stream) {
  struct filter* f = (struct filter*)m;
  char path[256] = "/";
  char method[16] = "";
  char body[512] = "";
  char timeout[32] = "0";
  char flag[16];
  snprintf(f->cluster, sizeof(f->cluster), "%s", f->config->cluster);
  snprintf(f->tag, sizeof(f->tag), "-");
  requestHeader(e, "x-stream-tag", f->tag, sizeof(f->tag));
  requestHeader(e, "x-stream-cluster", f->cluster, sizeof(f->cluster));
  requestHeader(e, "x-stream-path", path, sizeof(path));
  requestHeader(e, "x-stream-body", body, sizeof(body));
  requestHeader(e, "x-stream-timeout-ms", timeout, sizeof(timeout));
  requestHeader(e, "x-stream-reset", f->reset_on, sizeof(f->reset_on));
  requestHeader(e, "x-stream-then", f->then_path, sizeof(f->then_path));
  const int has_pieces = requestHeader(e, "x-stream-pieces", f->pieces, sizeof(f->pieces));
  const int has_trailers =
      requestHeader(e, "x-stream-req-trailers", f->req_trailers, sizeof(f->req_trailers));
  if (!requestHeader(e, "x-stream-method", method, sizeof(method))) {
    snprintf(method, sizeof(method), "%s", body[0] || has_pieces ? "POST" : "GET");
  }
  const int with_host = !requestHeader(e, "x-stream-no-host", flag, sizeof(flag));
  const int open = requestHeader(e, "x-stream-open", flag, sizeof(flag));
  f->pieces_on_headers = requestHeader(e, "x-stream-pieces-on-headers", flag, sizeof(flag));
  const uint64_t id = startStream(e, f, method, path, body, !has_pieces && !has_trailers && !open,
                                  strtoull(timeout, NULL, 10), with_host);
  if (id == 0) {
    f->then_path[0] = '\0';
    f->pieces[0] = f->req_trailers[0] = '\0';
    envoy_dynamic_module_callback_http_send_response(e, 500, NULL, 0, str(f->log), str("stream"));
    return envoy_dynamic_module_type_on_http_filter_request_headers_status_StopIteration;
  }
  f->first_id = id;
  if (requestHeader(e, "x-stream-probe", flag, sizeof(flag))) {
    const int ok = envoy_dynamic_module_callback_http_stream_send_data(e, id + 100, str("x"), 1);
    char line[64];
    snprintf(line, sizeof(line), "send-unknown ok=%d", ok);
    note(f, line);
  }
  if ((has_pieces || has_trailers) && !f->pieces_on_headers) {
    schedule(e, f);
  }
  if (strcmp(f->reset_on, "start") == 0) {
    f->reset_on[0] = '\0';
    resetStream(e, f, id);
  }
  return envoy_dynamic_module_type_on_http_filter_request_headers_status_StopIteration;
}

// Sends the next piece (or the trailers once the pieces are done).
ENVOY_TS_HOOK void envoy_dynamic_module_on_http_filter_scheduled(filter_envoy_ptr e,
                                                                 filter_module_ptr m,
                                                                 uint64_t event_id) {
  struct filter* f = (struct filter*)m;
  if (f->replied) {
    return;
  }
  char line[600];
  if (!f->pieces_sent && f->pieces[0] != '\0') {
    char piece[512];
    char* comma = strchr(f->pieces, ',');
    const size_t length = comma == NULL ? strlen(f->pieces) : (size_t)(comma - f->pieces);
    snprintf(piece, sizeof(piece), "%.*s", (int)length, f->pieces);
    memmove(f->pieces, comma == NULL ? f->pieces + length : comma + 1,
            strlen(comma == NULL ? f->pieces + length : comma + 1) + 1);
    const int last = f->pieces[0] == '\0';
    const int ok = envoy_dynamic_module_callback_http_stream_send_data(
        e, f->first_id, str(piece), last && f->req_trailers[0] == '\0');
    snprintf(line, sizeof(line), "send %llu %s ok=%d", (unsigned long long)f->first_id, piece, ok);
    note(f, line);
    if (!ok || last) {
      f->pieces_sent = 1;
    }
    if (!ok) {
      f->req_trailers[0] = '\0'; // The request is over: no trailers either.
    }
    if (ok && (!last || f->req_trailers[0] != '\0')) {
      schedule(e, f);
    } else {
      replyIfDone(e, f);
    }
    return;
  }
  if (f->req_trailers[0] != '\0') {
    char* colon = strchr(f->req_trailers, ':');
    const size_t key_length = colon == NULL ? strlen(f->req_trailers)
                                            : (size_t)(colon - f->req_trailers);
    const char* value = colon == NULL ? "" : colon + 1;
    envoy_dynamic_module_type_module_http_header trailer = {f->req_trailers, key_length, value,
                                                            strlen(value)};
    const int ok =
        envoy_dynamic_module_callback_http_stream_send_trailers(e, f->first_id, &trailer, 1);
    snprintf(line, sizeof(line), "send-trailers %llu ok=%d", (unsigned long long)f->first_id, ok);
    note(f, line);
    f->req_trailers[0] = '\0';
    replyIfDone(e, f);
  }
}

// "k=v;k=v" of a header list, into `out`.
static void headerText(char* out, size_t size, const envoy_dynamic_module_type_envoy_http_header* h,
                       size_t count) {
  out[0] = '\0';
  for (size_t i = 0; i < count; ++i) {
    const size_t used = strlen(out);
    snprintf(out + used, size - used, "%s%.*s=%.*s", i ? ";" : "", (int)h[i].key_length,
             h[i].key_ptr, (int)h[i].value_length, h[i].value_ptr);
  }
}

ENVOY_TS_HOOK void envoy_dynamic_module_on_http_filter_http_stream_headers(
    filter_envoy_ptr e, filter_module_ptr m, uint64_t stream_id,
    envoy_dynamic_module_type_envoy_http_header* headers, size_t headers_size, bool end_stream) {
  struct filter* f = (struct filter*)m;
  char text[1024];
  headerText(text, sizeof(text), headers, headers_size);
  char line[1100];
  snprintf(line, sizeof(line), "headers %llu end=%d %s", (unsigned long long)stream_id,
           (int)end_stream, text);
  note(f, line);
  if (stream_id == f->first_id && f->pieces_on_headers) {
    f->pieces_on_headers = 0;
    schedule(e, f);
  }
  if (stream_id == f->first_id && strcmp(f->reset_on, "headers") == 0) {
    f->reset_on[0] = '\0';
    resetStream(e, f, stream_id);
  }
}

ENVOY_TS_HOOK void envoy_dynamic_module_on_http_filter_http_stream_data(
    filter_envoy_ptr e, filter_module_ptr m, uint64_t stream_id,
    const envoy_dynamic_module_type_envoy_buffer* data, size_t data_count, bool end_stream) {
  struct filter* f = (struct filter*)m;
  char line[1100];
  snprintf(line, sizeof(line), "data %llu end=%d chunks=%zu ", (unsigned long long)stream_id,
           (int)end_stream, data_count);
  for (size_t i = 0; i < data_count; ++i) {
    const size_t used = strlen(line);
    snprintf(line + used, sizeof(line) - used, "%.*s", (int)data[i].length, data[i].ptr);
  }
  note(f, line);
  if (stream_id == f->first_id && strcmp(f->reset_on, "data") == 0) {
    f->reset_on[0] = '\0';
    resetStream(e, f, stream_id);
  }
}

ENVOY_TS_HOOK void envoy_dynamic_module_on_http_filter_http_stream_trailers(
    filter_envoy_ptr e, filter_module_ptr m, uint64_t stream_id,
    envoy_dynamic_module_type_envoy_http_header* trailers, size_t trailers_size) {
  struct filter* f = (struct filter*)m;
  char text[1024];
  headerText(text, sizeof(text), trailers, trailers_size);
  char line[1100];
  snprintf(line, sizeof(line), "trailers %llu %s", (unsigned long long)stream_id, text);
  note(f, line);
}

ENVOY_TS_HOOK void envoy_dynamic_module_on_http_filter_http_stream_complete(filter_envoy_ptr e,
                                                                            filter_module_ptr m,
                                                                            uint64_t stream_id) {
  struct filter* f = (struct filter*)m;
  char line[64];
  snprintf(line, sizeof(line), "complete %llu", (unsigned long long)stream_id);
  note(f, line);
  f->open--;
  onStreamEnded(e, f);
}

ENVOY_TS_HOOK void envoy_dynamic_module_on_http_filter_http_stream_reset(
    filter_envoy_ptr e, filter_module_ptr m, uint64_t stream_id,
    envoy_dynamic_module_type_http_stream_reset_reason reason) {
  struct filter* f = (struct filter*)m;
  char line[64];
  snprintf(line, sizeof(line), "reset %llu %d", (unsigned long long)stream_id, (int)reason);
  note(f, line);
  f->open--;
  onStreamEnded(e, f);
}
