#include "lds_api.h"

#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstring>
#include <set>

#include "logger.h"

namespace EnvoyTsHost {
namespace {

const std::string StatPrefix = "listener_manager.lds.";

uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

constexpr uint64_t Prime1 = 11400714785074694791ULL;
constexpr uint64_t Prime2 = 14029467366897019727ULL;
constexpr uint64_t Prime3 = 1609587929392839161ULL;
constexpr uint64_t Prime4 = 9650029242287828579ULL;
constexpr uint64_t Prime5 = 2870177450012600261ULL;

uint64_t read64(const unsigned char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v; // Little-endian hosts only (x86-64, aarch64).
}

uint32_t read32(const unsigned char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

uint64_t xxRound(uint64_t acc, uint64_t input) {
  acc += input * Prime2;
  acc = rotl(acc, 31);
  return acc * Prime1;
}

uint64_t xxMerge(uint64_t acc, uint64_t value) {
  acc ^= xxRound(0, value);
  return acc * Prime1 + Prime4;
}

} // namespace

uint64_t xxHash64(const std::string& input) {
  const auto* p = reinterpret_cast<const unsigned char*>(input.data());
  const unsigned char* const end = p + input.size();
  uint64_t h;
  if (input.size() >= 32) {
    uint64_t v1 = Prime1 + Prime2;
    uint64_t v2 = Prime2;
    uint64_t v3 = 0;
    uint64_t v4 = 0 - Prime1;
    const unsigned char* const limit = end - 32;
    do {
      v1 = xxRound(v1, read64(p));
      v2 = xxRound(v2, read64(p + 8));
      v3 = xxRound(v3, read64(p + 16));
      v4 = xxRound(v4, read64(p + 24));
      p += 32;
    } while (p <= limit);
    h = rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18);
    h = xxMerge(h, v1);
    h = xxMerge(h, v2);
    h = xxMerge(h, v3);
    h = xxMerge(h, v4);
  } else {
    h = Prime5;
  }
  h += input.size();
  while (p + 8 <= end) {
    h ^= xxRound(0, read64(p));
    h = rotl(h, 27) * Prime1 + Prime4;
    p += 8;
  }
  if (p + 4 <= end) {
    h ^= static_cast<uint64_t>(read32(p)) * Prime1;
    h = rotl(h, 23) * Prime2 + Prime3;
    p += 4;
  }
  while (p < end) {
    h ^= (*p) * Prime5;
    h = rotl(h, 11) * Prime1;
    ++p;
  }
  h ^= h >> 33;
  h *= Prime2;
  h ^= h >> 29;
  h *= Prime3;
  h ^= h >> 32;
  return h;
}

FileWatcher::FileWatcher(Dispatcher& dispatcher) {
  fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd_ >= 0) {
    event_ = event_new(dispatcher.base(), fd_, EV_READ | EV_PERSIST, &FileWatcher::onInotify, this);
    event_add(event_, nullptr);
  }
}

FileWatcher::~FileWatcher() {
  if (event_ != nullptr) {
    event_free(event_);
  }
  if (fd_ >= 0) {
    close(fd_);
  }
}

bool FileWatcher::addWatch(const std::string& path, uint32_t events,
                           std::function<void()> callback, std::string& error) {
  // Envoy's Filesystem::splitPathFromFilename: the directory and the file name ("" for "dir/").
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) {
    error = "unable to add filesystem watch for file " + path + ": Specified path " + path +
            " does not have a directory";
    return false;
  }
  const std::string directory = slash == 0 ? "/" : path.substr(0, slash);
  const std::string file = path.substr(slash + 1);
  const int wd =
      fd_ < 0 ? -1 : inotify_add_watch(fd_, directory.c_str(), IN_MODIFY | IN_MOVED_TO);
  if (wd == -1) {
    error = "unable to add filesystem watch for file " + path + ": " + std::strerror(errno);
    return false;
  }
  HOST_LOG(Debug, "added watch for directory: '" + directory + "' file: '" + file + "' fd: " +
                      std::to_string(wd));
  watches_[wd].push_back(Watch{file, events, std::move(callback)});
  return true;
}

void FileWatcher::onInotify(evutil_socket_t, short, void* arg) {
  auto* watcher = static_cast<FileWatcher*>(arg);
  while (true) {
    alignas(inotify_event) unsigned char buffer[sizeof(inotify_event) + NAME_MAX + 1];
    const ssize_t rc = read(watcher->fd_, buffer, sizeof(buffer));
    if (rc <= 0) {
      return;
    }
    for (size_t index = 0; index < static_cast<size_t>(rc);) {
      const auto* file_event = reinterpret_cast<const inotify_event*>(buffer + index);
      const std::string file = file_event->len > 0 ? file_event->name : "";
      uint32_t events = 0;
      if (file_event->mask & IN_MODIFY) {
        events |= Modified;
      }
      if (file_event->mask & IN_MOVED_TO) {
        events |= MovedTo;
      }
      HOST_LOG(Trace, "inotify: fd " + std::to_string(file_event->wd) + " file '" + file + "'" +
                          ((events & MovedTo) ? " moved to" : "") +
                          ((events & Modified) ? " modified" : ""));
      auto it = watcher->watches_.find(file_event->wd);
      if (it != watcher->watches_.end()) {
        for (const Watch& watch : it->second) {
          if ((watch.events & events) != 0 && (watch.file == file || watch.file.empty())) {
            watch.callback();
          }
        }
      }
      index += sizeof(inotify_event) + file_event->len;
    }
  }
}

LdsApi::LdsApi(Dispatcher& dispatcher, LdsConfigSpec config, std::vector<ClusterSpec> clusters,
               ListenerManager& listeners)
    : dispatcher_(dispatcher), config_(std::move(config)), clusters_(std::move(clusters)),
      listeners_(listeners), watcher_(dispatcher),
      init_fetch_timeout_(StatsStore::get().counter(StatPrefix + "init_fetch_timeout")),
      update_attempt_(StatsStore::get().counter(StatPrefix + "update_attempt")),
      update_failure_(StatsStore::get().counter(StatPrefix + "update_failure")),
      update_rejected_(StatsStore::get().counter(StatPrefix + "update_rejected")),
      update_success_(StatsStore::get().counter(StatPrefix + "update_success")),
      update_time_(StatsStore::get().gauge(StatPrefix + "update_time")),
      version_(StatsStore::get().gauge(StatPrefix + "version")),
      update_duration_(StatsStore::get().histogram(StatPrefix + "update_duration")),
      version_text_(StatsStore::get().textReadout(StatPrefix + "version_text")) {}

bool LdsApi::initialize(std::string& error) {
  // Envoy's Config::Utility::checkFilesystemSubscriptionBackingPath.
  struct stat info;
  if (stat(config_.path.c_str(), &info) != 0) {
    error = "paths must refer to an existing path in the system: '" + config_.path +
            "' does not exist";
    return false;
  }
  // Envoy: without watched_directory the file itself is watched for moves onto it; with it, any
  // move into that directory (e.g. a symbolic link swapped in) re-reads the path.
  auto onChange = [this]() {
    if (started_) {
      refresh();
    }
  };
  if (config_.watched_directory) {
    return watcher_.addWatch(*config_.watched_directory + "/", FileWatcher::MovedTo, onChange,
                             error);
  }
  return watcher_.addWatch(config_.path, FileWatcher::MovedTo, onChange, error);
}

void LdsApi::start() {
  started_ = true;
  refresh();
}

void LdsApi::refresh() {
  HOST_LOG(Debug, "Filesystem config refresh for " + config_.path);
  update_attempt_.inc();
  LdsResponse response;
  std::string rejection;
  try {
    response = loadLdsResponse(config_.path, clusters_);
    rejection = onConfigUpdate(response);
  } catch (const LdsFileError& e) {
    // Envoy: the file could not be loaded as a DiscoveryResponse at all.
    HOST_LOG(Warn, "Filesystem config update failure: in " + config_.path + ", " + e.what());
    update_failure_.inc();
    return;
  } catch (const ConfigError& e) {
    rejection = e.what();
  } catch (const std::exception& e) {
    rejection = e.what();
  }
  if (!rejection.empty()) {
    HOST_LOG(Warn, "Filesystem config update rejected: " + rejection);
    update_rejected_.inc();
    return;
  }
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::now().time_since_epoch());
  update_time_.set(static_cast<uint64_t>(now.count()));
  version_.set(xxHash64(response.version_info));
  version_text_.set(response.version_info);
  update_success_.inc();
  HOST_LOG(Debug, "Filesystem config update accepted for " + config_.path + ": version '" +
                      response.version_info + "'");
}

std::string LdsApi::onConfigUpdate(const LdsResponse& response) {
  ListenerUpdate update;
  update.added_via_api = true;
  update.all_or_nothing = false;
  // Errors in resource order: (position, "<name>: <error>").
  std::vector<std::pair<size_t, std::string>> errors;
  std::map<std::string, size_t> position;
  for (size_t i = 0; i < response.resources.size(); ++i) {
    const LdsResource& resource = response.resources[i];
    if (!position.emplace(resource.name, i).second) {
      // Envoy: the first one of that name has been applied already.
      errors.emplace_back(i, resource.name + ": duplicate listener " + resource.name + " found");
      continue;
    }
    const ListenerRuntime* existing = listeners_.find(resource.name);
    if (existing != nullptr && !existing->added_via_api) {
      // Envoy: a static listener cannot be updated (ListenerImpl::blockUpdate).
      HOST_LOG(Debug, "duplicate/locked listener '" + resource.name + "'. no add/update");
      continue;
    }
    if (!resource.spec) {
      errors.emplace_back(i, resource.name + ": " + resource.error);
      update.keep.insert(resource.name);
      continue;
    }
    update.listeners.push_back(*resource.spec);
  }
  const ListenerUpdateResult result = listeners_.apply(update);
  for (const auto& [name, error] : result.failures) {
    errors.emplace_back(position[name], name + ": " + error);
  }
  for (const std::string& name : result.removed) {
    HOST_LOG(Info, "lds: remove listener '" + name + "'");
  }
  for (const auto* names : {&result.updated, &result.added}) {
    for (const std::string& name : *names) {
      HOST_LOG(Info, "lds: add/update listener '" + name + "'");
    }
  }
  HOST_LOG(Info, "lds: version '" + response.version_info + "' from '" + config_.path +
                     "': " + describeUpdate(result) + ", " + std::to_string(errors.size()) +
                     " failed");
  if (errors.empty()) {
    return "";
  }
  std::stable_sort(errors.begin(), errors.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string message = "Error adding/updating listener(s) ";
  for (const auto& [index, text] : errors) {
    message += text + "\n";
  }
  return message;
}

} // namespace EnvoyTsHost
