#include "http_filter.h"

#include "filter_manager.h"

namespace EnvoyTsHost {

HttpFilter::HttpFilter(FilterManager& manager, HttpFilterConfigSharedPtr config, size_t index)
    : manager_(manager), config_(std::move(config)), hooks_(config_->hooks()), index_(index),
      liveness_(std::make_shared<FilterLiveness>(manager.dispatcher().postQueue(), this)) {}

HttpFilter::~HttpFilter() {
  liveness_->target = nullptr;
  if (module_filter_ != nullptr) {
    hooks_.destroy(module_filter_);
  }
}

bool HttpFilter::create() {
  module_filter_ = hooks_.filter_new(config_->moduleConfig(), this);
  return module_filter_ != nullptr;
}

int HttpFilter::onHeaders(bool decode, bool end_stream) {
  return decode ? static_cast<int>(hooks_.request_headers(this, module_filter_, end_stream))
                : static_cast<int>(hooks_.response_headers(this, module_filter_, end_stream));
}

int HttpFilter::onBody(bool decode, bool end_stream) {
  return decode ? static_cast<int>(hooks_.request_body(this, module_filter_, end_stream))
                : static_cast<int>(hooks_.response_body(this, module_filter_, end_stream));
}

int HttpFilter::onTrailers(bool decode) {
  return decode ? static_cast<int>(hooks_.request_trailers(this, module_filter_))
                : static_cast<int>(hooks_.response_trailers(this, module_filter_));
}

void HttpFilter::onStreamComplete() {
  if (module_filter_ != nullptr) {
    hooks_.stream_complete(this, module_filter_);
  }
}

void HttpFilter::onScheduled(uint64_t event_id) {
  if (module_filter_ != nullptr) {
    hooks_.scheduled(this, module_filter_, event_id);
  }
}

} // namespace EnvoyTsHost
