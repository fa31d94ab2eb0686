#pragma once

#include <http_parser.h>

#include <string>
#include <vector>

#include "buffer.h"
#include "header_map.h"

namespace EnvoyTsHost {

// Incremental HTTP/1.1 parsing on top of http-parser. Parsed pieces accumulate until taken, so
// callers dispatch them after execute() returns rather than from inside parser callbacks.
// Parsing pauses after each complete message (pipelining: one message at a time).
class Http1Parser {
public:
  explicit Http1Parser(http_parser_type type);

  // Returns the number of bytes consumed; stops early at the end of a message or on error.
  size_t execute(const char* data, size_t length);
  // Signals EOF (ends close-delimited responses).
  void finish();
  bool failed() const { return failed_; }
  std::string errorName() const;

  bool headersComplete() const { return headers_complete_; }
  bool messageComplete() const { return message_complete_; }
  // Prepares for the next message on the same connection.
  void nextMessage();
  // For a response to HEAD: no body follows the headers.
  void setSkipBody(bool skip) { skip_body_ = skip; }
  // Http1ProtocolOptions.enable_trailers (off by default, as in Envoy). Off, the trailer section
  // of a chunked message is parsed and ignored, as by Envoy's HTTP/1 codec (onHeaderFieldImpl /
  // onHeaderValueImpl once the headers are done): trailers() stays empty and the message ends
  // with its body. Kept across messages.
  void setEnableTrailers(bool enable) { enable_trailers_ = enable; }
  // The limits of Envoy's HTTP/1 codec on a message's headers (not its trailers): more than
  // `max_count` headers, or more than `max_bytes` of names and values together (counted as they
  // arrive, the header being parsed included), fail the message with headersTooLarge(). 0: none.
  // http-parser's own HTTP_MAX_HEADER_SIZE (80 KiB for the whole head) also counts as too large.
  void setHeaderLimits(uint32_t max_count, uint32_t max_bytes) {
    max_headers_count_ = max_count;
    max_headers_bytes_ = max_bytes;
  }
  bool headersTooLarge() const {
    return headers_too_large_ || HTTP_PARSER_ERRNO(&parser_) == HPE_HEADER_OVERFLOW;
  }

  // Lowercased headers in arrival order (hop-by-hop ones included), valid once headersComplete().
  std::vector<HeaderMap::Entry>& headers() { return headers_; }
  // Empty unless trailers are enabled.
  std::vector<HeaderMap::Entry>& trailers() { return trailers_; }
  // Body bytes parsed so far and not taken, one slice per piece the parser reported (each
  // execute() input, or each chunk of a chunked body).
  Buffer& body() { return body_; }
  const std::string& url() const { return url_; }
  const char* method() const;
  unsigned statusCode() const { return parser_.status_code; }
  bool keepAlive() const { return keep_alive_; }
  bool http10() const { return parser_.http_major == 1 && parser_.http_minor == 0; }

private:
  static int onUrl(http_parser* p, const char* at, size_t length);
  static int onHeaderField(http_parser* p, const char* at, size_t length);
  static int onHeaderValue(http_parser* p, const char* at, size_t length);
  static int onHeadersComplete(http_parser* p);
  static int onBody(http_parser* p, const char* at, size_t length);
  static int onMessageComplete(http_parser* p);
  static const http_parser_settings& settings();

  std::vector<HeaderMap::Entry>& current() { return headers_complete_ ? trailers_ : headers_; }
  // For the headers (not trailers): false once a limit is exceeded, after `completed` headers
  // and `bytes` more bytes of names/values.
  bool withinLimits(size_t completed, size_t bytes);

  http_parser parser_;
  std::string url_;
  std::vector<HeaderMap::Entry> headers_;
  std::vector<HeaderMap::Entry> trailers_;
  bool in_value_{false};
  Buffer body_;
  bool headers_complete_{false};
  bool message_complete_{false};
  bool keep_alive_{true};
  bool skip_body_{false};
  bool enable_trailers_{false};
  bool failed_{false};
  uint32_t max_headers_count_{0};
  uint32_t max_headers_bytes_{0};
  size_t headers_bytes_{0};
  bool headers_too_large_{false};
};

// Connection-specific headers Envoy strips in both directions.
bool isHopByHopHeader(const std::string& lowercase_key);

// The reason phrase of a status code for HTTP/1 status lines.
std::string reasonPhrase(unsigned status);

} // namespace EnvoyTsHost
