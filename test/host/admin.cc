#include "admin.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <gperftools/malloc_extension.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <optional>

#include "listener.h"
#include "logger.h"
#include "stats.h"

namespace EnvoyTsHost {
namespace {

struct AdminConnection {
  AdminServer* server;
  std::function<std::string(const std::string&, const std::string&, bool&)> handler;
  std::function<void()> on_quit;
  bool quit{false};
};

void onAdminWrite(bufferevent* bev, void* arg) {
  auto* connection = static_cast<AdminConnection*>(arg);
  const bool quit = connection->quit;
  std::function<void()> on_quit = connection->on_quit;
  delete connection;
  bufferevent_free(bev);
  if (quit) {
    on_quit();
  }
}

void onAdminEvent(bufferevent* bev, short events, void* arg) {
  if (events & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
    delete static_cast<AdminConnection*>(arg);
    bufferevent_free(bev);
  }
}

void onAdminRead(bufferevent* bev, void* arg) {
  auto* connection = static_cast<AdminConnection*>(arg);
  evbuffer* input = bufferevent_get_input(bev);
  evbuffer_ptr end = evbuffer_search(input, "\r\n\r\n", 4, nullptr);
  if (end.pos < 0) {
    return;
  }
  char* line = evbuffer_readln(input, nullptr, EVBUFFER_EOL_CRLF);
  std::string request = line == nullptr ? "" : line;
  free(line);
  const size_t sp1 = request.find(' ');
  const size_t sp2 = request.find(' ', sp1 + 1);
  const std::string method = request.substr(0, sp1);
  const std::string path =
      sp1 == std::string::npos ? "" : request.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string response = connection->handler(method, path, connection->quit);
  bufferevent_disable(bev, EV_READ);
  bufferevent_setcb(bev, nullptr, &onAdminWrite, &onAdminEvent, connection);
  bufferevent_write(bev, response.data(), response.size());
}

std::string reply(int status, const char* reason, const std::string& type, const std::string& body) {
  return "HTTP/1.1 " + std::to_string(status) + " " + reason + "\r\ncontent-type: " + type +
         "\r\ncontent-length: " + std::to_string(body.size()) + "\r\nconnection: close\r\n\r\n" +
         body;
}

std::string urlDecode(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && std::isxdigit(text[i + 1]) &&
        std::isxdigit(text[i + 2])) {
      out.push_back(static_cast<char>(std::stoi(text.substr(i + 1, 2), nullptr, 16)));
      i += 2;
    } else if (text[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

} // namespace

AdminServer::AdminServer(Dispatcher& dispatcher, uint32_t concurrency,
                         std::function<void()> on_quit)
    : dispatcher_(dispatcher), concurrency_(concurrency), on_quit_(std::move(on_quit)) {}

AdminServer::~AdminServer() {
  if (listener_ != nullptr) {
    evconnlistener_free(listener_);
  }
}

bool AdminServer::start(const SocketAddress& address, std::string& error) {
  std::vector<evutil_socket_t> sockets;
  if (!bindListenSockets(address, 1, sockets, port_, error)) {
    error = "admin.address: " + error;
    return false;
  }
  listener_ = evconnlistener_new(dispatcher_.base(), &AdminServer::onAccept, this,
                                 LEV_OPT_CLOSE_ON_FREE, -1, sockets[0]);
  HOST_LOG(Info, "admin address: " + address.address + ":" + std::to_string(port_));
  return true;
}

void AdminServer::onAccept(evconnlistener*, evutil_socket_t fd, sockaddr*, int, void* arg) {
  auto* server = static_cast<AdminServer*>(arg);
  bufferevent* bev = bufferevent_socket_new(server->dispatcher_.base(), fd, BEV_OPT_CLOSE_ON_FREE);
  auto* connection = new AdminConnection{
      server,
      [server](const std::string& method, const std::string& path, bool& quit) {
        return server->handle(method, path, quit);
      },
      server->on_quit_};
  bufferevent_setcb(bev, &onAdminRead, nullptr, &onAdminEvent, connection);
  bufferevent_enable(bev, EV_READ | EV_WRITE);
}

std::string AdminServer::handle(const std::string& method, const std::string& path, bool& quit) {
  const std::string route = path.substr(0, path.find('?'));
  if (route == "/ready" && (method == "GET" || method == "HEAD")) {
    return live_ ? reply(200, "OK", "text/plain", "LIVE\n")
                 : reply(503, "Service Unavailable", "text/plain", "PRE_INITIALIZING\n");
  }
  if (route == "/server_info" && method == "GET") {
    return reply(200, "OK", "application/json",
                 std::string("{\"state\":\"") + (live_ ? "LIVE" : "PRE_INITIALIZING") +
                     "\",\"concurrency\":" + std::to_string(concurrency_) + "}\n");
  }
  if (route == "/stats" && (method == "GET" || method == "HEAD")) {
    return stats(path);
  }
  if (route == "/memory" && method == "GET") {
    return memory();
  }
  if (route == "/reload" && method == "POST" && reload_handler_) {
    const ReloadResult result = reload_handler_();
    return reply(result.status, result.status == 200 ? "OK" : result.status < 500 ? "Bad Request"
                                                                                   : "Internal Server Error",
                 "text/plain", result.message + "\n");
  }
  if (route == "/quitquitquit" && method == "POST") {
    quit = true;
    return reply(200, "OK", "text/plain", "OK\n");
  }
  return reply(404, "Not Found", "text/plain", "invalid path. admin commands are: /ready, "
                                               "/server_info, /stats, /memory, /reload, /quitquitquit\n");
}

// GET /memory: Envoy's allocator figures, from the same tcmalloc properties Envoy reads. Values
// are decimal strings, as Envoy's JSON prints 64-bit integers.
std::string AdminServer::memory() {
  const auto field = [](const char* name, const char* property) {
    size_t value = 0;
    MallocExtension::instance()->GetNumericProperty(property, &value);
    return std::string("\"") + name + "\":\"" + std::to_string(value) + "\"";
  };
  return reply(200, "OK", "application/json",
               "{" + field("allocated", "generic.current_allocated_bytes") + "," +
                   field("heap_size", "generic.heap_size") + "," +
                   field("pageheap_unmapped", "tcmalloc.pageheap_unmapped_bytes") + "," +
                   field("pageheap_free", "tcmalloc.pageheap_free_bytes") + "," +
                   field("total_thread_cache", "tcmalloc.current_total_thread_cache_bytes") + "," +
                   field("total_physical_bytes", "generic.total_physical_bytes") + "}\n");
}

// GET /stats[?filter=<regex>][&format=text]: Envoy's plain-text stats.
std::string AdminServer::stats(const std::string& path) {
  const size_t question = path.find('?');
  std::optional<std::string> filter;
  if (question != std::string::npos) {
    const std::string query = path.substr(question + 1);
    size_t start = 0;
    while (start <= query.size()) {
      const size_t end = std::min(query.find('&', start), query.size());
      const std::string pair = query.substr(start, end - start);
      const size_t eq = pair.find('=');
      const std::string key = pair.substr(0, eq);
      const std::string value = eq == std::string::npos ? "" : urlDecode(pair.substr(eq + 1));
      if (key == "filter" && !value.empty()) {
        filter = value;
      } else if (key == "format" && value != "text") {
        return reply(400, "Bad Request", "text/plain", "format " + value +
                                                           " is not supported by the host\n");
      }
      start = end + 1;
    }
  }
  std::string body;
  std::string error;
  if (!StatsStore::get().renderText(filter ? &*filter : nullptr, body, error)) {
    return reply(400, "Bad Request", "text/plain", error + "\n");
  }
  // A flush it starts completes later (see StatsFlusher), so its order with the rendering above
  // does not matter.
  if (stats_request_handler_) {
    stats_request_handler_();
  }
  return reply(200, "OK", "text/plain; charset=UTF-8", body);
}

} // namespace EnvoyTsHost
