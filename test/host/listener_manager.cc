#include "listener_manager.h"

#include <condition_variable>
#include <map>
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

} // namespace

std::string describeUpdate(const ListenerUpdateResult& result) {
  return counted(result.updated, "updated") + ", " + counted(result.added, "added") + ", " +
         counted(result.removed, "removed") + ", " + counted(result.unchanged, "unchanged");
}

ListenerManager::ListenerManager(Dispatcher& main_dispatcher, std::string config_path,
                                 uint32_t concurrency, DrainSettings drain,
                                 const BootstrapSpec& bootstrap, ClusterMap& clusters,
                                 std::vector<std::unique_ptr<ListenerRuntime>> listeners,
                                 std::vector<std::unique_ptr<Worker>>& workers)
    : main_dispatcher_(main_dispatcher), config_path_(std::move(config_path)),
      concurrency_(concurrency), drain_(drain), canonical_clusters_(bootstrap.canonical_clusters),
      canonical_admin_(bootstrap.canonical_admin),
      canonical_dynamic_resources_(bootstrap.canonical_dynamic_resources),
      stats_flush_(bootstrap.stats_flush), clusters_(clusters), workers_(workers),
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

const ListenerRuntime* ListenerManager::find(const std::string& name) const {
  for (const auto& active : active_) {
    if (active->spec.name == name) {
      return active.get();
    }
  }
  return nullptr;
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
  if (next.canonical_dynamic_resources != canonical_dynamic_resources_) {
    return reject(400, "dynamic_resources: changed, and a reload applies listener changes only "
                       "(restart the host to change dynamic_resources)");
  }
  if (!(next.stats_flush == stats_flush_)) {
    return reject(400, "stats_flush_interval / stats_flush_on_admin: changed, and a reload applies "
                       "listener changes only (restart the host to change them)");
  }
  std::set<std::string> names;
  for (const ListenerSpec& spec : next.listeners) {
    if (!names.insert(spec.name).second) {
      return reject(400, "error adding listener '" + spec.name + "': duplicate listener name");
    }
    const ListenerRuntime* existing = find(spec.name);
    if (existing != nullptr && existing->added_via_api) {
      return reject(400, "error adding listener '" + spec.name +
                             "': a listener of that name was added by LDS");
    }
  }
  ListenerUpdate update;
  update.listeners = std::move(next.listeners);
  const ListenerUpdateResult result = apply(update);
  if (!result.error.empty()) {
    return reject(result.status, result.error);
  }
  const std::string summary = "reload OK: " + describeUpdate(result);
  HOST_LOG(Info, summary);
  return ReloadResult{200, summary};
}

ListenerUpdateResult ListenerManager::apply(const ListenerUpdate& update) {
  ListenerUpdateResult result;
  // Build every changed or added listener before touching anything (Envoy builds the new
  // listener, filter configs included, while the old one keeps serving).
  struct Change {
    std::unique_ptr<ListenerRuntime> built;
    ListenerRuntime* existing; // nullptr: added.
    bool filter_chain_only;    // Envoy's in-place filter chain update.
  };
  std::vector<Change> changes;
  // Per listener of the update: nullptr when it is built anew (or failed).
  std::vector<ListenerRuntime*> kept(update.listeners.size(), nullptr);
  std::vector<bool> failed(update.listeners.size(), false);
  auto sameSource = [&](const ListenerRuntime& runtime) {
    return runtime.added_via_api == update.added_via_api;
  };
  // The addresses Envoy's duplicate address check sees, by listener name, as the update goes
  // through its listeners in order: every listener but those the update removes (Envoy's LDS
  // removes them before it adds or updates any), each changed one taking its new address as it is
  // applied.
  std::set<std::string> update_names;
  for (const ListenerSpec& spec : update.listeners) {
    update_names.insert(spec.name);
  }
  std::map<std::string, SocketAddress> addresses;
  for (const auto& active : active_) {
    const std::string& name = active->spec.name;
    if (!sameSource(*active) || update_names.count(name) > 0 || update.keep.count(name) > 0) {
      addresses[name] = active->spec.address;
    }
  }
  for (size_t i = 0; i < update.listeners.size(); ++i) {
    const ListenerSpec& spec = update.listeners[i];
    ListenerRuntime* existing = nullptr;
    for (auto& active : active_) {
      if (active->spec.name == spec.name && sameSource(*active)) {
        existing = active.get();
      }
    }
    if (existing != nullptr && existing->spec.canonical_config == spec.canonical_config) {
      kept[i] = existing; // Envoy: "duplicate/locked listener '<name>'. no add/update".
      continue;
    }
    std::string error;
    int status = 400;
    bool duplicate = false; // `error` is then Envoy's whole message, which names the listener.
    std::unique_ptr<ListenerRuntime> built = createListenerRuntime(spec, clusters_, error);
    if (built != nullptr) {
      built->added_via_api = update.added_via_api;
      // As in Envoy, the filter configs are built (config_new) before the address is checked.
      const bool share =
          existing != nullptr && sameListenAddress(existing->spec.address, spec.address);
      if (!share && !checkDuplicateAddress(spec.name, spec.address, addresses, error)) {
        built.reset(); // config_destroy for what it built.
        duplicate = true;
      } else if (!(share ? duplicateListenSockets(existing->sockets, built->sockets, error)
                         : bindListenSockets(spec.address, concurrency_, built->sockets,
                                             built->bound_port, error))) {
        closeListenSockets(built->sockets);
        built.reset();
        status = 500;
      } else if (share) {
        built->bound_port = existing->bound_port;
      }
    }
    if (built == nullptr) {
      if (update.all_or_nothing) {
        for (Change& change : changes) {
          closeListenSockets(change.built->sockets);
        }
        changes.clear(); // config_destroy for the configs built so far.
        result.status = status;
        result.error = duplicate ? error : "error adding listener '" + spec.name + "': " + error;
        return result;
      }
      // LDS: this listener fails alone; its running version (if any) keeps serving.
      result.failures.emplace_back(spec.name, error);
      failed[i] = true;
      kept[i] = existing;
      continue;
    }
    addresses[spec.name] = spec.address;
    const bool filter_chain_only =
        existing != nullptr && existing->spec.canonical_config_without_filter_chains ==
                                   spec.canonical_config_without_filter_chains;
    changes.push_back(Change{std::move(built), existing, filter_chain_only});
  }

  // Apply. The workers accept on each new version before they stop accepting on the old one.
  std::vector<std::unique_ptr<ListenerRuntime>> previous = std::move(active_);
  active_.clear();
  auto takePrevious = [&](ListenerRuntime* runtime) {
    for (auto& owned : previous) {
      if (owned.get() == runtime) {
        return std::move(owned);
      }
    }
    return std::unique_ptr<ListenerRuntime>();
  };
  // The other source's listeners, and those this update leaves as they are, stay first.
  for (auto& owned : previous) {
    if (owned != nullptr && (!sameSource(*owned) || update.keep.count(owned->spec.name) > 0)) {
      active_.push_back(std::move(owned));
    }
  }
  size_t next_change = 0;
  for (size_t i = 0; i < update.listeners.size(); ++i) {
    if (failed[i]) {
      if (kept[i] != nullptr) {
        active_.push_back(takePrevious(kept[i]));
      }
      continue;
    }
    if (kept[i] != nullptr) {
      result.unchanged.push_back(kept[i]->spec.name);
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
      result.updated.push_back(built->spec.name);
      startDraining(takePrevious(change.existing), change.filter_chain_only);
    } else {
      HOST_LOG(Info, "listener '" + built->spec.name + "' added, listening on " + where);
      result.added.push_back(built->spec.name);
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
    result.removed.push_back(runtime->spec.name);
    startDraining(std::move(gone), false);
  }
  return result;
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
