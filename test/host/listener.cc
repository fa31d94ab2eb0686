#include "listener.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "cluster.h"
#include "connection_info.h"
#include "logger.h"

namespace EnvoyTsHost {
namespace {

// Envoy's Address::asString(): "127.0.0.1:80", "[::1]:80" (listener addresses are IP literals;
// one that does not parse is left as written).
std::string listenAddressText(const SocketAddress& address) {
  sockaddr_storage storage;
  socklen_t length;
  if (!resolveAddress(address, storage, length)) {
    return address.address + ":" + std::to_string(address.port);
  }
  return socketAddressInfo(storage).text;
}

} // namespace

std::unique_ptr<ListenerRuntime> createListenerRuntime(const ListenerSpec& spec,
                                                       ClusterMap& clusters, std::string& error) {
  auto runtime = std::make_unique<ListenerRuntime>();
  runtime->spec = spec;
  runtime->clusters = &clusters;
  if (spec.kind == ListenerSpec::Kind::Tcp) {
    if (!createNetworkFilterChainConfig(spec.network_filters, runtime->network_chain, error)) {
      return nullptr;
    }
    runtime->tcp_stats = std::make_unique<TcpProxyStats>("tcp." + spec.tcp_proxy.stat_prefix + ".");
    return runtime;
  }
  // As in Envoy's HttpConnectionManagerConfig, the route configuration (with its per-route filter
  // configs) is built before the http filters; ListenerRuntime destroys it first too.
  runtime->routes = RouteTable::create(spec, clusters, error);
  if (runtime->routes == nullptr || !createFilterChainConfig(spec.filters, runtime->chain, error)) {
    return nullptr;
  }
  return runtime;
}

bool sameListenAddress(const SocketAddress& a, const SocketAddress& b) {
  return listenAddressText(a) == listenAddressText(b);
}

bool checkDuplicateAddress(const std::string& name, const SocketAddress& address,
                           const std::map<std::string, SocketAddress>& listeners,
                           std::string& error) {
  if (address.port == 0) {
    return true;
  }
  const std::string text = listenAddressText(address);
  for (const auto& [other_name, other_address] : listeners) {
    if (other_name != name && listenAddressText(other_address) == text) {
      error = "error adding listener: '" + name + "' has duplicate address '" + text +
              "' as existing listener, to check if the listener has duplicated addresses with "
              "other listeners or 'enable_reuse_port' is set to 'false' for the listener";
      HOST_LOG(Warn, error);
      return false;
    }
  }
  return true;
}

bool bindListenSockets(const SocketAddress& address, size_t count,
                       std::vector<evutil_socket_t>& sockets, uint16_t& bound_port,
                       std::string& error) {
  sockaddr_storage storage;
  socklen_t length;
  if (!resolveAddress(address, storage, length)) {
    error = "unable to resolve " + address.address;
    return false;
  }
  bound_port = address.port;
  for (size_t i = 0; i < count; ++i) {
    if (storage.ss_family == AF_INET) {
      reinterpret_cast<sockaddr_in*>(&storage)->sin_port = htons(bound_port);
    } else {
      reinterpret_cast<sockaddr_in6*>(&storage)->sin6_port = htons(bound_port);
    }
    const int fd = socket(storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    const int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0 ||
        bind(fd, reinterpret_cast<sockaddr*>(&storage), length) != 0 || listen(fd, 1024) != 0) {
      error = "cannot bind " + address.address + ":" + std::to_string(bound_port) + ": " +
              std::strerror(errno);
      if (fd >= 0) {
        ::close(fd);
      }
      return false;
    }
    if (bound_port == 0) {
      sockaddr_storage actual;
      socklen_t actual_length = sizeof(actual);
      getsockname(fd, reinterpret_cast<sockaddr*>(&actual), &actual_length);
      bound_port = ntohs(actual.ss_family == AF_INET
                             ? reinterpret_cast<sockaddr_in*>(&actual)->sin_port
                             : reinterpret_cast<sockaddr_in6*>(&actual)->sin6_port);
    }
    sockets.push_back(fd);
  }
  return true;
}

bool duplicateListenSockets(const std::vector<evutil_socket_t>& from,
                            std::vector<evutil_socket_t>& sockets, std::string& error) {
  for (const evutil_socket_t fd : from) {
    const int copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (copy < 0) {
      error = std::string("cannot share the listening socket: ") + std::strerror(errno);
      closeListenSockets(sockets);
      return false;
    }
    sockets.push_back(copy);
  }
  return true;
}

void closeListenSockets(std::vector<evutil_socket_t>& sockets) {
  for (const evutil_socket_t fd : sockets) {
    ::close(fd);
  }
  sockets.clear();
}

} // namespace EnvoyTsHost
