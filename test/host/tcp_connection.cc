#include "tcp_connection.h"

#include "logger.h"

namespace EnvoyTsHost {
namespace {

constexpr auto Continue = envoy_dynamic_module_type_on_network_filter_data_status_Continue;
constexpr auto StopIteration = envoy_dynamic_module_type_on_network_filter_data_status_StopIteration;
constexpr auto RemoteClose = envoy_dynamic_module_type_network_connection_event_RemoteClose;
constexpr auto LocalClose = envoy_dynamic_module_type_network_connection_event_LocalClose;

// The typed filter state key whose factory tcp_proxy reads (PerConnectionCluster).
constexpr char TcpProxyClusterKey[] = "envoy.tcp_proxy.cluster";

const char* eventName(envoy_dynamic_module_type_network_connection_event event) {
  return event == RemoteClose ? "RemoteClose" : "LocalClose";
}

} // namespace

TcpConnection::TcpConnection(Dispatcher& dispatcher, evutil_socket_t fd, ListenerRuntime& listener,
                             TcpConnectionOwner& owner)
    : dispatcher_(dispatcher), listener_(listener), owner_(owner),
      info_(downstreamConnectionInfo(fd)), id_(info_.id),
      downstream_(std::make_unique<TcpSocket>(dispatcher, fd, *this, false)),
      read_buffer_(downstream_->input()), alive_(std::make_shared<bool>(true)) {}

TcpConnection::~TcpConnection() {
  *alive_ = false;
  if (connect_timer_ != nullptr) {
    event_free(connect_timer_);
  }
  // Filters go first (their destroy hook), in chain order, like Envoy's filter manager.
  filters_.clear();
}

void TcpConnection::start() {
  HOST_LOG(Debug, "[C" + std::to_string(id_) + "] new tcp connection from " + info_.remote.text);
  // Building the chain: each module filter's on_network_filter_new, then tcp_proxy's initialize,
  // which enables half-close and read-disables the connection until its upstream is up.
  for (const NetworkFilterConfigSharedPtr& config : listener_.network_chain) {
    filters_.push_back(std::make_unique<NetworkFilter>(*this, config));
    filters_.back()->create();
  }
  read_initialized_.assign(filters_.size() + 1, false);
  listener_.tcp_stats->downstream_cx_total.inc();
  readDisable(true);
  continueReadingFrom(0, read_buffer_, read_end_stream_);
}

// ---- Read filters ----

void TcpConnection::continueReadingFrom(size_t from, Buffer& buffer, const bool& end_stream) {
  const size_t proxy = filters_.size();
  for (size_t i = from; i <= proxy; ++i) {
    if (!read_initialized_[i]) {
      read_initialized_[i] = true;
      const Status status = i < proxy ? static_cast<Status>(filters_[i]->onNewConnection())
                                      : proxyNewConnection();
      if (status == StopIteration || state_ != State::Open) {
        return;
      }
    }
    if (buffer.length() > 0 || end_stream) {
      const Status status = i < proxy ? static_cast<Status>(filters_[i]->onRead(buffer, end_stream))
                                      : proxyOnData(buffer, end_stream);
      if (status == StopIteration || state_ != State::Open) {
        return;
      }
    }
  }
}

void TcpConnection::continueReading(NetworkFilter& filter) {
  for (size_t i = 0; i < filters_.size(); ++i) {
    if (filters_[i].get() == &filter) {
      continueReadingFrom(i + 1, read_buffer_, read_end_stream_);
      return;
    }
  }
}

void TcpConnection::injectReadData(NetworkFilter& filter, Buffer& data, bool end_stream) {
  for (size_t i = 0; i < filters_.size(); ++i) {
    if (filters_[i].get() == &filter) {
      continueReadingFrom(i + 1, data, end_stream);
      return;
    }
  }
}

void TcpConnection::onReadBuffer() {
  // ConnectionImpl::onRead: nothing while read-disabled or closing; EOF is raised once.
  if (state_ != State::Open || read_disable_count_ > 0) {
    return;
  }
  if (read_buffer_.empty() && !read_end_stream_) {
    return;
  }
  if (read_end_stream_) {
    if (read_end_stream_raised_ && read_buffer_.empty()) {
      return;
    }
    read_end_stream_raised_ = true;
  }
  continueReadingFrom(0, read_buffer_, read_end_stream_);
}

void TcpConnection::postBufferedDataDispatch() {
  // Envoy fakes a read event so buffered bytes are dispatched from the loop, not from the caller.
  if (dispatch_posted_) {
    return;
  }
  dispatch_posted_ = true;
  std::weak_ptr<bool> alive = alive_;
  dispatcher_.post([this, alive]() {
    if (auto a = alive.lock(); a && *a) {
      dispatch_posted_ = false;
      onReadBuffer();
    }
  });
}

envoy_dynamic_module_type_network_read_disable_status TcpConnection::readDisable(bool disable) {
  if (disable) {
    ++read_disable_count_;
    if (state_ != State::Open) {
      return envoy_dynamic_module_type_network_read_disable_status_NoTransition;
    }
    if (read_disable_count_ > 1) {
      return envoy_dynamic_module_type_network_read_disable_status_StillReadDisabled;
    }
    downstream_->setReading(false);
    return envoy_dynamic_module_type_network_read_disable_status_TransitionedToReadDisabled;
  }
  if (read_disable_count_ == 0) {
    HOST_LOG(Warn, "[C" + std::to_string(id_) + "] read_disable(false) without a matching "
                                                "read_disable(true): ignored");
    return envoy_dynamic_module_type_network_read_disable_status_NoTransition;
  }
  --read_disable_count_;
  if (state_ != State::Open) {
    return envoy_dynamic_module_type_network_read_disable_status_NoTransition;
  }
  if (read_disable_count_ > 0) {
    return envoy_dynamic_module_type_network_read_disable_status_StillReadDisabled;
  }
  downstream_->setReading(true);
  if (!read_buffer_.empty() || (read_end_stream_ && !read_end_stream_raised_)) {
    postBufferedDataDispatch();
  }
  return envoy_dynamic_module_type_network_read_disable_status_TransitionedToReadEnabled;
}

// ---- Write filters ----

TcpConnection::Status TcpConnection::writeThroughFilters(size_t end, Buffer& data,
                                                         bool end_stream) {
  if (state_ != State::Open) {
    return StopIteration;
  }
  for (size_t i = end; i-- > 0;) {
    const auto status = static_cast<Status>(filters_[i]->onWrite(data, end_stream));
    if (status == StopIteration || state_ != State::Open) {
      return StopIteration;
    }
  }
  return Continue;
}

void TcpConnection::write(Buffer& data, bool end_stream) {
  if (write_end_stream_) {
    HOST_LOG(Trace, "[C" + std::to_string(id_) + "] write after end_stream dropped");
    return;
  }
  if (writeThroughFilters(filters_.size(), data, end_stream) == StopIteration) {
    return; // Not written; a write filter cannot resume (Envoy's Connection::write).
  }
  rawWrite(data, end_stream);
}

void TcpConnection::injectWriteData(NetworkFilter& filter, Buffer& data, bool end_stream) {
  if (write_end_stream_) {
    return;
  }
  for (size_t i = 0; i < filters_.size(); ++i) {
    if (filters_[i].get() == &filter) {
      if (writeThroughFilters(i, data, end_stream) == Continue) {
        rawWrite(data, end_stream);
      }
      return;
    }
  }
}

void TcpConnection::rawWrite(Buffer& data, bool end_stream) {
  if (state_ == State::Closed || write_end_stream_) {
    return;
  }
  write_end_stream_ = end_stream;
  listener_.tcp_stats->downstream_cx_tx_bytes_total.add(data.length());
  downstream_->write(data);
  if (end_stream) {
    downstream_->shutdownWrite();
  }
}

// ---- Close ----

void TcpConnection::close(CloseType type) {
  if (state_ == State::Closed) {
    return;
  }
  const bool flush = type == envoy_dynamic_module_type_network_connection_close_type_FlushWrite ||
                     type == envoy_dynamic_module_type_network_connection_close_type_FlushWriteAndDelay;
  if (!flush) {
    reset_on_close_ = type == envoy_dynamic_module_type_network_connection_close_type_AbortReset;
    closeSocket(LocalClose);
    return;
  }
  if (state_ == State::Closing) {
    return;
  }
  // A TCP listener's connections have no delayed-close timeout (only the HTTP connection manager
  // sets one), so FlushWriteAndDelay behaves as FlushWrite: close once the bytes are out.
  if (downstream_->pendingOutput() == 0) {
    closeSocket(LocalClose);
    return;
  }
  state_ = State::Closing;
  delayed_close_ = DelayedClose::AfterFlush;
  downstream_->setReading(false);
}

void TcpConnection::closeSocket(Event event) {
  if (state_ == State::Closed) {
    return;
  }
  HOST_LOG(Debug, "[C" + std::to_string(id_) + "] closing: " + eventName(event));
  state_ = State::Closed;
  downstream_->close(reset_on_close_);
  // Connection callbacks in registration order: the module filters, then tcp_proxy.
  for (NetworkFilterPtr& filter : filters_) {
    filter->onEvent(event);
  }
  proxyOnDownstreamEvent(event);
  owner_.removeConnection(*this);
}

// ---- State ----

bool TcpConnection::setFilterStateTyped(const std::string& key, const std::string& value) {
  if (key != TcpProxyClusterKey) {
    return false; // No object factory is registered for this key.
  }
  filter_state_typed_[key] = value;
  return true;
}

const std::string* TcpConnection::filterStateTyped(const std::string& key) const {
  auto it = filter_state_typed_.find(key);
  return it == filter_state_typed_.end() ? nullptr : &it->second;
}

void TcpConnection::setDynamicMetadata(const std::string& ns, const std::string& key,
                                       std::string value) {
  dynamic_metadata_[ns][key] = std::move(value);
}

// ---- tcp_proxy ----

TcpConnection::Status TcpConnection::proxyNewConnection() {
  const std::string* per_connection = filterStateTyped(TcpProxyClusterKey);
  const std::string& cluster_name =
      per_connection != nullptr ? *per_connection : listener_.spec.tcp_proxy.cluster;
  auto it = listener_.clusters->find(cluster_name);
  if (it == listener_.clusters->end()) {
    HOST_LOG(Debug, "[C" + std::to_string(id_) + "] Cluster not found " + cluster_name);
    listener_.tcp_stats->downstream_cx_no_route.inc();
    close(envoy_dynamic_module_type_network_connection_close_type_NoFlush);
    return StopIteration;
  }
  Cluster& cluster = *it->second;
  const Cluster::Endpoint& endpoint = cluster.endpoint(cluster.pickEndpoint());
  HOST_LOG(Debug, "[C" + std::to_string(id_) + "] Creating connection to cluster " +
                      cluster_name + " (" + endpoint.description + ")");
  std::string error;
  upstream_ = TcpSocket::connect(dispatcher_,
                                 reinterpret_cast<const sockaddr*>(&endpoint.address),
                                 endpoint.length, *this, error);
  if (upstream_ == nullptr) {
    proxyUpstreamConnectFailed(error.c_str());
    return StopIteration;
  }
  connect_timer_ = evtimer_new(dispatcher_.base(), &TcpConnection::onConnectTimeout, this);
  const timeval timeout{static_cast<time_t>(cluster.connectTimeoutMs() / 1000),
                        static_cast<suseconds_t>((cluster.connectTimeoutMs() % 1000) * 1000)};
  evtimer_add(connect_timer_, &timeout);
  return StopIteration;
}

TcpConnection::Status TcpConnection::proxyOnData(Buffer& data, bool end_stream) {
  listener_.tcp_stats->downstream_cx_rx_bytes_total.add(data.length());
  if (upstream_connected_ && !upstream_->closed()) {
    upstream_->write(data);
    if (end_stream) {
      upstream_->shutdownWrite();
    }
  }
  // Before the upstream is connected the connection is read-disabled; bytes stay put.
  return StopIteration;
}

void TcpConnection::onConnectTimeout(evutil_socket_t, short, void* arg) {
  static_cast<TcpConnection*>(arg)->proxyUpstreamConnectFailed("connect timeout");
}

void TcpConnection::proxyUpstreamConnectFailed(const char* reason) {
  HOST_LOG(Debug, "[C" + std::to_string(id_) + "] upstream connect failed: " + reason);
  if (connect_timer_ != nullptr) {
    evtimer_del(connect_timer_);
  }
  if (upstream_ != nullptr) {
    upstream_->close(false);
  }
  // One connect attempt (max_connect_attempts defaults to 1), then onInitFailure.
  close(envoy_dynamic_module_type_network_connection_close_type_NoFlush);
}

void TcpConnection::proxyUpstreamClosed() {
  if (upstream_ != nullptr) {
    upstream_->close(false);
  }
  if (state_ == State::Open) {
    close(envoy_dynamic_module_type_network_connection_close_type_FlushWrite);
  }
}

void TcpConnection::proxyOnDownstreamEvent(Event event) {
  if (connect_timer_ != nullptr) {
    evtimer_del(connect_timer_);
  }
  if (upstream_ == nullptr || upstream_->closed()) {
    return;
  }
  if (event == RemoteClose && upstream_connected_) {
    // Envoy hands the upstream to a drainer that flushes it; the host flushes once, best effort.
    upstream_->flushNow();
  }
  upstream_->close(false);
}

// ---- Sockets ----

void TcpConnection::onSocketConnected(TcpSocket& socket) {
  if (&socket != upstream_.get()) {
    return;
  }
  evtimer_del(connect_timer_);
  upstream_connected_ = true;
  HOST_LOG(Debug, "[C" + std::to_string(id_) + "] upstream connected");
  // tcp_proxy: re-enable downstream reads, then continue after itself (Envoy's onPoolReady).
  readDisable(false);
  if (state_ == State::Open) {
    continueReadingFrom(filters_.size() + 1, read_buffer_, read_end_stream_);
  }
}

void TcpConnection::onSocketData(TcpSocket& socket, size_t, bool eof) {
  if (&socket == downstream_.get()) {
    if (eof) {
      read_end_stream_ = true; // Half-close is enabled (by tcp_proxy).
    }
    onReadBuffer();
    if (state_ == State::Open && read_end_stream_ && downstream_->finSent()) {
      closeSocket(RemoteClose); // Both directions ended, the peer's FIN last.
    }
    return;
  }
  // Upstream bytes: Connection::write on the downstream. Bytes a write filter stopped stay in
  // the upstream read buffer (Envoy's tcp_proxy leaves them there too).
  bool end_stream = false;
  if (socket.eofRead() && !upstream_end_stream_raised_) {
    upstream_end_stream_raised_ = true;
    end_stream = true;
  }
  if (socket.input().length() > 0 || end_stream) {
    write(socket.input(), end_stream);
  }
  if (!socket.closed() && socket.eofRead() && socket.finSent()) {
    proxyUpstreamClosed();
  }
}

void TcpConnection::onSocketWriteDrained(TcpSocket& socket) {
  if (&socket == downstream_.get()) {
    if (delayed_close_ == DelayedClose::AfterFlush) {
      closeSocket(LocalClose);
    } else if (state_ == State::Open && read_end_stream_ && downstream_->finSent()) {
      closeSocket(LocalClose); // Both directions ended, our FIN last.
    }
    return;
  }
  if (!socket.closed() && socket.eofRead() && socket.finSent()) {
    proxyUpstreamClosed();
  }
}

void TcpConnection::onSocketError(TcpSocket& socket) {
  if (&socket == downstream_.get()) {
    closeSocket(RemoteClose);
    return;
  }
  if (!upstream_connected_) {
    proxyUpstreamConnectFailed("connection refused or reset");
    return;
  }
  proxyUpstreamClosed();
}

} // namespace EnvoyTsHost
