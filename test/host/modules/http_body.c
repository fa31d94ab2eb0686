// The host's HTTP body test module: proves the body and buffer-limit callbacks through real HTTP.
// The filter config is a comma-separated list of modes:
//   buffer                 request headers StopIteration (unless they end the stream); request body
//                          StopIterationAndBuffer until the end of stream, then Continue
//   buffer-upper           the same, but at the end the whole body (Buffered, then Received unless
//                          it is the buffered body) is replaced by its upper case (drain + append)
//                          and content-length is set
//   response-buffer-upper  the same for the response
//   response-buffer-body   response headers Continue (they go downstream); response body
//                          StopIterationAndBuffer until the end of stream, then Continue
//   stream-upper           each request chunk is upper-cased in place (drain + append), Continue
//   response-stream-upper  the same for the response
//   watermark              request body StopIterationAndWatermark (Continue at the end of stream);
//                          once the buffered body passes the buffer limit, a scheduled event
//                          calls continue_decoding
//   response-watermark     the same for the response (continue_encoding)
//   watermark-drain        request headers held (StopIteration, unless bodiless); request body
//                          StopIterationAndWatermark; once the buffered body passes the limit, a
//                          scheduled event drains it down to limit / 2. At the end of stream the
//                          request gets x-drained (bytes drained) and a matching content-length
//   add-body               request headers of a bodiless request: "added by the filter" is
//                          appended to the buffered request body, content-length set, Continue
//   late-request-body      response headers: appends to the buffered request body, which a
//                          bodiless request does not have (a filter bug Envoy answers with a 502)
//   trailers-body          request trailers: appends " and from the trailers hook" to the
//                          buffered request body, which goes on before the trailers
//   limit:N                request headers: set_buffer_limit(N)
//   chunks                 records what the request body hooks receive
//   probe                  calls the body callbacks from the headers hooks, outside body hooks
// What the modes record goes into response headers in the response headers hook: x-limit-before/
// x-limit-after (limit), x-request-body-calls, x-request-bytes, x-request-max-slices,
// x-request-received-buffered (chunks), x-probe-request-headers / x-probe-response-headers (probe).
#include <ctype.h>
#include <inttypes.h>
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
#define PASSTHROUGH_SKIP_DESTROY
#define PASSTHROUGH_SKIP_SCHEDULED
#include "passthrough.h"

typedef envoy_dynamic_module_type_module_buffer mbuf;
typedef envoy_dynamic_module_type_envoy_buffer ebuf;
typedef envoy_dynamic_module_type_http_body_type body_type;

enum mode {
  BUFFER = 1 << 0,
  BUFFER_UPPER = 1 << 1, // with BUFFER: the whole body at the end
  RESPONSE_BUFFER = 1 << 2,
  RESPONSE_BUFFER_UPPER = 1 << 3, // with RESPONSE_BUFFER: the whole body at the end
  RESPONSE_BUFFER_BODY = 1 << 4,
  STREAM_UPPER = 1 << 5,
  RESPONSE_STREAM_UPPER = 1 << 6,
  WATERMARK = 1 << 7,
  RESPONSE_WATERMARK = 1 << 8,
  WATERMARK_DRAIN = 1 << 9,
  ADD_BODY = 1 << 10,
  LATE_REQUEST_BODY = 1 << 11,
  TRAILERS_BODY = 1 << 12,
  LIMIT = 1 << 13,
  CHUNKS = 1 << 14,
  PROBE = 1 << 15,
};

enum event { CONTINUE_DECODING = 1, CONTINUE_ENCODING = 2, DRAIN = 3 };

struct config {
  unsigned modes;
  uint64_t limit;
};

struct filter {
  const struct config* config;
  envoy_dynamic_module_type_http_filter_scheduler_module_ptr scheduler; // created on first use
  int event_pending;
  uint64_t drained;
  uint64_t limit_before, limit_after;
  size_t body_calls, bytes, max_slices;
  int received_buffered;
  char probe_request[256];
  char probe_response[256];
};

static const body_type ReceivedRequest = envoy_dynamic_module_type_http_body_type_ReceivedRequestBody;
static const body_type BufferedRequest = envoy_dynamic_module_type_http_body_type_BufferedRequestBody;
static const body_type ReceivedResponse =
    envoy_dynamic_module_type_http_body_type_ReceivedResponseBody;
static const body_type BufferedResponse =
    envoy_dynamic_module_type_http_body_type_BufferedResponseBody;

static mbuf str(const char* s) { return (mbuf){s, strlen(s)}; }

static void setHeader(filter_envoy_ptr e, int request, const char* key, const char* value) {
  envoy_dynamic_module_callback_http_set_header(
      e,
      request ? envoy_dynamic_module_type_http_header_type_RequestHeader
              : envoy_dynamic_module_type_http_header_type_ResponseHeader,
      str(key), str(value));
}

static void setNumberHeader(filter_envoy_ptr e, int request, const char* key, uint64_t value) {
  char text[32];
  snprintf(text, sizeof(text), "%" PRIu64, value);
  setHeader(e, request, key, text);
}

// A heap copy of a body (all its slices); *length is 0 when the body does not exist.
static char* copyBody(filter_envoy_ptr e, body_type type, size_t* length) {
  const size_t count = envoy_dynamic_module_callback_http_get_body_chunks_size(e, type);
  ebuf* chunks = calloc(count + 1, sizeof(ebuf));
  char* out = malloc(envoy_dynamic_module_callback_http_get_body_size(e, type) + 1);
  *length = 0;
  if (envoy_dynamic_module_callback_http_get_body_chunks(e, type, chunks)) {
    for (size_t i = 0; i < count; ++i) {
      memcpy(out + *length, chunks[i].ptr, chunks[i].length);
      *length += chunks[i].length;
    }
  }
  free(chunks);
  return out;
}

static void upper(char* text, size_t length) {
  for (size_t i = 0; i < length; ++i) {
    text[i] = (char)toupper((unsigned char)text[i]);
  }
}

// Replaces the received chunk by its upper case.
static void upperReceived(filter_envoy_ptr e, body_type received) {
  size_t length;
  char* text = copyBody(e, received, &length);
  upper(text, length);
  envoy_dynamic_module_callback_http_drain_body(e, received, length);
  envoy_dynamic_module_callback_http_append_body(e, received, (mbuf){text, length});
  free(text);
}

// At the end of a buffered body: the whole body, upper-cased, becomes the received chunk, and
// content-length follows (nothing fixes it for a filter).
static void replaceWithUpper(filter_envoy_ptr e, int request) {
  const body_type buffered = request ? BufferedRequest : BufferedResponse;
  const body_type received = request ? ReceivedRequest : ReceivedResponse;
  const int same = request ? envoy_dynamic_module_callback_http_received_buffered_request_body(e)
                           : envoy_dynamic_module_callback_http_received_buffered_response_body(e);
  size_t buffered_length;
  size_t received_length = 0;
  char* head = copyBody(e, buffered, &buffered_length);
  char* tail = same ? NULL : copyBody(e, received, &received_length);
  char* all = malloc(buffered_length + received_length + 1);
  memcpy(all, head, buffered_length);
  if (tail != NULL) {
    memcpy(all + buffered_length, tail, received_length);
  }
  const size_t total = buffered_length + received_length;
  upper(all, total);
  envoy_dynamic_module_callback_http_drain_body(e, buffered, buffered_length);
  envoy_dynamic_module_callback_http_drain_body(e, received, received_length);
  envoy_dynamic_module_callback_http_append_body(e, received, (mbuf){all, total});
  setNumberHeader(e, request, "content-length", total);
  free(head);
  free(tail);
  free(all);
}

// Body callbacks from a headers hook, where no body hook runs.
static void probe(filter_envoy_ptr e, body_type received, body_type buffered, char* out,
                  size_t size) {
  ebuf chunk = {NULL, 0};
  const int received_buffered =
      received == ReceivedRequest
          ? envoy_dynamic_module_callback_http_received_buffered_request_body(e)
          : envoy_dynamic_module_callback_http_received_buffered_response_body(e);
  snprintf(out, size,
           "size=%zu,chunks=%zu,get=%d,append=%d,drain=%d,received_buffered=%d,"
           "buffered_size=%zu,buffered_get=%d,buffered_drain=%d",
           envoy_dynamic_module_callback_http_get_body_size(e, received),
           envoy_dynamic_module_callback_http_get_body_chunks_size(e, received),
           envoy_dynamic_module_callback_http_get_body_chunks(e, received, &chunk),
           envoy_dynamic_module_callback_http_append_body(e, received, str("x")),
           envoy_dynamic_module_callback_http_drain_body(e, received, 1), received_buffered,
           envoy_dynamic_module_callback_http_get_body_size(e, buffered),
           envoy_dynamic_module_callback_http_get_body_chunks(e, buffered, &chunk),
           envoy_dynamic_module_callback_http_drain_body(e, buffered, 1));
}

// Commits `event` once until it is delivered.
static void schedule(filter_envoy_ptr e, struct filter* f, enum event event) {
  if (f->event_pending) {
    return;
  }
  if (f->scheduler == NULL) {
    f->scheduler = envoy_dynamic_module_callback_http_filter_scheduler_new(e);
  }
  f->event_pending = 1;
  envoy_dynamic_module_callback_http_filter_scheduler_commit(f->scheduler, event);
}

// Whether the buffered body will be past the buffer limit once this chunk joins it.
static int pastLimit(filter_envoy_ptr e, body_type received, body_type buffered) {
  return envoy_dynamic_module_callback_http_get_body_size(e, buffered) +
             envoy_dynamic_module_callback_http_get_body_size(e, received) >
         envoy_dynamic_module_callback_http_get_buffer_limit(e);
}

static unsigned parseMode(const char* token, uint64_t* limit) {
  static const struct {
    const char* name;
    unsigned modes;
  } names[] = {
      {"buffer", BUFFER},
      {"buffer-upper", BUFFER | BUFFER_UPPER},
      {"response-buffer-upper", RESPONSE_BUFFER | RESPONSE_BUFFER_UPPER},
      {"response-buffer-body", RESPONSE_BUFFER_BODY},
      {"stream-upper", STREAM_UPPER},
      {"response-stream-upper", RESPONSE_STREAM_UPPER},
      {"watermark", WATERMARK},
      {"response-watermark", RESPONSE_WATERMARK},
      {"watermark-drain", WATERMARK_DRAIN},
      {"add-body", ADD_BODY},
      {"late-request-body", LATE_REQUEST_BODY},
      {"trailers-body", TRAILERS_BODY},
      {"chunks", CHUNKS},
      {"probe", PROBE},
  };
  if (strncmp(token, "limit:", 6) == 0) {
    *limit = strtoull(token + 6, NULL, 10);
    return LIMIT;
  }
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); ++i) {
    if (strcmp(token, names[i].name) == 0) {
      return names[i].modes;
    }
  }
  fprintf(stderr, "http_body module: unknown mode '%s'\n", token);
  return 0;
}

ENVOY_TS_HOOK envoy_dynamic_module_type_http_filter_config_module_ptr
envoy_dynamic_module_on_http_filter_config_new(
    envoy_dynamic_module_type_http_filter_config_envoy_ptr config_envoy,
    envoy_dynamic_module_type_envoy_buffer name, envoy_dynamic_module_type_envoy_buffer config) {
  struct config* c = calloc(1, sizeof(*c));
  char text[256];
  snprintf(text, sizeof(text), "%.*s", (int)config.length, config.ptr);
  for (char* token = strtok(text, ","); token != NULL; token = strtok(NULL, ",")) {
    c->modes |= parseMode(token, &c->limit);
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
envoy_dynamic_module_on_http_filter_request_headers(
    filter_envoy_ptr filter_envoy, filter_module_ptr filter_module, bool end_of_stream) {
  struct filter* f = (struct filter*)filter_module;
  const unsigned modes = f->config->modes;
  if (modes & LIMIT) {
    f->limit_before = envoy_dynamic_module_callback_http_get_buffer_limit(filter_envoy);
    envoy_dynamic_module_callback_http_set_buffer_limit(filter_envoy, f->config->limit);
    f->limit_after = envoy_dynamic_module_callback_http_get_buffer_limit(filter_envoy);
  }
  if (modes & PROBE) {
    probe(filter_envoy, ReceivedRequest, BufferedRequest, f->probe_request,
          sizeof(f->probe_request));
  }
  if ((modes & ADD_BODY) && end_of_stream) {
    static const char added[] = "added by the filter";
    envoy_dynamic_module_callback_http_append_body(filter_envoy, BufferedRequest,
                                                   (mbuf){added, sizeof(added) - 1});
    setNumberHeader(filter_envoy, 1, "content-length", sizeof(added) - 1);
  }
  if ((modes & (BUFFER | WATERMARK_DRAIN)) && !end_of_stream) {
    return envoy_dynamic_module_type_on_http_filter_request_headers_status_StopIteration;
  }
  return envoy_dynamic_module_type_on_http_filter_request_headers_status_Continue;
}

ENVOY_TS_HOOK envoy_dynamic_module_type_on_http_filter_request_body_status
envoy_dynamic_module_on_http_filter_request_body(
    filter_envoy_ptr filter_envoy, filter_module_ptr filter_module, bool end_of_stream) {
  struct filter* f = (struct filter*)filter_module;
  const unsigned modes = f->config->modes;
  if (modes & CHUNKS) {
    const size_t slices =
        envoy_dynamic_module_callback_http_get_body_chunks_size(filter_envoy, ReceivedRequest);
    f->body_calls++;
    f->bytes += envoy_dynamic_module_callback_http_get_body_size(filter_envoy, ReceivedRequest);
    f->max_slices = slices > f->max_slices ? slices : f->max_slices;
    f->received_buffered |=
        envoy_dynamic_module_callback_http_received_buffered_request_body(filter_envoy);
  }
  if (modes & BUFFER) {
    if (!end_of_stream) {
      return envoy_dynamic_module_type_on_http_filter_request_body_status_StopIterationAndBuffer;
    }
    if (modes & BUFFER_UPPER) {
      replaceWithUpper(filter_envoy, 1);
    }
  } else if (modes & STREAM_UPPER) {
    upperReceived(filter_envoy, ReceivedRequest);
  } else if ((modes & (WATERMARK | WATERMARK_DRAIN)) && !end_of_stream) {
    if (pastLimit(filter_envoy, ReceivedRequest, BufferedRequest)) {
      schedule(filter_envoy, f, (modes & WATERMARK) ? CONTINUE_DECODING : DRAIN);
    }
    return envoy_dynamic_module_type_on_http_filter_request_body_status_StopIterationAndWatermark;
  } else if (modes & WATERMARK_DRAIN) {
    setNumberHeader(filter_envoy, 1, "x-drained", f->drained);
    setNumberHeader(
        filter_envoy, 1, "content-length",
        envoy_dynamic_module_callback_http_get_body_size(filter_envoy, BufferedRequest) +
            envoy_dynamic_module_callback_http_get_body_size(filter_envoy, ReceivedRequest));
  }
  return envoy_dynamic_module_type_on_http_filter_request_body_status_Continue;
}

ENVOY_TS_HOOK envoy_dynamic_module_type_on_http_filter_request_trailers_status
envoy_dynamic_module_on_http_filter_request_trailers(filter_envoy_ptr filter_envoy,
                                                     filter_module_ptr filter_module) {
  const struct filter* f = (const struct filter*)filter_module;
  if (f->config->modes & TRAILERS_BODY) {
    envoy_dynamic_module_callback_http_append_body(filter_envoy, BufferedRequest,
                                                   str(" and from the trailers hook"));
  }
  return envoy_dynamic_module_type_on_http_filter_request_trailers_status_Continue;
}

ENVOY_TS_HOOK envoy_dynamic_module_type_on_http_filter_response_headers_status
envoy_dynamic_module_on_http_filter_response_headers(
    filter_envoy_ptr filter_envoy, filter_module_ptr filter_module, bool end_of_stream) {
  struct filter* f = (struct filter*)filter_module;
  const unsigned modes = f->config->modes;
  if (modes & LIMIT) {
    setNumberHeader(filter_envoy, 0, "x-limit-before", f->limit_before);
    setNumberHeader(filter_envoy, 0, "x-limit-after", f->limit_after);
  }
  if (modes & CHUNKS) {
    setNumberHeader(filter_envoy, 0, "x-request-body-calls", f->body_calls);
    setNumberHeader(filter_envoy, 0, "x-request-bytes", f->bytes);
    setNumberHeader(filter_envoy, 0, "x-request-max-slices", f->max_slices);
    setNumberHeader(filter_envoy, 0, "x-request-received-buffered", f->received_buffered);
  }
  if (modes & PROBE) {
    setHeader(filter_envoy, 0, "x-probe-request-headers", f->probe_request);
    probe(filter_envoy, ReceivedResponse, BufferedResponse, f->probe_response,
          sizeof(f->probe_response));
    setHeader(filter_envoy, 0, "x-probe-response-headers", f->probe_response);
  }
  if (modes & LATE_REQUEST_BODY) {
    envoy_dynamic_module_callback_http_append_body(filter_envoy, BufferedRequest, str("late"));
  }
  if ((modes & RESPONSE_BUFFER) && !end_of_stream) {
    return envoy_dynamic_module_type_on_http_filter_response_headers_status_StopIteration;
  }
  return envoy_dynamic_module_type_on_http_filter_response_headers_status_Continue;
}

ENVOY_TS_HOOK envoy_dynamic_module_type_on_http_filter_response_body_status
envoy_dynamic_module_on_http_filter_response_body(
    filter_envoy_ptr filter_envoy, filter_module_ptr filter_module, bool end_of_stream) {
  struct filter* f = (struct filter*)filter_module;
  const unsigned modes = f->config->modes;
  if (modes & (RESPONSE_BUFFER | RESPONSE_BUFFER_BODY)) {
    if (!end_of_stream) {
      return envoy_dynamic_module_type_on_http_filter_response_body_status_StopIterationAndBuffer;
    }
    if (modes & RESPONSE_BUFFER_UPPER) {
      replaceWithUpper(filter_envoy, 0);
    }
  } else if (modes & RESPONSE_STREAM_UPPER) {
    upperReceived(filter_envoy, ReceivedResponse);
  } else if ((modes & RESPONSE_WATERMARK) && !end_of_stream) {
    if (pastLimit(filter_envoy, ReceivedResponse, BufferedResponse)) {
      schedule(filter_envoy, f, CONTINUE_ENCODING);
    }
    return envoy_dynamic_module_type_on_http_filter_response_body_status_StopIterationAndWatermark;
  }
  return envoy_dynamic_module_type_on_http_filter_response_body_status_Continue;
}

ENVOY_TS_HOOK void envoy_dynamic_module_on_http_filter_scheduled(
    filter_envoy_ptr filter_envoy, filter_module_ptr filter_module, uint64_t event_id) {
  struct filter* f = (struct filter*)filter_module;
  f->event_pending = 0;
  if (event_id == CONTINUE_DECODING) {
    envoy_dynamic_module_callback_http_filter_continue_decoding(filter_envoy);
  } else if (event_id == CONTINUE_ENCODING) {
    envoy_dynamic_module_callback_http_filter_continue_encoding(filter_envoy);
  } else if (event_id == DRAIN) {
    // Down to exactly the low watermark, which resumes reading.
    const size_t size =
        envoy_dynamic_module_callback_http_get_body_size(filter_envoy, BufferedRequest);
    const size_t keep = envoy_dynamic_module_callback_http_get_buffer_limit(filter_envoy) / 2;
    if (size > keep) {
      envoy_dynamic_module_callback_http_drain_body(filter_envoy, BufferedRequest, size - keep);
      f->drained += size - keep;
    }
  }
}
