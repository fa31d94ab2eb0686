#include "options.h"

#include <climits>
#include <cstdint>
#include <cstdlib>
#include <thread>

namespace EnvoyTsHost {

bool parseOptions(int argc, char** argv, Options& options, std::string& error) {
  options.concurrency = std::max(1u, std::thread::hardware_concurrency());
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    std::string value;
    const size_t eq = arg.find('=');
    std::string flag = arg.substr(0, eq);
    const bool takes_value = flag == "-c" || flag == "--config-path" || flag == "--concurrency" ||
                             flag == "-l" || flag == "--log-level" || flag == "--script" ||
                             flag == "--mode" || flag == "--drain-time-s" ||
                             flag == "--drain-strategy";
    if (!takes_value) {
      error = "unknown option: " + arg;
      return false;
    }
    if (eq != std::string::npos) {
      value = arg.substr(eq + 1);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      error = "option " + flag + " needs a value";
      return false;
    }
    if (flag == "-c" || flag == "--config-path") {
      options.config_path = value;
    } else if (flag == "--concurrency") {
      char* end = nullptr;
      const unsigned long n = std::strtoul(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0' || n > 1024) {
        error = "invalid --concurrency: " + value;
        return false;
      }
      // Envoy treats 0 as 1 worker.
      options.concurrency = n == 0 ? 1 : static_cast<uint32_t>(n);
    } else if (flag == "-l" || flag == "--log-level") {
      if (!Logger::parseLevel(value, options.log_level)) {
        error = "invalid --log-level: " + value;
        return false;
      }
    } else if (flag == "--drain-time-s") {
      char* end = nullptr;
      const unsigned long n = std::strtoul(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0' || value[0] == '-' || n > UINT32_MAX) {
        error = "invalid --drain-time-s: " + value;
        return false;
      }
      options.drain_time_s = static_cast<uint32_t>(n);
    } else if (flag == "--drain-strategy") {
      // Envoy: "gradual" or "immediate"; anything else is an error.
      if (value == "gradual") {
        options.drain_strategy = DrainStrategy::Gradual;
      } else if (value == "immediate") {
        options.drain_strategy = DrainStrategy::Immediate;
      } else {
        error = "unknown drain strategy '" + value + "' for --drain-strategy (gradual or immediate)";
        return false;
      }
    } else if (flag == "--mode") {
      // Envoy's OptionsImpl: "serve" or "validate" ("init_only" is not supported); anything else
      // is "error: unknown mode '<value>'".
      if (value == "serve") {
        options.mode = Mode::Serve;
      } else if (value == "validate") {
        options.mode = Mode::Validate;
      } else {
        error = "unknown mode '" + value + "' for --mode (serve or validate)";
        return false;
      }
    } else {
      options.script_path = value;
    }
  }
  if (options.config_path.empty() && options.script_path.empty()) {
    error = "usage: envoy-ts-host -c <envoy.yaml> [--mode serve|validate] [--concurrency N] "
            "[--drain-time-s S] [--drain-strategy gradual|immediate] [-l LEVEL] | "
            "--script FILE [-l LEVEL]";
    return false;
  }
  if (options.mode == Mode::Validate && (options.config_path.empty() || !options.script_path.empty())) {
    error = "--mode validate validates the envoy.yaml given with -c (not a --script scenario)";
    return false;
  }
  return true;
}

} // namespace EnvoyTsHost
