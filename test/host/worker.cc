#include "worker.h"

#include <netinet/in.h>
#include <netinet/tcp.h>

#include "logger.h"

namespace EnvoyTsHost {

Worker::Worker(uint32_t index)
    : index_(index), dispatcher_(std::make_unique<Dispatcher>()),
      pool_(std::make_unique<UpstreamConnPool>()) {}

Worker::~Worker() {
  // Order matters: everything holding libevent objects goes before the dispatcher.
  connections_.clear();
  tcp_connections_.clear();
  for (auto& active : listeners_) {
    if (active->listener != nullptr) {
      evconnlistener_free(active->listener);
    }
  }
  pool_.reset();
  dispatcher_.reset();
}

void Worker::addListener(ListenerRuntime& listener) { acceptOn(listener); }

void Worker::acceptOn(ListenerRuntime& listener) {
  auto active = std::make_unique<ActiveListener>(ActiveListener{this, &listener, nullptr});
  active->listener = evconnlistener_new(dispatcher_->base(), &Worker::onAccept, active.get(),
                                        LEV_OPT_CLOSE_ON_FREE, -1, listener.sockets[index_]);
  listeners_.push_back(std::move(active));
}

void Worker::replaceListener(ListenerRuntime* added, ListenerRuntime* replaced,
                             std::function<void()> done) {
  dispatcher_->post([this, added, replaced, done = std::move(done)]() {
    if (added != nullptr) {
      acceptOn(*added);
    }
    for (auto it = listeners_.begin(); replaced != nullptr && it != listeners_.end(); ++it) {
      if ((*it)->runtime == replaced) {
        evconnlistener_free((*it)->listener);
        listeners_.erase(it);
        break;
      }
    }
    done();
  });
}

void Worker::removeListener(const ListenerRuntime& listener, std::function<void()> done) {
  dispatcher_->post([this, &listener, done = std::move(done)]() {
    std::vector<HttpConnection*> open;
    for (auto& [connection, accepted] : connections_) {
      if (accepted.listener == &listener) {
        open.push_back(connection);
      }
    }
    std::vector<TcpConnection*> open_tcp;
    for (auto& [connection, accepted] : tcp_connections_) {
      if (accepted.listener == &listener) {
        open_tcp.push_back(connection);
      }
    }
    if (!open.empty() || !open_tcp.empty()) {
      HOST_LOG(Info, "listener '" + listener.spec.name + "': drain time over, worker " +
                         std::to_string(index_) + " closes " +
                         std::to_string(open.size() + open_tcp.size()) + " connection(s)");
    }
    for (HttpConnection* connection : open) {
      connection->close();
    }
    for (TcpConnection* connection : open_tcp) {
      connection->close(envoy_dynamic_module_type_network_connection_close_type_NoFlush);
    }
    // Envoy's ConnectionHandlerImpl::removeFilterChains defers its completion (deferredRun) so
    // that it runs after the deferred deletion of the connections just closed: posted after them,
    // it runs once their streams and filters are destroyed.
    dispatcher_->post(done);
  });
}

void Worker::start() {
  thread_ = std::thread([this]() {
    HOST_LOG(Debug, "worker " + std::to_string(index_) + " started");
    dispatcher_->run();
    HOST_LOG(Debug, "worker " + std::to_string(index_) + " exited its loop");
  });
}

void Worker::stop() {
  dispatcher_->post([this]() { drain(); });
}

void Worker::join() {
  if (thread_.joinable()) {
    thread_.join();
  }
}

void Worker::drain() {
  for (auto& active : listeners_) {
    evconnlistener_free(active->listener);
    active->listener = nullptr;
  }
  std::vector<HttpConnection*> open;
  for (auto& [connection, accepted] : connections_) {
    open.push_back(connection);
  }
  for (HttpConnection* connection : open) {
    connection->close();
  }
  std::vector<TcpConnection*> open_tcp;
  for (auto& [connection, accepted] : tcp_connections_) {
    open_tcp.push_back(connection);
  }
  for (TcpConnection* connection : open_tcp) {
    connection->close(envoy_dynamic_module_type_network_connection_close_type_NoFlush);
  }
  // Posted after the deferred deletions of the closed streams, so filters are destroyed first.
  dispatcher_->post([this]() { dispatcher_->exit(); });
}

void Worker::onAccept(evconnlistener*, evutil_socket_t fd, sockaddr*, int, void* arg) {
  auto* active = static_cast<ActiveListener*>(arg);
  Worker& worker = *active->worker;
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  ListenerRuntime* runtime = active->runtime;
  if (runtime->spec.kind == ListenerSpec::Kind::Tcp) {
    auto connection = std::make_unique<TcpConnection>(*worker.dispatcher_, fd, *runtime, worker);
    TcpConnection* raw = connection.get();
    worker.tcp_connections_.emplace(raw, Accepted<TcpConnection>{std::move(connection), runtime});
    raw->start();
    return;
  }
  UpstreamFactory factory = [runtime, &worker](FilterManager& stream) {
    return std::make_unique<RouterUpstream>(stream, *worker.pool_, *worker.dispatcher_);
  };
  auto connection = std::make_unique<HttpConnection>(
      *worker.dispatcher_, fd, runtime->chain, runtime->routes.get(),
      runtime->spec.per_connection_buffer_limit_bytes, runtime->spec.http1_settings,
      runtime->spec.request_id, std::move(factory),
      CalloutContext{runtime->clusters, worker.pool_.get()}, &runtime->drain, worker);
  HttpConnection* raw = connection.get();
  worker.connections_.emplace(raw, Accepted<HttpConnection>{std::move(connection), runtime});
}

void Worker::removeConnection(HttpConnection& connection) {
  auto it = connections_.find(&connection);
  if (it != connections_.end()) {
    dispatcher_->deferredDelete(std::move(it->second.connection));
    connections_.erase(it);
  }
}

void Worker::removeConnection(TcpConnection& connection) {
  auto it = tcp_connections_.find(&connection);
  if (it != tcp_connections_.end()) {
    dispatcher_->deferredDelete(std::move(it->second.connection));
    tcp_connections_.erase(it);
  }
}

} // namespace EnvoyTsHost
