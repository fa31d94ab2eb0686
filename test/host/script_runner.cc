#include "script_runner.h"

#include <sys/resource.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <future>
#include <optional>
#include <thread>

#include "cluster.h"
#include "config.h"
#include "filter_manager.h"
#include "http_filter_config.h"
#include "logger.h"
#include "measured_window.h"
#include "upstream_connection.h"

namespace EnvoyTsHost {
namespace {

using Headers = std::vector<HeaderMap::Entry>;

struct ScriptRequest {
  Headers headers;
  std::string body;
  size_t body_chunk_bytes{0};  // The body arrives in chunks of this size (0: in one chunk).
};

struct StreamResult {
  std::optional<Headers> upstream_request_headers;
  bool local_reply{false};
  bool reset{false};
  Headers response_headers;
  std::string response_body;
};

struct Scenario {
  std::vector<DynamicModuleFilterSpec> filters;
  std::vector<ClusterSpec> clusters; // What filter callouts reach (real sockets).
  Headers upstream_headers;
  std::string upstream_body;
  std::vector<ScriptRequest> requests;
  size_t repeat{1};
  size_t warmup{0};
};

Headers readHeaders(const YAML::Node& node, const std::string& path) {
  if (!node.IsMap()) {
    throw ConfigError(path + ": expected an object");
  }
  Headers headers;
  for (const auto& item : node) {
    headers.emplace_back(item.first.as<std::string>(), item.second.as<std::string>());
  }
  return headers;
}

Scenario loadScenario(const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    throw ConfigError("unable to parse " + path + ": " + e.what());
  }
  Scenario scenario;
  const YAML::Node filters = root["filters"];
  for (size_t i = 0; filters && i < filters.size(); ++i) {
    DynamicModuleFilterSpec spec;
    spec.path = "filters[" + std::to_string(i) + "]";
    if (!filters[i]["module"]) {
      throw ConfigError(spec.path + ".module: required field is missing");
    }
    spec.module_name = filters[i]["module"].as<std::string>();
    spec.filter_name = filters[i]["filter_name"] ? filters[i]["filter_name"].as<std::string>() : "";
    spec.filter_config = filters[i]["config"] ? filters[i]["config"].as<std::string>() : "";
    scenario.filters.push_back(std::move(spec));
  }
  const YAML::Node clusters = root["clusters"];
  for (size_t i = 0; clusters && i < clusters.size(); ++i) {
    scenario.clusters.push_back(clusterSpec(clusters[i], "clusters[" + std::to_string(i) + "]"));
  }
  const YAML::Node upstream = root["upstream_response"];
  if (upstream) {
    scenario.upstream_headers = readHeaders(upstream["headers"], "upstream_response.headers");
    scenario.upstream_body = upstream["body"] ? upstream["body"].as<std::string>() : "";
  } else {
    scenario.upstream_headers = {{":status", "200"}};
  }
  const YAML::Node requests = root["requests"];
  if (!requests || requests.size() == 0) {
    throw ConfigError("requests: at least one request is required");
  }
  for (size_t i = 0; i < requests.size(); ++i) {
    const std::string r_path = "requests[" + std::to_string(i) + "]";
    scenario.requests.push_back(
        {readHeaders(requests[i]["headers"], r_path + ".headers"),
         requests[i]["body"] ? requests[i]["body"].as<std::string>() : "",
         requests[i]["body_chunk_bytes"] ? requests[i]["body_chunk_bytes"].as<size_t>() : 0});
  }
  scenario.repeat = root["repeat"] ? root["repeat"].as<size_t>() : 1;
  scenario.warmup = root["warmup"] ? root["warmup"].as<size_t>() : 0;
  if (scenario.repeat == 0) {
    throw ConfigError("repeat: must be at least 1");
  }
  return scenario;
}

HeaderMapPtr toHeaderMap(const Headers& headers) {
  auto map = std::make_unique<HeaderMap>();
  for (const auto& [key, value] : headers) {
    map->add(key, value);
  }
  return map;
}

// The router stand-in: records the request as it reached the router and answers with the
// scenario's upstream response from a later loop iteration, like a real upstream.
class ScriptUpstream : public UpstreamRequest {
public:
  ScriptUpstream(FilterManager& stream, const Scenario& scenario, StreamResult& result)
      : stream_(stream), scenario_(scenario), result_(result) {}

  void decodeHeaders(HeaderMap& headers, bool end_stream) override {
    result_.upstream_request_headers = headers.entries();
    maybeRespond(end_stream);
  }
  void decodeData(Buffer& data, bool end_stream) override {
    data.drain(data.length());
    maybeRespond(end_stream);
  }
  void decodeTrailers(HeaderMap&) override { maybeRespond(true); }
  // The response is in memory and arrives whole: nothing to pause.
  void readDisable(bool) override {}
  void cancel() override { *cancelled_ = true; }

private:
  void maybeRespond(bool end_stream) {
    if (!end_stream) {
      return;
    }
    FilterManager* stream = &stream_;
    const Scenario* scenario = &scenario_;
    std::shared_ptr<bool> cancelled = cancelled_;
    stream_.dispatcher().post([stream, scenario, cancelled]() {
      if (*cancelled) {
        return;
      }
      const bool headers_only = scenario->upstream_body.empty();
      stream->encodeHeaders(toHeaderMap(scenario->upstream_headers), headers_only);
      if (!headers_only && !*cancelled) {
        Buffer body;
        body.append(scenario->upstream_body.data(), scenario->upstream_body.size());
        stream->encodeData(body, true);
      }
    });
  }

  FilterManager& stream_;
  const Scenario& scenario_;
  StreamResult& result_;
  // Shared with the posted response: the upstream object may be gone when it runs.
  std::shared_ptr<bool> cancelled_{std::make_shared<bool>(false)};
};

// Runs the scenario's streams one after another on the worker dispatcher.
class ScriptDriver : public DownstreamEncoder {
public:
  ScriptDriver(Dispatcher& dispatcher, const Scenario& scenario, const FilterChainConfig& chain,
               CalloutContext callouts, std::promise<void>& done)
      : dispatcher_(dispatcher), scenario_(scenario), chain_(chain), callouts_(callouts), done_(done),
        total_((scenario.warmup + scenario.repeat) * scenario.requests.size()),
        measured_from_(scenario.warmup * scenario.requests.size()) {}

  void runNext() {
    if (index_ == measured_from_) {
      openMeasuredWindow();
      start_ = std::chrono::steady_clock::now();
    }
    if (index_ == total_) {
      end_ = std::chrono::steady_clock::now();
      closeMeasuredWindow();
      done_.set_value();
      return;
    }
    current_ = StreamResult();
    const ScriptRequest& request = scenario_.requests[index_ % scenario_.requests.size()];
    // No listener: Envoy's default per_connection_buffer_limit_bytes.
    stream_ = std::make_unique<FilterManager>(
        dispatcher_, chain_, *this,
        [this](FilterManager& stream) {
          return std::make_unique<ScriptUpstream>(stream, scenario_, current_);
        },
        DefaultPerConnectionBufferLimitBytes);
    stream_->setCalloutContext(callouts_);
    if (!stream_->createFilters()) {
      return;
    }
    const bool headers_only = request.body.empty();
    stream_->decodeHeaders(toHeaderMap(request.headers), headers_only);
    const size_t chunk = request.body_chunk_bytes == 0 ? request.body.size() : request.body_chunk_bytes;
    for (size_t offset = 0; !headers_only && stream_ != nullptr && offset < request.body.size();
         offset += chunk) {
      const size_t length = std::min(chunk, request.body.size() - offset);
      Buffer body;
      body.append(request.body.data() + offset, length);
      stream_->decodeData(body, offset + length == request.body.size());
    }
  }

  // DownstreamEncoder
  void encodeHeaders(HeaderMap& headers, bool) override {
    current_.response_headers = headers.entries();
  }
  void encodeData(Buffer& data, bool) override {
    current_.response_body += data.toString();
    data.drain(data.length());
  }
  void encodeTrailers(HeaderMap&) override {}
  // The request is handed over whole: nothing to pause.
  void readDisable(bool) override {}
  void onStreamComplete() override { streamDone(false); }
  void onStreamReset() override { streamDone(true); }

  const std::vector<StreamResult>& results() const { return results_; }
  size_t measuredStreams() const { return total_ - measured_from_; }
  uint64_t measuredNs() const {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(end_ - start_).count();
  }

private:
  void streamDone(bool reset) {
    current_.reset = reset;
    current_.local_reply = stream_ != nullptr && stream_->localReplySent();
    if (index_ >= measured_from_ && index_ < measured_from_ + scenario_.requests.size()) {
      results_.push_back(current_);
    }
    ++index_;
    dispatcher_.deferredDelete(std::move(stream_));
    dispatcher_.post([this]() { runNext(); });
  }

  Dispatcher& dispatcher_;
  const Scenario& scenario_;
  const FilterChainConfig& chain_;
  const CalloutContext callouts_;
  std::promise<void>& done_;
  const size_t total_;
  const size_t measured_from_;
  size_t index_{0};
  std::unique_ptr<FilterManager> stream_;
  StreamResult current_;
  std::vector<StreamResult> results_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point end_;
};

std::string jsonString(const std::string& value) {
  std::string out = "\"";
  for (const unsigned char c : value) {
    switch (c) {
    case '"': out += "\\\""; break;
    case '\\': out += "\\\\"; break;
    case '\n': out += "\\n"; break;
    case '\r': out += "\\r"; break;
    case '\t': out += "\\t"; break;
    default:
      if (c < 0x20) {
        char escaped[8];
        snprintf(escaped, sizeof(escaped), "\\u%04x", c);
        out += escaped;
      } else {
        out += static_cast<char>(c);
      }
    }
  }
  return out + "\"";
}

std::string jsonHeaders(const Headers& headers) {
  std::string out = "[";
  for (size_t i = 0; i < headers.size(); ++i) {
    out += (i ? "," : "") + std::string("[") + jsonString(headers[i].first) + "," +
           jsonString(headers[i].second) + "]";
  }
  return out + "]";
}

} // namespace

int runScript(const Options& options) {
  Scenario scenario;
  try {
    scenario = loadScenario(options.script_path);
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "envoy-ts-host: error in scenario '%s': %s\n",
                 options.script_path.c_str(), e.what());
    return 1;
  } catch (const YAML::Exception& e) {
    std::fprintf(stderr, "envoy-ts-host: error in scenario '%s': %s\n",
                 options.script_path.c_str(), e.what());
    return 1;
  }
  FilterChainConfig chain;
  std::string error;
  if (!createFilterChainConfig(scenario.filters, chain, error)) {
    std::fprintf(stderr, "envoy-ts-host: error in scenario '%s': %s\n",
                 options.script_path.c_str(), error.c_str());
    return 1;
  }

  ClusterMap clusters;
  try {
    for (size_t i = 0; i < scenario.clusters.size(); ++i) {
      const ClusterSpec& spec = scenario.clusters[i];
      clusters[spec.name] = std::make_unique<Cluster>(spec, "clusters[" + std::to_string(i) + "]");
    }
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "envoy-ts-host: error in scenario '%s': %s\n",
                 options.script_path.c_str(), e.what());
    return 1;
  }

  // Worker 0: its own dispatcher, thread and upstream pool, as in server mode.
  auto worker = std::make_unique<Dispatcher>();
  auto pool = std::make_unique<UpstreamConnPool>();
  std::promise<void> done;
  ScriptDriver driver(*worker, scenario, chain, CalloutContext{&clusters, pool.get()}, done);
  std::thread thread([&]() { worker->run(); });
  worker->post([&]() { driver.runNext(); });
  done.get_future().wait();
  worker->post([&]() { worker->exit(); });
  thread.join();
  pool.reset(); // Its connections before the dispatcher.
  worker.reset();

  std::string out = "{\"results\":[";
  const auto& results = driver.results();
  for (size_t i = 0; i < results.size(); ++i) {
    const StreamResult& r = results[i];
    out += (i ? "," : "") + std::string("{\"upstream_request_headers\":") +
           (r.upstream_request_headers ? jsonHeaders(*r.upstream_request_headers) : "null") +
           ",\"local_reply\":" + (r.local_reply ? "true" : "false") +
           (r.reset ? ",\"reset\":true" : "") +
           ",\"response_headers\":" + jsonHeaders(r.response_headers) +
           ",\"response_body\":" + jsonString(r.response_body) + "}";
  }
  const size_t streams = driver.measuredStreams();
  const uint64_t total_ns = driver.measuredNs();
  // Peak RSS so far (KiB on Linux): what a leak per stream makes grow with `repeat`.
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  out += "],\"timing\":{\"streams\":" + std::to_string(streams) +
         ",\"total_ns\":" + std::to_string(total_ns) +
         ",\"ns_per_stream\":" + std::to_string(streams ? total_ns / streams : 0) +
         "},\"peak_rss_kib\":" + std::to_string(usage.ru_maxrss) + "}\n";
  std::fputs(out.c_str(), stdout);
  chain.clear(); // config_destroy on the main thread.
  return 0;
}

} // namespace EnvoyTsHost
