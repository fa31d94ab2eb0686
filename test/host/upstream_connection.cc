#include "upstream_connection.h"

#include <event2/event.h>

namespace EnvoyTsHost {

UpstreamConnPool::~UpstreamConnPool() {
  for (auto& [key, list] : idle_) {
    for (auto& idle : list) {
      bufferevent_free(idle->connection);
    }
  }
}

bufferevent* UpstreamConnPool::take(const Cluster& cluster, size_t endpoint) {
  auto it = idle_.find({&cluster, endpoint});
  if (it == idle_.end() || it->second.empty()) {
    return nullptr;
  }
  bufferevent* connection = it->second.back()->connection;
  it->second.pop_back();
  return connection;
}

void UpstreamConnPool::release(const Cluster& cluster, size_t endpoint, bufferevent* connection) {
  auto idle = std::make_unique<IdleConnection>(IdleConnection{this, connection});
  // Any byte or close on an idle connection makes it unusable.
  bufferevent_setcb(connection, &UpstreamConnPool::onIdleEvent, nullptr,
                    &UpstreamConnPool::onIdleError, idle.get());
  bufferevent_enable(connection, EV_READ);
  idle_[{&cluster, endpoint}].push_back(std::move(idle));
}

void UpstreamConnPool::onIdleEvent(bufferevent*, void* arg) {
  auto* idle = static_cast<IdleConnection*>(arg);
  idle->pool->drop(idle);
}

void UpstreamConnPool::onIdleError(bufferevent*, short, void* arg) {
  auto* idle = static_cast<IdleConnection*>(arg);
  idle->pool->drop(idle);
}

void UpstreamConnPool::drop(IdleConnection* idle) {
  for (auto& [key, list] : idle_) {
    for (auto it = list.begin(); it != list.end(); ++it) {
      if (it->get() == idle) {
        bufferevent_free(idle->connection);
        list.erase(it);
        return;
      }
    }
  }
}

} // namespace EnvoyTsHost
