#pragma once

#include <event2/event.h>

#include <chrono>
#include <list>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "cluster.h"
#include "config.h"
#include "dispatcher.h"
#include "drain_decision.h"
#include "listener.h"
#include "worker.h"

namespace EnvoyTsHost {

// What a reload answers (POST /reload) and logs: `status` 200 with a one-line summary, or 4xx/5xx
// with the error.
struct ReloadResult {
  int status{200};
  std::string message;
};

// A new set of listeners from one source: envoy.yaml's static_resources (a reload) or an LDS
// response. Listeners of the other source are left alone.
struct ListenerUpdate {
  std::vector<ListenerSpec> listeners; // The whole set of this source, in order.
  bool added_via_api{false};
  // A reload: any failure rejects the whole update. LDS (Envoy's LdsApiImpl::onConfigUpdate):
  // a listener that fails is reported in `failures` and the rest is applied.
  bool all_or_nothing{true};
  // LDS: names in the response whose resource already failed: their running version (if any)
  // is left as it is (not removed).
  std::set<std::string> keep;
};

struct ListenerUpdateResult {
  int status{200}; // All or nothing: 400 (configuration) / 500 (socket) when rejected.
  std::string error;
  std::vector<std::string> updated, added, removed, unchanged;
  std::vector<std::pair<std::string, std::string>> failures; // LDS: (listener name, error).
};

// "<n> updated (<names>), <n> added, <n> removed (<names>), <n> unchanged (<names>)".
std::string describeUpdate(const ListenerUpdateResult& result);

// The listeners of a serving host once the workers run, and their updates: a reload re-reads
// envoy.yaml and applies it the way Envoy's listener manager applies an LDS update
// (source/common/listener_manager/listener_manager_impl.cc, addOrUpdateListener,
// inPlaceFilterChainUpdate / onListenerWarmed, drainFilterChains / drainListener), matched by
// listener name:
// - a listener whose YAML is the same is left alone;
// - a changed or added one is built first (route configuration and filter configs: config_new, on
//   this main thread) and given its sockets (the old version's, shared, when the address is the
//   same); if anything fails the whole reload is rejected and nothing changes;
// - then the workers accept on the new version and stop accepting on the old one, whose
//   connections drain (see DrainDecision) for the drain time; then the workers close what is left
//   and, once every worker has deleted those connections (their filters destroyed), the old
//   version is destroyed here: its per-route configs, then its filter configs (config_destroy).
// A removed listener stops accepting (its sockets close) and drains the same way.
// Main thread only.
class ListenerManager {
public:
  struct DrainSettings {
    std::chrono::seconds time{600}; // Envoy's --drain-time-s default.
    DrainStrategy strategy{DrainStrategy::Gradual};
  };

  // Takes the listeners startup built (already added to `workers`, which must outlive this).
  ListenerManager(Dispatcher& main_dispatcher, std::string config_path, uint32_t concurrency,
                  DrainSettings drain, const BootstrapSpec& bootstrap, ClusterMap& clusters,
                  std::vector<std::unique_ptr<ListenerRuntime>> listeners,
                  std::vector<std::unique_ptr<Worker>>& workers);
  // Destroys every listener version (per-route configs, then filter configs): call it once the
  // workers are joined.
  ~ListenerManager();

  const std::vector<std::unique_ptr<ListenerRuntime>>& listeners() const { return active_; }
  // The active listener of that name, or nullptr.
  const ListenerRuntime* find(const std::string& name) const;

  // Re-reads the envoy.yaml and applies its static listeners (SIGHUP, POST /reload).
  ReloadResult reload();

  // Applies `update` (the workers must be running): matched by name among the listeners of the
  // update's source, unchanged ones are left alone, changed and added ones built first, then the
  // workers switch over, then replaced and removed versions drain (see above).
  ListenerUpdateResult apply(const ListenerUpdate& update);

private:
  // A replaced or removed listener version serving its last connections (Envoy's
  // DrainingListener / DrainingFilterChainsManager).
  struct DrainingListener {
    ListenerManager* manager;
    std::unique_ptr<ListenerRuntime> runtime;
    event* timer{nullptr};
    size_t workers_pending{0};
  };
  using DrainingList = std::list<std::unique_ptr<DrainingListener>>;

  // Posts `action` to every worker and waits until each has run it.
  void onEveryWorker(const std::function<void(Worker&, std::function<void()>)>& action);
  void startDraining(std::unique_ptr<ListenerRuntime> runtime, bool filter_chain_only);
  static void onDrainTimeout(evutil_socket_t, short, void* arg);
  void onWorkerRemoved(DrainingListener* draining);

  Dispatcher& main_dispatcher_;
  const std::string config_path_;
  const uint32_t concurrency_;
  const DrainSettings drain_;
  // What the running listeners were built from: clusters, admin, dynamic_resources and the stats
  // flush cannot change by a reload.
  const std::string canonical_clusters_;
  const std::string canonical_admin_;
  const std::string canonical_dynamic_resources_;
  const StatsFlushSpec stats_flush_;
  ClusterMap& clusters_;
  std::vector<std::unique_ptr<Worker>>& workers_;
  std::vector<std::unique_ptr<ListenerRuntime>> active_;
  DrainingList draining_;
};

} // namespace EnvoyTsHost
