// envoy-ts-host: the conformance host (DESIGN.md §9). Not a production proxy.
#include <event2/thread.h>

#include <csignal>
#include <cstdio>

#include "logger.h"
#include "options.h"
#include "script_runner.h"
#include "server.h"
#include "server_info.h"

int main(int argc, char** argv) {
  using namespace EnvoyTsHost;
  Options options;
  std::string error;
  if (!parseOptions(argc, argv, options, error)) {
    std::fprintf(stderr, "envoy-ts-host: %s\n", error.c_str());
    return 1;
  }
  Logger::setLevel(options.log_level);
  // Scripted streams all run on one worker: that is the worker count modules are told.
  ServerInfo::setConcurrency(options.script_path.empty() ? options.concurrency : 1);
  // Cross-thread event_active() (dispatcher posts) needs libevent's locking.
  evthread_use_pthreads();
  std::signal(SIGPIPE, SIG_IGN);
  if (!options.script_path.empty()) {
    return runScript(options);
  }
  if (options.mode == Mode::Validate) {
    return validateConfig(options);
  }
  return runServer(options);
}
