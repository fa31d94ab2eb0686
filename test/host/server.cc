#include "server.h"

#include <event2/event.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <thread>

#include "admin.h"
#include "cluster.h"
#include "config.h"
#include "listener.h"
#include "logger.h"
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

} // namespace

int runServer(const Options& options) {
  BootstrapSpec bootstrap;
  ClusterMap clusters;
  std::vector<std::unique_ptr<ListenerRuntime>> listeners;
  try {
    bootstrap = loadBootstrap(options.config_path);
    for (size_t i = 0; i < bootstrap.clusters.size(); ++i) {
      const ClusterSpec& spec = bootstrap.clusters[i];
      clusters[spec.name] = std::make_unique<Cluster>(
          spec, "static_resources.clusters[" + std::to_string(i) + "]");
    }
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "envoy-ts-host: error initializing configuration '%s': %s\n",
                 options.config_path.c_str(), e.what());
    return 1;
  }
  Dispatcher main_dispatcher;
  for (size_t i = 0; i < bootstrap.listeners.size(); ++i) {
    auto runtime = std::make_unique<ListenerRuntime>();
    runtime->spec = bootstrap.listeners[i];
    std::string error;
    const bool tcp = runtime->spec.kind == ListenerSpec::Kind::Tcp;
    // As in Envoy's HttpConnectionManagerConfig, the route configuration (with its per-route
    // filter configs) is built before the http filters; ListenerRuntime destroys it first too.
    if (!tcp) {
      runtime->routes = RouteTable::create(runtime->spec, clusters, error);
    }
    if ((!tcp && runtime->routes == nullptr) ||
        !(tcp ? createNetworkFilterChainConfig(runtime->spec.network_filters,
                                               runtime->network_chain, error)
              : createFilterChainConfig(runtime->spec.filters, runtime->chain, error)) ||
        !bindListenSockets(runtime->spec.address, options.concurrency, runtime->sockets,
                           runtime->bound_port, error)) {
      std::fprintf(stderr, "envoy-ts-host: error initializing configuration '%s': %s\n",
                   options.config_path.c_str(), error.c_str());
      return 1;
    }
    runtime->clusters = &clusters;
    if (tcp) {
      runtime->tcp_stats =
          std::make_unique<TcpProxyStats>("tcp." + runtime->spec.tcp_proxy.stat_prefix + ".");
    }
    listeners.push_back(std::move(runtime));
  }

  std::vector<std::unique_ptr<Worker>> workers;
  for (uint32_t i = 0; i < options.concurrency; ++i) {
    workers.push_back(std::make_unique<Worker>(i));
    for (auto& listener : listeners) {
      workers.back()->addListener(*listener);
    }
  }
  AdminServer admin(main_dispatcher, options.concurrency, [&]() { main_dispatcher.exit(); });
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
  for (auto& listener : listeners) {
    HOST_LOG(Info, "listener '" + listener->spec.name + "' listening on " +
                       listener->spec.address.address + ":" +
                       std::to_string(listener->bound_port));
  }
  admin.setLive();
  HOST_LOG(Info, "all listeners started, " + std::to_string(options.concurrency) + " worker(s)");

  event* sigint = evsignal_new(main_dispatcher.base(), SIGINT, &onSignal, &main_dispatcher);
  event* sigterm = evsignal_new(main_dispatcher.base(), SIGTERM, &onSignal, &main_dispatcher);
  event_add(sigint, nullptr);
  event_add(sigterm, nullptr);
  main_dispatcher.run();

  HOST_LOG(Info, "shutting down");
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
  listeners.clear();
  event_free(sigint);
  event_free(sigterm);
  HOST_LOG(Debug, "shutdown: done");
  return 0;
}

} // namespace EnvoyTsHost
