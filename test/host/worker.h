#pragma once

#include <event2/listener.h>

#include <functional>
#include <map>
#include <memory>
#include <thread>
#include <vector>

#include "dispatcher.h"
#include "http_connection.h"
#include "listener.h"
#include "router.h"
#include "tcp_connection.h"

namespace EnvoyTsHost {

// One worker thread (Envoy's WorkerImpl): its own dispatcher, its listener sockets, its
// connections and upstream pool. Every stream and filter hook of its connections runs here.
class Worker : public ConnectionOwner, public TcpConnectionOwner {
public:
  explicit Worker(uint32_t index);
  ~Worker() override;

  // Main thread, before start(): accept on `listener`'s socket number index.
  void addListener(ListenerRuntime& listener);
  void start();

  // Once started (Envoy's WorkerImpl::addListener / stopListener / removeListener, posted to the
  // worker's loop). Each `done` runs on the worker thread.
  // Starts accepting on `added` (if any), then stops accepting on `replaced` (if any; it closes
  // that listener's copy of the socket) in the same loop iteration: as in Envoy the new version is
  // added first, so a shared socket is never left without an acceptor.
  void replaceListener(ListenerRuntime* added, ListenerRuntime* replaced, std::function<void()> done);
  // Closes (NoFlush) every connection `listener` accepted, then runs `done` once their deferred
  // deletions (and so their filters' destroy hooks) have run.
  void removeListener(const ListenerRuntime& listener, std::function<void()> done);
  // Any thread: stop accepting, reset and close every connection, then leave the loop.
  void stop();
  void join();

  Dispatcher& dispatcher() { return *dispatcher_; }

  // ConnectionOwner
  void removeConnection(HttpConnection& connection) override;
  // TcpConnectionOwner
  void removeConnection(TcpConnection& connection) override;

private:
  struct ActiveListener {
    Worker* worker;
    ListenerRuntime* runtime;
    evconnlistener* listener;
  };
  // A connection and the listener version that accepted it.
  template <class T> struct Accepted {
    std::unique_ptr<T> connection;
    const ListenerRuntime* listener;
  };

  static void onAccept(evconnlistener*, evutil_socket_t fd, sockaddr*, int, void* arg);
  void acceptOn(ListenerRuntime& listener);
  void drain();

  const uint32_t index_;
  std::unique_ptr<Dispatcher> dispatcher_;
  std::vector<std::unique_ptr<ActiveListener>> listeners_;
  std::map<HttpConnection*, Accepted<HttpConnection>> connections_;
  std::map<TcpConnection*, Accepted<TcpConnection>> tcp_connections_;
  std::unique_ptr<UpstreamConnPool> pool_;
  std::thread thread_;
};

} // namespace EnvoyTsHost
