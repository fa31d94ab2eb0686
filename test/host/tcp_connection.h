#pragma once

#include <event2/event.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "buffer.h"
#include "connection_info.h"
#include "dispatcher.h"
#include "listener.h"
#include "native/abi/network_filter.h"
#include "network_filter.h"
#include "tcp_socket.h"

namespace EnvoyTsHost {

class TcpConnection;

// What a downstream TCP connection needs from its worker.
class TcpConnectionOwner {
public:
  virtual ~TcpConnectionOwner() = default;
  // The connection closed; the owner defers its deletion (and so the filters' destroy).
  virtual void removeConnection(TcpConnection& connection) = 0;
};

// One downstream connection of a TCP listener: Envoy's ConnectionImpl (half-close enabled,
// read-disable count, close types), its FilterManagerImpl (read filters in order with lazy
// new_connection, write filters in reverse order) and the terminal tcp_proxy filter, which
// read-disables the connection until its upstream is connected. Worker thread only.
class TcpConnection : public TcpSocket::Callbacks {
public:
  enum class State { Open, Closing, Closed };
  using Status = envoy_dynamic_module_type_on_network_filter_data_status;
  using CloseType = envoy_dynamic_module_type_network_connection_close_type;
  using Event = envoy_dynamic_module_type_network_connection_event;

  TcpConnection(Dispatcher& dispatcher, evutil_socket_t fd, ListenerRuntime& listener,
                TcpConnectionOwner& owner);
  ~TcpConnection() override;

  // Builds the filter chain and runs new_connection (Envoy's initializeReadFilters).
  void start();

  State state() const { return state_; }
  Dispatcher& dispatcher() { return dispatcher_; }

  // Network::Connection, as the filters reach it.
  void close(CloseType type);
  // Connection::write: through every write filter, then the socket.
  void write(Buffer& data, bool end_stream);
  envoy_dynamic_module_type_network_read_disable_status readDisable(bool disable);
  Buffer& readBuffer() { return read_buffer_; }

  // ReadFilterCallbacks / WriteFilterCallbacks of `filter`.
  void continueReading(NetworkFilter& filter);
  void injectReadData(NetworkFilter& filter, Buffer& data, bool end_stream);
  void injectWriteData(NetworkFilter& filter, Buffer& data, bool end_stream);

  // Connection facts and stream info.
  uint64_t id() const { return id_; }
  const std::string& remoteAddress() const { return info_.remote.ip; }
  uint32_t remotePort() const { return info_.remote.port; }
  const std::string& localAddress() const { return info_.local.ip; }
  uint32_t localPort() const { return info_.local.port; }
  std::map<std::string, std::string>& filterStateBytes() { return filter_state_bytes_; }
  // Typed filter state: only keys with a known factory (envoy.tcp_proxy.cluster); false otherwise.
  bool setFilterStateTyped(const std::string& key, const std::string& value);
  const std::string* filterStateTyped(const std::string& key) const;
  void setDynamicMetadata(const std::string& ns, const std::string& key, std::string value);

private:
  enum class DelayedClose { None, AfterFlush };

  // FilterManagerImpl::onContinueReading from read filter `from` (the tcp_proxy is index n).
  void continueReadingFrom(size_t from, Buffer& buffer, const bool& end_stream);
  // FilterManagerImpl::onWrite over the write filters before `end` (reverse order).
  Status writeThroughFilters(size_t end, Buffer& data, bool end_stream);
  // The write after the filters (Connection::rawWrite).
  void rawWrite(Buffer& data, bool end_stream);
  // ConnectionImpl::onRead: runs the read filters over the read buffer.
  void onReadBuffer();
  void closeSocket(Event event);
  void postBufferedDataDispatch();

  // The tcp_proxy filter.
  Status proxyNewConnection();
  Status proxyOnData(Buffer& data, bool end_stream);
  void proxyOnDownstreamEvent(Event event);
  void proxyUpstreamConnectFailed(const char* reason);
  void proxyUpstreamClosed();
  static void onConnectTimeout(evutil_socket_t, short, void* arg);

  // TcpSocket::Callbacks, for the downstream and the upstream socket.
  void onSocketConnected(TcpSocket& socket) override;
  void onSocketData(TcpSocket& socket, size_t bytes, bool eof) override;
  void onSocketWriteDrained(TcpSocket& socket) override;
  void onSocketError(TcpSocket& socket) override;

  Dispatcher& dispatcher_;
  ListenerRuntime& listener_;
  TcpConnectionOwner& owner_;
  const DownstreamConnectionInfo info_;
  const uint64_t id_;
  std::unique_ptr<TcpSocket> downstream_;
  std::vector<NetworkFilterPtr> filters_;
  std::vector<bool> read_initialized_; // Per read filter, the tcp_proxy last.
  Buffer& read_buffer_;
  bool read_end_stream_{false};
  bool read_end_stream_raised_{false};
  bool write_end_stream_{false};
  uint32_t read_disable_count_{0};
  State state_{State::Open};
  DelayedClose delayed_close_{DelayedClose::None};
  bool reset_on_close_{false};
  bool dispatch_posted_{false};
  std::shared_ptr<bool> alive_;

  std::map<std::string, std::string> filter_state_bytes_;
  std::map<std::string, std::string> filter_state_typed_;
  std::map<std::string, std::map<std::string, std::string>> dynamic_metadata_;

  // tcp_proxy.
  std::unique_ptr<TcpSocket> upstream_;
  bool upstream_connected_{false};
  bool upstream_end_stream_raised_{false};
  event* connect_timer_{nullptr};
};

} // namespace EnvoyTsHost
