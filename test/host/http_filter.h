#pragma once

#include <memory>

#include "dispatcher.h"
#include "http_filter_config.h"
#include "native/abi/http_filter.h"
#include "scheduler.h"

namespace EnvoyTsHost {

class FilterManager;
class HttpFilter;

// How far one filter let one direction iterate (Envoy's ActiveStreamFilterBase state).
enum class Iteration { Continue, StopSingle, StopAll };
struct FilterIterationState {
  bool headers_continued{false};
  Iteration iteration{Iteration::Continue};
  bool end_stream{false}; // This filter has seen the end of the stream in this direction.
};

// One dynamic-module filter instance of one stream (Envoy's DynamicModuleHttpFilter). Its address
// is the filter_envoy pointer the module sees. Lives on the stream's worker thread.
class HttpFilter : public ScheduledTarget {
public:
  HttpFilter(FilterManager& manager, HttpFilterConfigSharedPtr config, size_t index);
  // Calls the module's destroy hook; afterwards scheduled events for this filter are dropped.
  ~HttpFilter();

  // Calls on_http_filter_new; false when the module returned NULL.
  bool create();

  int onHeaders(bool decode, bool end_stream);
  int onBody(bool decode, bool end_stream);
  int onTrailers(bool decode);
  void onStreamComplete();
  void onScheduled(uint64_t event_id) override;

  FilterManager& manager() { return manager_; }
  const HttpFilterConfig& config() const { return *config_; }
  size_t index() const { return index_; }
  const std::shared_ptr<FilterLiveness>& liveness() const { return liveness_; }
  FilterIterationState& state(bool decode) { return decode ? decode_state_ : encode_state_; }

  static HttpFilter* fromEnvoyPtr(envoy_dynamic_module_type_http_filter_envoy_ptr ptr) {
    return static_cast<HttpFilter*>(ptr);
  }

private:
  FilterManager& manager_;
  const HttpFilterConfigSharedPtr config_;
  const HttpFilterHooks& hooks_;
  const size_t index_;
  envoy_dynamic_module_type_http_filter_module_ptr module_filter_{nullptr};
  std::shared_ptr<FilterLiveness> liveness_;
  FilterIterationState decode_state_;
  FilterIterationState encode_state_;
};

using HttpFilterPtr = std::unique_ptr<HttpFilter>;

} // namespace EnvoyTsHost
