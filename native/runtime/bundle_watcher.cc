#include "native/runtime/bundle_watcher.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "native/runtime/log.h"

namespace envoy_ts::runtime {
namespace {

using Clock = std::chrono::steady_clock;

// A folder must be quiet this long after a change before the bundle is read: a build writes the
// bundle and its source map, an editor may write in several steps. (A half-written bundle would
// only be rejected as broken, and the finished one loaded on the next event; waiting avoids the
// noise.)
constexpr auto kQuietPeriod = std::chrono::milliseconds(100);
// When no prepared environment was there to validate a reload in, try again after this long.
constexpr auto kRetryDelay = std::chrono::milliseconds(200);

// Any change in the folder counts, not only events naming the bundle: a Kubernetes ConfigMap
// volume, for one, swaps a symlink next to the file. The content hash decides whether it changed.
constexpr uint32_t kFolderEvents = IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE;

std::string folderOf(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos || slash == 0 ? "/" : path.substr(0, slash);
}

// Thread-safety: the maps and `due` are guarded by mu; the inotify and event fds are created
// before the thread starts and closed after it was joined. The thread calls on_change without
// holding mu, so config_new/destroy on the main thread never wait for a reload, except unwatch()
// of the last config, which joins the thread.
struct WatcherState {
  BundleWatcher::OnChange on_change = nullptr;
  std::mutex mu;
  std::map<uint64_t, std::string> folder_of;  // config id → its bundle's folder
  std::map<std::string, int> watch_of;        // folder → inotify watch descriptor
  std::map<int, std::string> folder_at;       // inotify watch descriptor → folder
  std::map<uint64_t, Clock::time_point> due;  // config id → when to reload it
  int inotify_fd = -1;
  int stop_fd = -1;
  std::thread thread;
};

WatcherState& watcher() {
  static WatcherState* state = new WatcherState();  // outlives every thread
  return *state;
}

// The configs whose bundle is in `folder` are due a quiet period from now.
void markFolderChanged(WatcherState& state, const std::string& folder) {
  const auto when = Clock::now() + kQuietPeriod;
  for (const auto& [id, watched] : state.folder_of) {
    if (watched == folder) {
      state.due[id] = when;
    }
  }
}

void run(WatcherState& state) {
  alignas(inotify_event) char buffer[16 * 1024];
  while (true) {
    int timeout_ms = -1;
    {
      std::lock_guard<std::mutex> lock(state.mu);
      if (!state.due.empty()) {
        auto next = Clock::now();
        bool first = true;
        for (const auto& entry : state.due) {
          if (first || entry.second < next) {
            next = entry.second;
            first = false;
          }
        }
        auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next - Clock::now());
        timeout_ms = static_cast<int>(std::max<int64_t>(0, wait.count() + 1));
      }
    }
    pollfd fds[2] = {{state.inotify_fd, POLLIN, 0}, {state.stop_fd, POLLIN, 0}};
    int ready = poll(fds, 2, timeout_ms);
    if (ready < 0 && errno != EINTR) {
      log(LogLevel::Error, std::string("the bundle watcher stopped: poll: ") + std::strerror(errno));
      return;
    }
    if ((fds[1].revents & POLLIN) != 0) {
      return;
    }
    if ((fds[0].revents & POLLIN) != 0) {
      ssize_t length = read(state.inotify_fd, buffer, sizeof(buffer));
      std::lock_guard<std::mutex> lock(state.mu);
      for (ssize_t offset = 0; length > 0 && offset < length;) {
        const auto* event = reinterpret_cast<const inotify_event*>(buffer + offset);
        auto folder = state.folder_at.find(event->wd);
        if (folder != state.folder_at.end()) {
          markFolderChanged(state, folder->second);
        }
        offset += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
      }
    }
    std::vector<uint64_t> now_due;
    {
      std::lock_guard<std::mutex> lock(state.mu);
      const auto now = Clock::now();
      for (auto it = state.due.begin(); it != state.due.end();) {
        if (it->second <= now) {
          now_due.push_back(it->first);
          it = state.due.erase(it);
        } else {
          ++it;
        }
      }
    }
    for (uint64_t id : now_due) {
      if (!state.on_change(id)) {
        std::lock_guard<std::mutex> lock(state.mu);
        if (state.folder_of.count(id) != 0 && state.due.count(id) == 0) {
          state.due[id] = Clock::now() + kRetryDelay;
        }
      }
    }
  }
}

}  // namespace

void BundleWatcher::configure(OnChange on_change) { watcher().on_change = on_change; }

std::string BundleWatcher::watch(uint64_t config_id, const std::string& path) {
  WatcherState& state = watcher();
  const std::string folder = folderOf(path);
  std::lock_guard<std::mutex> lock(state.mu);
  if (state.inotify_fd < 0) {
    state.inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    state.stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (state.inotify_fd < 0 || state.stop_fd < 0) {
      std::string error = std::string("cannot watch files (inotify): ") + std::strerror(errno);
      if (state.inotify_fd >= 0) close(state.inotify_fd);
      if (state.stop_fd >= 0) close(state.stop_fd);
      state.inotify_fd = state.stop_fd = -1;
      return error;
    }
  }
  if (state.watch_of.count(folder) == 0) {
    int wd = inotify_add_watch(state.inotify_fd, folder.c_str(), kFolderEvents);
    if (wd < 0) {
      return "cannot watch " + folder + " (inotify): " + std::strerror(errno) +
             (errno == ENOSPC ? " (raise fs.inotify.max_user_watches)" : "");
    }
    state.watch_of[folder] = wd;
    state.folder_at[wd] = folder;
  }
  state.folder_of[config_id] = folder;
  if (!state.thread.joinable()) {
    state.thread = std::thread(run, std::ref(state));
  }
  return "";
}

void BundleWatcher::unwatch(uint64_t config_id) {
  WatcherState& state = watcher();
  std::thread stopping;
  {
    std::lock_guard<std::mutex> lock(state.mu);
    auto it = state.folder_of.find(config_id);
    if (it == state.folder_of.end()) {
      return;
    }
    const std::string folder = it->second;
    state.folder_of.erase(it);
    state.due.erase(config_id);
    bool folder_used = false;
    for (const auto& entry : state.folder_of) {
      folder_used = folder_used || entry.second == folder;
    }
    if (!folder_used) {
      inotify_rm_watch(state.inotify_fd, state.watch_of[folder]);
      state.folder_at.erase(state.watch_of[folder]);
      state.watch_of.erase(folder);
    }
    if (!state.folder_of.empty()) {
      return;
    }
    uint64_t one = 1;
    (void)!write(state.stop_fd, &one, sizeof(one));
    stopping = std::move(state.thread);
  }
  if (stopping.joinable()) {
    stopping.join();  // it may be running a reload: that finishes first
  }
  std::lock_guard<std::mutex> lock(state.mu);
  if (state.folder_of.empty() && !state.thread.joinable()) {
    close(state.inotify_fd);
    close(state.stop_fd);
    state.inotify_fd = state.stop_fd = -1;
  }
}

}  // namespace envoy_ts::runtime
