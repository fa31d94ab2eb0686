#pragma once

#include <event2/bufferevent.h>

#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "cluster.h"

namespace EnvoyTsHost {

// Idle keep-alive upstream connections of one worker, per cluster endpoint.
class UpstreamConnPool {
public:
  ~UpstreamConnPool();
  // An idle connection to the endpoint, or nullptr.
  bufferevent* take(const Cluster& cluster, size_t endpoint);
  // Keeps a connection whose last exchange completed cleanly for reuse.
  void release(const Cluster& cluster, size_t endpoint, bufferevent* connection);

private:
  struct IdleConnection {
    UpstreamConnPool* pool;
    bufferevent* connection;
  };
  using Key = std::pair<const Cluster*, size_t>;
  static void onIdleEvent(bufferevent* bev, void* arg);
  static void onIdleError(bufferevent* bev, short events, void* arg);
  void drop(IdleConnection* idle);

  std::map<Key, std::vector<std::unique_ptr<IdleConnection>>> idle_;
};

} // namespace EnvoyTsHost
