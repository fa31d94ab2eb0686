#pragma once

#include <event2/event.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "config.h"
#include "dispatcher.h"
#include "listener_manager.h"
#include "stats.h"

namespace EnvoyTsHost {

// Envoy's inotify Filesystem::WatcherImpl (source/common/filesystem/inotify/watcher_impl.cc): a
// watch is always on the directory of the path (IN_MODIFY | IN_MOVED_TO), and a callback runs for
// the events it asked for on its file name, or on any file of the directory when the path ends
// with "/". Main thread.
class FileWatcher {
public:
  enum Events : uint32_t { MovedTo = 0x1, Modified = 0x2 };

  explicit FileWatcher(Dispatcher& dispatcher);
  ~FileWatcher();

  // False with `error` set ("unable to add filesystem watch for file <path>: <reason>").
  bool addWatch(const std::string& path, uint32_t events, std::function<void()> callback,
                std::string& error);

private:
  struct Watch {
    std::string file; // Empty: any file of the directory.
    uint32_t events;
    std::function<void()> callback;
  };
  static void onInotify(evutil_socket_t, short, void* arg);

  int fd_{-1};
  event* event_{nullptr};
  std::map<int, std::vector<Watch>> watches_;
};

// dynamic_resources.lds_config from a file, as Envoy's LdsApiImpl over a
// FilesystemSubscriptionImpl (source/common/listener_manager/lds_api.cc,
// source/extensions/config_subscription/filesystem/filesystem_subscription_impl.cc):
// - the file (a DiscoveryResponse of Listener resources) is read at startup and again when a file
//   is moved into place: onto `path` itself, or, with `watched_directory`, anywhere into that
//   directory. Writing the file in place does nothing;
// - each read is a state-of-the-world LDS update applied by the ListenerManager: listeners added,
//   updated (new filter configs first, then the old version drains) or, absent from the file,
//   removed. A listener with a static listener's name is skipped (Envoy: "duplicate/locked
//   listener"). A listener that fails is reported and the others are applied;
// - the stats `listener_manager.lds.*` (Envoy's SubscriptionStats) say what happened.
// Main thread.
class LdsApi {
public:
  LdsApi(Dispatcher& dispatcher, LdsConfigSpec config, std::vector<ClusterSpec> clusters,
         ListenerManager& listeners);

  // Startup (Envoy: the subscription's construction): the path must exist and the watch must be
  // added. False with `error` set.
  bool initialize(std::string& error);
  // The first read (Envoy: the LDS init target starts the subscription). Whatever its outcome,
  // the server goes on starting, as in Envoy (a failed first update also ends LDS's init).
  void start();

private:
  void refresh();
  // Envoy's LdsApiImpl::onConfigUpdate: "" when every listener was applied, else the text of
  // the rejection ("Error adding/updating listener(s) <name>: <error>\n...").
  std::string onConfigUpdate(const LdsResponse& response);

  Dispatcher& dispatcher_;
  const LdsConfigSpec config_;
  const std::vector<ClusterSpec> clusters_;
  ListenerManager& listeners_;
  FileWatcher watcher_;
  bool started_{false};
  // Envoy's ALL_SUBSCRIPTION_STATS in the "listener_manager.lds." scope.
  Counter& init_fetch_timeout_;
  Counter& update_attempt_;
  Counter& update_failure_;
  Counter& update_rejected_;
  Counter& update_success_;
  Gauge& update_time_;
  Gauge& version_;
  Histogram& update_duration_;
  TextReadout& version_text_;
};

// Envoy's HashUtil::xxHash64 (XXH64, seed 0): the `version` gauge is the hash of version_info.
uint64_t xxHash64(const std::string& input);

} // namespace EnvoyTsHost
