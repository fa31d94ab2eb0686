#include "http_codec.h"

#include <cstring>

namespace EnvoyTsHost {

Http1Parser::Http1Parser(http_parser_type type) {
  http_parser_init(&parser_, type);
  parser_.data = this;
}

const http_parser_settings& Http1Parser::settings() {
  static const http_parser_settings value = [] {
    http_parser_settings s;
    std::memset(&s, 0, sizeof(s));
    s.on_url = &Http1Parser::onUrl;
    s.on_header_field = &Http1Parser::onHeaderField;
    s.on_header_value = &Http1Parser::onHeaderValue;
    s.on_headers_complete = &Http1Parser::onHeadersComplete;
    s.on_body = &Http1Parser::onBody;
    s.on_message_complete = &Http1Parser::onMessageComplete;
    return s;
  }();
  return value;
}

size_t Http1Parser::execute(const char* data, size_t length) {
  if (failed_ || message_complete_) {
    return 0;
  }
  const size_t consumed = http_parser_execute(&parser_, &settings(), data, length);
  const http_errno error = HTTP_PARSER_ERRNO(&parser_);
  if (error == HPE_PAUSED) {
    return consumed;
  }
  if (error != HPE_OK || (consumed != length && !parser_.upgrade)) {
    failed_ = true;
  }
  return consumed;
}

void Http1Parser::finish() {
  if (!failed_ && !message_complete_) {
    execute(nullptr, 0);
  }
}

std::string Http1Parser::errorName() const {
  return http_errno_name(HTTP_PARSER_ERRNO(&parser_));
}

void Http1Parser::nextMessage() {
  http_parser_pause(&parser_, 0);
  url_.clear();
  headers_.clear();
  trailers_.clear();
  body_.drain(body_.length());
  in_value_ = false;
  headers_complete_ = false;
  message_complete_ = false;
  skip_body_ = false;
  headers_bytes_ = 0;
  headers_too_large_ = false;
}

bool Http1Parser::withinLimits(size_t completed, size_t bytes) {
  headers_bytes_ += bytes;
  // Envoy's ConnectionImpl::completeCurrentHeader (count, checked as each header completes) and
  // checkMaxHeadersSize (current field + value + the map's byteSize, as bytes arrive).
  if ((max_headers_count_ != 0 && completed > max_headers_count_) ||
      (max_headers_bytes_ != 0 && headers_bytes_ > max_headers_bytes_)) {
    headers_too_large_ = true;
  }
  return !headers_too_large_;
}

const char* Http1Parser::method() const {
  return http_method_str(static_cast<http_method>(parser_.method));
}

int Http1Parser::onUrl(http_parser* p, const char* at, size_t length) {
  static_cast<Http1Parser*>(p->data)->url_.append(at, length);
  return 0;
}

int Http1Parser::onHeaderField(http_parser* p, const char* at, size_t length) {
  auto* self = static_cast<Http1Parser*>(p->data);
  if (self->headers_complete_ && !self->enable_trailers_) {
    return 0; // A trailer, ignored.
  }
  auto& list = self->current();
  if (self->in_value_ || list.empty()) {
    // The previous header (if any) is complete.
    if (!self->headers_complete_ && !self->withinLimits(list.size(), 0)) {
      return 1;
    }
    list.emplace_back();
    self->in_value_ = false;
  }
  list.back().first.append(toLower(std::string(at, length)));
  if (!self->headers_complete_ && !self->withinLimits(list.size() - 1, length)) {
    return 1;
  }
  return 0;
}

int Http1Parser::onHeaderValue(http_parser* p, const char* at, size_t length) {
  auto* self = static_cast<Http1Parser*>(p->data);
  if (self->headers_complete_ && !self->enable_trailers_) {
    return 0; // A trailer, ignored.
  }
  self->in_value_ = true;
  self->current().back().second.append(at, length);
  if (!self->headers_complete_ && !self->withinLimits(self->headers_.size() - 1, length)) {
    return 1;
  }
  return 0;
}

int Http1Parser::onHeadersComplete(http_parser* p) {
  auto* self = static_cast<Http1Parser*>(p->data);
  if (!self->withinLimits(self->headers_.size(), 0)) {
    return -1; // http-parser: any value other than 0 and 1 is an error here
  }
  self->headers_complete_ = true;
  self->in_value_ = false;
  self->keep_alive_ = http_should_keep_alive(p) != 0;
  // Returning 1 tells http-parser that no body follows (responses to HEAD).
  return self->skip_body_ ? 1 : 0;
}

int Http1Parser::onBody(http_parser* p, const char* at, size_t length) {
  static_cast<Http1Parser*>(p->data)->body_.append(at, length);
  return 0;
}

int Http1Parser::onMessageComplete(http_parser* p) {
  auto* self = static_cast<Http1Parser*>(p->data);
  self->message_complete_ = true;
  self->keep_alive_ = self->keep_alive_ && http_should_keep_alive(p) != 0;
  http_parser_pause(p, 1);
  return 0;
}

bool isHopByHopHeader(const std::string& key) {
  return key == "connection" || key == "keep-alive" || key == "proxy-connection" ||
         key == "transfer-encoding" || key == "upgrade" || key == "te";
}

// Envoy's CodeUtility::toString (source/common/http/codes.cc): "Unknown" for any other code.
std::string reasonPhrase(unsigned status) {
  switch (status) {
  case 100: return "Continue";
  case 101: return "Switching Protocols";
  case 200: return "OK";
  case 201: return "Created";
  case 202: return "Accepted";
  case 203: return "Non-Authoritative Information";
  case 204: return "No Content";
  case 205: return "Reset Content";
  case 206: return "Partial Content";
  case 207: return "Multi-Status";
  case 208: return "Already Reported";
  case 226: return "IM Used";
  case 300: return "Multiple Choices";
  case 301: return "Moved Permanently";
  case 302: return "Found";
  case 303: return "See Other";
  case 304: return "Not Modified";
  case 305: return "Use Proxy";
  case 307: return "Temporary Redirect";
  case 308: return "Permanent Redirect";
  case 400: return "Bad Request";
  case 401: return "Unauthorized";
  case 402: return "Payment Required";
  case 403: return "Forbidden";
  case 404: return "Not Found";
  case 405: return "Method Not Allowed";
  case 406: return "Not Acceptable";
  case 407: return "Proxy Authentication Required";
  case 408: return "Request Timeout";
  case 409: return "Conflict";
  case 410: return "Gone";
  case 411: return "Length Required";
  case 412: return "Precondition Failed";
  case 413: return "Payload Too Large";
  case 414: return "URI Too Long";
  case 415: return "Unsupported Media Type";
  case 416: return "Range Not Satisfiable";
  case 417: return "Expectation Failed";
  case 421: return "Misdirected Request";
  case 422: return "Unprocessable Entity";
  case 423: return "Locked";
  case 424: return "Failed Dependency";
  case 425: return "Too Early";
  case 426: return "Upgrade Required";
  case 428: return "Precondition Required";
  case 429: return "Too Many Requests";
  case 431: return "Request Header Fields Too Large";
  case 500: return "Internal Server Error";
  case 501: return "Not Implemented";
  case 502: return "Bad Gateway";
  case 503: return "Service Unavailable";
  case 504: return "Gateway Timeout";
  case 505: return "HTTP Version Not Supported";
  case 506: return "Variant Also Negotiates";
  case 507: return "Insufficient Storage";
  case 508: return "Loop Detected";
  case 510: return "Not Extended";
  case 511: return "Network Authentication Required";
  default: return "Unknown";
  }
}

} // namespace EnvoyTsHost
