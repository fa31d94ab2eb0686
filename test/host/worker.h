#pragma once

#include <event2/listener.h>

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
  static void onAccept(evconnlistener*, evutil_socket_t fd, sockaddr*, int, void* arg);
  void drain();

  const uint32_t index_;
  std::unique_ptr<Dispatcher> dispatcher_;
  std::vector<std::unique_ptr<ActiveListener>> listeners_;
  std::map<HttpConnection*, std::unique_ptr<HttpConnection>> connections_;
  std::map<TcpConnection*, std::unique_ptr<TcpConnection>> tcp_connections_;
  std::unique_ptr<UpstreamConnPool> pool_;
  std::thread thread_;
};

} // namespace EnvoyTsHost
