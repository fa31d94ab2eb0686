#include "server.h"

#include <event2/event.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <map>
#include <thread>

#include "admin.h"
#include "cluster.h"
#include "config.h"
#include "lds_api.h"
#include "listener.h"
#include "listener_manager.h"
#include "logger.h"
#include "stats_flush.h"
#include "worker.h"

namespace EnvoyTsHost {
namespace {

constexpr int ShutdownBudgetSeconds = 10;

// Bounds shutdown: if workers or modules hang, the process still exits.
void armShutdownWatchdog() {
  std::thread([]() {
    std::this_thread::sleep_for(std::chrono::seconds(ShutdownBudgetSeconds));
    std::fprintf(stderr, "envoy-ts-host: shutdown did not finish in %ds, exiting\n",
                 ShutdownBudgetSeconds);
    _exit(1);
  }).detach();
}

void onSignal(evutil_socket_t, short, void* arg) {
  static_cast<Dispatcher*>(arg)->exit();
}

// SIGHUP: re-read envoy.yaml (the outcome is logged by the reload).
void onReloadSignal(evutil_socket_t, short, void* arg) {
  HOST_LOG(Info, "SIGHUP received");
  static_cast<ListenerManager*>(arg)->reload();
}

// What envoy.yaml builds on the main thread before any worker runs. Members are destroyed in
// reverse order: the listeners (each its route table with the per-route configs, then its filter
// configs) before the clusters they point to.
struct Configuration {
  BootstrapSpec bootstrap;
  ClusterMap clusters;
  std::vector<std::unique_ptr<ListenerRuntime>> listeners;
};

// Both modes build the configuration here, in Envoy's order: the bootstrap, the clusters, then
// per listener its route configuration (per-route filter configs) and its filter configs (each
// loads its module, program_init once, then config_new: createListenerRuntime, which a reload
// uses too). Serve mode then binds the listener's sockets; validate mode does not (Envoy's ValidationInstance binds nothing, and its validation
// cluster manager resolves no DNS name). False with the error printed as Envoy's "error
// initializing configuration" message.
bool initialize(const Options& options, Configuration& config) {
  const bool serve = options.mode == Mode::Serve;
  auto failed = [&](const std::string& error) {
    std::fprintf(stderr, "envoy-ts-host: error initializing configuration '%s': %s\n",
                 options.config_path.c_str(), error.c_str());
    return false;
  };
  try {
    config.bootstrap = loadBootstrap(options.config_path);
    for (size_t i = 0; i < config.bootstrap.clusters.size(); ++i) {
      const ClusterSpec& spec = config.bootstrap.clusters[i];
      config.clusters[spec.name] = std::make_unique<Cluster>(
          spec, "static_resources.clusters[" + std::to_string(i) + "]", /*resolve_names=*/serve);
    }
  } catch (const ConfigError& e) {
    return failed(e.what());
  }
  // Envoy adds the static listeners one by one; each is checked against those added before it
  // (in validate mode too: its ValidationInstance runs the same listener manager).
  std::map<std::string, SocketAddress> addresses;
  for (const ListenerSpec& spec : config.bootstrap.listeners) {
    std::string error;
    std::unique_ptr<ListenerRuntime> runtime = createListenerRuntime(spec, config.clusters, error);
    if (runtime == nullptr || !checkDuplicateAddress(spec.name, spec.address, addresses, error) ||
        (serve && !bindListenSockets(spec.address, options.concurrency, runtime->sockets,
                                     runtime->bound_port, error))) {
      return failed(error);
    }
    addresses[spec.name] = spec.address;
    config.listeners.push_back(std::move(runtime));
  }
  return true;
}

} // namespace

int validateConfig(const Options& options) {
  Configuration config;
  if (!initialize(options, config)) {
    return 1;
  }
  // Envoy's validateConfig prints this to stdout once its ValidationInstance is built, then shuts
  // it down (the filter and per-route configs are destroyed after the line).
  std::printf("configuration '%s' OK\n", options.config_path.c_str());
  std::fflush(stdout);
  armShutdownWatchdog();
  HOST_LOG(Debug, "validate: destroying route tables (per-route configs), then filter configs");
  config.listeners.clear();
  return 0;
}

int runServer(const Options& options) {
  Configuration config;
  if (!initialize(options, config)) {
    return 1;
  }
  const BootstrapSpec& bootstrap = config.bootstrap;
  Dispatcher main_dispatcher;

  std::vector<std::unique_ptr<Worker>> workers;
  for (uint32_t i = 0; i < options.concurrency; ++i) {
    workers.push_back(std::make_unique<Worker>(i));
    for (auto& listener : config.listeners) {
      workers.back()->addListener(*listener);
    }
  }
  // From here on the listener manager owns the listeners (a reload replaces them).
  auto listeners = std::make_unique<ListenerManager>(
      main_dispatcher, options.config_path, options.concurrency,
      ListenerManager::DrainSettings{std::chrono::seconds(options.drain_time_s),
                                     options.drain_strategy},
      bootstrap, config.clusters, std::move(config.listeners), workers);
  // dynamic_resources.lds_config (Envoy creates its LdsApi once the static listeners are loaded).
  std::unique_ptr<LdsApi> lds;
  if (bootstrap.lds) {
    lds = std::make_unique<LdsApi>(main_dispatcher, *bootstrap.lds, bootstrap.clusters, *listeners);
    std::string error;
    if (!lds->initialize(error)) {
      std::fprintf(stderr, "envoy-ts-host: error initializing configuration '%s': %s\n",
                   options.config_path.c_str(), error.c_str());
      return 1;
    }
  }
  StatsFlusher stats_flusher(main_dispatcher, bootstrap.stats_flush);
  AdminServer admin(main_dispatcher, options.concurrency, [&]() { main_dispatcher.exit(); });
  admin.setReloadHandler([&]() { return listeners->reload(); });
  admin.setStatsRequestHandler([&]() { stats_flusher.onAdminStats(); });
  if (bootstrap.admin) {
    std::string error;
    if (!admin.start(*bootstrap.admin, error)) {
      std::fprintf(stderr, "envoy-ts-host: %s\n", error.c_str());
      return 1;
    }
  }
  for (auto& worker : workers) {
    worker->start();
  }
  // Envoy's init manager waits for LDS's first update (or its failure) before the server is
  // live; from a file that read happens here, before /ready answers 200.
  if (lds) {
    lds->start();
  }
  for (auto& listener : listeners->listeners()) {
    HOST_LOG(Info, "listener '" + listener->spec.name + "' listening on " +
                       listener->spec.address.address + ":" +
                       std::to_string(listener->bound_port));
  }
  admin.setLive();
  stats_flusher.start();
  HOST_LOG(Info, "all listeners started, " + std::to_string(options.concurrency) + " worker(s)");

  event* sigint = evsignal_new(main_dispatcher.base(), SIGINT, &onSignal, &main_dispatcher);
  event* sigterm = evsignal_new(main_dispatcher.base(), SIGTERM, &onSignal, &main_dispatcher);
  event* sighup = evsignal_new(main_dispatcher.base(), SIGHUP, &onReloadSignal, listeners.get());
  event_add(sigint, nullptr);
  event_add(sigterm, nullptr);
  event_add(sighup, nullptr);
  main_dispatcher.run();

  HOST_LOG(Info, "shutting down");
  lds.reset(); // No more updates.
  armShutdownWatchdog();
  HOST_LOG(Debug, "shutdown: stopping listeners and closing connections");
  for (auto& worker : workers) {
    worker->stop();
  }
  for (auto& worker : workers) {
    worker->join();
  }
  HOST_LOG(Debug, "shutdown: workers joined");
  workers.clear();
  HOST_LOG(Debug, "shutdown: destroying route tables (per-route configs), then filter configs");
  event_free(sighup);
  listeners.reset();
  event_free(sigint);
  event_free(sigterm);
  HOST_LOG(Debug, "shutdown: done");
  return 0;
}

} // namespace EnvoyTsHost
