#pragma once

#include <event2/listener.h>

#include <functional>
#include <string>

#include "config.h"
#include "dispatcher.h"
#include "listener_manager.h"

namespace EnvoyTsHost {

// The admin endpoint subset on the main thread: GET /ready, GET /server_info,
// GET /stats[?filter=regex], GET /memory, POST /quitquitquit, and the host's own POST /reload
// (Envoy has no such endpoint). One request per connection.
class AdminServer {
public:
  AdminServer(Dispatcher& dispatcher, uint32_t concurrency, std::function<void()> on_quit);
  ~AdminServer();

  // False with `error` set when the address cannot be bound.
  bool start(const SocketAddress& address, std::string& error);
  void setLive() { live_ = true; }
  // POST /reload runs `handler` (re-reading envoy.yaml) and answers its status and message.
  void setReloadHandler(std::function<ReloadResult()> handler) {
    reload_handler_ = std::move(handler);
  }
  // A GET /stats with valid parameters calls `handler` (Envoy's stats handler starts a stats
  // flush then when stats_flush_on_admin is set).
  void setStatsRequestHandler(std::function<void()> handler) {
    stats_request_handler_ = std::move(handler);
  }
  uint16_t port() const { return port_; }

private:
  static void onAccept(evconnlistener*, evutil_socket_t fd, sockaddr*, int, void* arg);
  std::string handle(const std::string& method, const std::string& path, bool& quit);
  std::string stats(const std::string& path);
  std::string memory();

  Dispatcher& dispatcher_;
  const uint32_t concurrency_;
  std::function<void()> on_quit_;
  std::function<ReloadResult()> reload_handler_;
  std::function<void()> stats_request_handler_;
  evconnlistener* listener_{nullptr};
  uint16_t port_{0};
  bool live_{false};
};

} // namespace EnvoyTsHost
