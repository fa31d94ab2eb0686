#include "native/runtime/log.h"

#include <cstdio>

namespace envoy_ts::runtime {
namespace {

void writeStderr(LogLevel, std::string_view message) {
  std::fprintf(stderr, "%.*s\n", static_cast<int>(message.size()), message.data());
}
bool alwaysEnabled(LogLevel level) { return level >= LogLevel::Info; }

LogSink sink_ = {writeStderr, alwaysEnabled};

}  // namespace

void setLogSink(LogSink sink) { sink_ = sink; }

bool logEnabled(LogLevel level) { return sink_.enabled(level); }

void log(LogLevel level, std::string_view message) {
  if (!sink_.enabled(level)) {
    return;
  }
  std::string line;
  line.reserve(message.size() + 11);
  line.append("[envoy-ts] ").append(message);
  sink_.write(level, line);
}

void writeLine(LogLevel level, std::string_view line) {
  if (sink_.enabled(level)) {
    sink_.write(level, line);
  }
}

}  // namespace envoy_ts::runtime
