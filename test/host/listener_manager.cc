#include "listener_manager.h"

#include <condition_variable>
#include <mutex>
#include <set>

#include "logger.h"

namespace EnvoyTsHost {
namespace {

std::string joinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& name : names) {
    out += (out.empty() ? "" : ", ") + name;
  }
  return out;
}

// "<n> <what> (<names>)", or "0 <what>".
std::string counted(const std::vector<std::string>& names, const char* what) {
  return std::to_string(names.size()) + " " + what +
         (names.empty() ? "" : " (" + joinNames(names) + ")");
}

bool sameAddress(const SocketAddress& a, const SocketAddress& b) {
  return a.address == b.address && a.port == b.port;
}

} // namespace

ListenerManager::ListenerManager(Dispatcher& main_dispatcher, std::string config_path,
                                 uint32_t concurrency, DrainSettings drain,
                                 const BootstrapSpec& bootstrap, ClusterMap& clusters,
                                 std::vector<std::unique_ptr<ListenerRuntime>> listeners,
                                 std::vector<std::unique_ptr<Worker>>& workers)
    : main_dispatcher_(main_dispatcher), config_path_(std::move(config_path)),
      concurrency_(concurrency), drain_(drain), canonical_clusters_(bootstrap.canonical_clusters),
      canonical_admin_(bootstrap.canonical_admin), clusters_(clusters), workers_(workers),
      active_(std::move(listeners)) {}

ListenerManager::~ListenerManager() {
  for (auto& draining : draining_) {
    event_free(draining->timer);
  }
  // Main thread, after the workers: per-route configs, then filter configs, per version.
  draining_.clear();
  active_.clear();
}

void ListenerManager::onEveryWorker(
    const std::function<void(Worker&, std::function<void()>)>& action) {
  std::mutex mutex;
  std::condition_variable done;
  size_t pending = workers_.size();
  for (auto& worker : workers_) {
    action(*worker, [&]() {
      std::lock_guard<std::mutex> lock(mutex);
      if (--pending == 0) {
        done.notify_one();
      }
    });
  }
  std::unique_lock<std::mutex> lock(mutex);
  done.wait(lock, [&]() { return pending == 0; });
}

ReloadResult ListenerManager::reload() {
  HOST_LOG(Info, "reload: reading '" + config_path_ + "'");
  auto reject = [](int status, const std::string& error) {
    HOST_LOG(Error, "reload rejected, the running configuration is unchanged: " + error);
    return ReloadResult{status, error};
  };
  BootstrapSpec next;
  try {
    next = loadBootstrap(config_path_);
  } catch (const ConfigError& e) {
    return reject(400, "error reloading configuration '" + config_path_ + "': " + e.what());
  }
  // Envoy updates clusters through CDS and reads admin at startup only; the host's reload applies
  // listeners only (its clusters are shared by every listener version and every worker's pool).
  if (next.canonical_clusters != canonical_clusters_) {
    return reject(400, "static_resources.clusters: changed, and a reload applies listener changes "
                       "only (restart the host to change clusters)");
  }
  if (next.canonical_admin != canonical_admin_) {
    return reject(400, "admin: changed, and a reload applies listener changes only (restart the "
                       "host to change admin)");
  }
  std::set<std::string> names;
  for (const ListenerSpec& spec : next.listeners) {
    if (!names.insert(spec.name).second) {
      return reject(400, "error adding listener '" + spec.name + "': duplicate listener name");
    }
  }

  // Build every changed or added listener before touching anything (Envoy builds the new
  // listener, filter configs included, while the old one keeps serving).
  struct Change {
    std::unique_ptr<ListenerRuntime> built;
    ListenerRuntime* existing; // nullptr: added.
    bool filter_chain_only;    // Envoy's in-place filter chain update.
  };
  std::vector<Change> changes;
  std::vector<ListenerRuntime*> kept(next.listeners.size(), nullptr);
  auto rejectBuilt = [&](int status, const std::string& error) {
    for (Change& change : changes) {
      closeListenSockets(change.built->sockets);
    }
    changes.clear(); // config_destroy for the configs built so far.
    return reject(status, error);
  };
  for (size_t i = 0; i < next.listeners.size(); ++i) {
    const ListenerSpec& spec = next.listeners[i];
    ListenerRuntime* existing = nullptr;
    for (auto& active : active_) {
      if (active->spec.name == spec.name) {
        existing = active.get();
      }
    }
    if (existing != nullptr && existing->spec.canonical_config == spec.canonical_config) {
      kept[i] = existing; // Envoy: "duplicate/locked listener '<name>'. no add/update".
      continue;
    }
    std::string error;
    std::unique_ptr<ListenerRuntime> built = createListenerRuntime(spec, clusters_, error);
    if (built == nullptr) {
      return rejectBuilt(400, "error adding listener '" + spec.name + "': " + error);
    }
    const bool share = existing != nullptr && sameAddress(existing->spec.address, spec.address);
    const bool bound =
        share ? duplicateListenSockets(existing->sockets, built->sockets, error)
              : bindListenSockets(spec.address, concurrency_, built->sockets, built->bound_port,
                                  error);
    if (!bound) {
      closeListenSockets(built->sockets);
      return rejectBuilt(500, "error adding listener '" + spec.name + "': " + error);
    }
    if (share) {
      built->bound_port = existing->bound_port;
    }
    const bool filter_chain_only =
        existing != nullptr && existing->spec.canonical_config_without_filter_chains ==
                                   spec.canonical_config_without_filter_chains;
    changes.push_back(Change{std::move(built), existing, filter_chain_only});
  }

  // Apply. The workers accept on each new version before they stop accepting on the old one.
  std::vector<std::string> updated, added, removed, unchanged;
  std::vector<std::unique_ptr<ListenerRuntime>> previous = std::move(active_);
  auto takePrevious = [&](ListenerRuntime* runtime) {
    for (auto& owned : previous) {
      if (owned.get() == runtime) {
        return std::move(owned);
      }
    }
    return std::unique_ptr<ListenerRuntime>();
  };
  size_t next_change = 0;
  for (size_t i = 0; i < next.listeners.size(); ++i) {
    if (kept[i] != nullptr) {
      unchanged.push_back(kept[i]->spec.name);
      active_.push_back(takePrevious(kept[i]));
      continue;
    }
    Change& change = changes[next_change++];
    ListenerRuntime* built = change.built.get();
    onEveryWorker([&](Worker& worker, std::function<void()> done) {
      worker.replaceListener(built, change.existing, std::move(done));
    });
    const std::string where =
        built->spec.address.address + ":" + std::to_string(built->bound_port);
    if (change.existing != nullptr) {
      HOST_LOG(Info, "listener '" + built->spec.name + "' updated (" +
                         (change.filter_chain_only ? "in-place filter chain update"
                                                   : "full listener update") +
                         "), listening on " + where + "; draining the previous version for " +
                         std::to_string(drain_.time.count()) + "s");
      updated.push_back(built->spec.name);
      startDraining(takePrevious(change.existing), change.filter_chain_only);
    } else {
      HOST_LOG(Info, "listener '" + built->spec.name + "' added, listening on " + where);
      added.push_back(built->spec.name);
    }
    active_.push_back(std::move(change.built));
  }
  for (auto& gone : previous) {
    if (gone == nullptr) {
      continue;
    }
    ListenerRuntime* runtime = gone.get();
    onEveryWorker([&](Worker& worker, std::function<void()> done) {
      worker.replaceListener(nullptr, runtime, std::move(done));
    });
    HOST_LOG(Info, "listener '" + runtime->spec.name + "' removed; draining it for " +
                       std::to_string(drain_.time.count()) + "s");
    removed.push_back(runtime->spec.name);
    startDraining(std::move(gone), false);
  }
  const std::string summary = "reload OK: " + counted(updated, "updated") + ", " +
                              counted(added, "added") + ", " + counted(removed, "removed") + ", " +
                              counted(unchanged, "unchanged");
  HOST_LOG(Info, summary);
  return ReloadResult{200, summary};
}

void ListenerManager::startDraining(std::unique_ptr<ListenerRuntime> runtime,
                                    bool filter_chain_only) {
  runtime->drain.startDraining(filter_chain_only, drain_.time, drain_.strategy);
  auto draining = std::make_unique<DrainingListener>();
  draining->manager = this;
  draining->runtime = std::move(runtime);
  draining->timer = evtimer_new(main_dispatcher_.base(), &ListenerManager::onDrainTimeout,
                                draining.get());
  const timeval after{static_cast<time_t>(drain_.time.count()), 0};
  evtimer_add(draining->timer, &after);
  draining_.push_back(std::move(draining));
}

// Envoy: once the drain manager's timer fires, each worker removes the listener (or filter
// chains), closing its remaining connections; each completion posts back to the main thread, and
// the last one destroys the old version there.
void ListenerManager::onDrainTimeout(evutil_socket_t, short, void* arg) {
  auto* draining = static_cast<DrainingListener*>(arg);
  ListenerManager& manager = *draining->manager;
  HOST_LOG(Debug, "listener '" + draining->runtime->spec.name +
                      "' (previous version): drain time over, removing it from the workers");
  draining->workers_pending = manager.workers_.size();
  for (auto& worker : manager.workers_) {
    worker->removeListener(*draining->runtime, [&manager, draining]() {
      manager.main_dispatcher_.post([&manager, draining]() { manager.onWorkerRemoved(draining); });
    });
  }
}

void ListenerManager::onWorkerRemoved(DrainingListener* draining) {
  if (--draining->workers_pending > 0) {
    return;
  }
  for (auto it = draining_.begin(); it != draining_.end(); ++it) {
    if (it->get() == draining) {
      HOST_LOG(Info, "listener '" + draining->runtime->spec.name +
                         "' (previous version) drained; destroying its configs");
      event_free(draining->timer);
      draining_.erase(it); // Per-route configs, then filter configs (config_destroy).
      return;
    }
  }
}

} // namespace EnvoyTsHost
