#include "logger.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>

namespace EnvoyTsHost {
namespace {

std::atomic<int> current_level{static_cast<int>(LogLevel::Info)};

const char* levelName(LogLevel level) {
  static const char* const names[] = {"trace", "debug",    "info", "warning",
                                      "error", "critical", "off"};
  return names[static_cast<int>(level)];
}

} // namespace

void Logger::setLevel(LogLevel level) { current_level.store(static_cast<int>(level)); }

bool Logger::enabled(LogLevel level) {
  return level != LogLevel::Off && static_cast<int>(level) >= current_level.load();
}

void Logger::log(LogLevel level, const char* component, const std::string& message) {
  if (!enabled(level)) {
    return;
  }
  const auto now = std::chrono::system_clock::now();
  const std::time_t secs = std::chrono::system_clock::to_time_t(now);
  const long millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm_buf;
  localtime_r(&secs, &tm_buf);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &tm_buf);
  // One fprintf per line so concurrent lines do not interleave (stdio locks the stream).
  std::fprintf(stderr, "[%s.%03ld][%ld][%s][%s] %.*s\n", stamp, millis,
               static_cast<long>(syscall(SYS_gettid)), levelName(level), component,
               static_cast<int>(message.size()), message.data());
}

bool Logger::parseLevel(const std::string& name, LogLevel& level) {
  static const char* const names[] = {"trace", "debug",    "info", "warn",
                                      "error", "critical", "off"};
  for (int i = 0; i <= static_cast<int>(LogLevel::Off); ++i) {
    if (name == names[i] || (i == 3 && name == "warning")) {
      level = static_cast<LogLevel>(i);
      return true;
    }
  }
  return false;
}

} // namespace EnvoyTsHost
