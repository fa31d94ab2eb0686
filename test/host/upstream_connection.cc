#include "upstream_connection.h"

#include <event2/buffer.h>

#include <cstdint>

#include "logger.h"

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

UpstreamConnection::UpstreamConnection(Dispatcher& dispatcher, UpstreamConnPool* pool,
                                       UpstreamConnectionCallbacks& callbacks,
                                       std::string log_prefix)
    : dispatcher_(dispatcher), pool_(pool), callbacks_(callbacks),
      log_prefix_(std::move(log_prefix)) {}

UpstreamConnection::~UpstreamConnection() {
  *alive_ = false;
  close(false);
}

bool UpstreamConnection::connect(Cluster& cluster, size_t endpoint) {
  cluster_ = &cluster;
  endpoint_ = endpoint;
  response_.setEnableTrailers(cluster.http1Settings().enable_trailers);
  connection_ = pool_ == nullptr ? nullptr : pool_->take(cluster, endpoint);
  if (connection_ != nullptr) {
    connected_ = true;
  } else {
    connection_ = bufferevent_socket_new(dispatcher_.base(), -1, BEV_OPT_CLOSE_ON_FREE);
    const Cluster::Endpoint& target = cluster.endpoint(endpoint);
    connect_timer_ = evtimer_new(dispatcher_.base(), &UpstreamConnection::onConnectTimeout, this);
    connect_failed_ =
        bufferevent_socket_connect(connection_, reinterpret_cast<const sockaddr*>(&target.address),
                                   static_cast<int>(target.length)) != 0;
    // Even a connect that failed at once is reported from the loop (the timer fires at once),
    // never from inside this call.
    const uint64_t timeout_ms = connect_failed_ ? 0 : cluster.connectTimeoutMs();
    const timeval timeout{static_cast<time_t>(timeout_ms / 1000),
                          static_cast<suseconds_t>((timeout_ms % 1000) * 1000)};
    evtimer_add(connect_timer_, &timeout);
    if (connect_failed_) {
      return false;
    }
  }
  bufferevent_setcb(connection_, &UpstreamConnection::onRead, nullptr,
                    &UpstreamConnection::onEvent, this);
  bufferevent_enable(connection_, read_disable_count_ > 0 ? EV_WRITE : EV_READ | EV_WRITE);
  flushPending();
  return true;
}

void UpstreamConnection::write(const std::string& bytes) {
  pending_ += bytes;
  flushPending();
}

bool UpstreamConnection::outputDrained() const {
  return pending_.empty() &&
         (connection_ == nullptr || evbuffer_get_length(bufferevent_get_output(connection_)) == 0);
}

void UpstreamConnection::flushPending() {
  if (connected_ && connection_ != nullptr && !pending_.empty()) {
    bufferevent_write(connection_, pending_.data(), pending_.size());
    pending_.clear();
  }
}

void UpstreamConnection::readDisable(bool disable) {
  if (disable) {
    if (read_disable_count_++ == 0 && connection_ != nullptr) {
      bufferevent_disable(connection_, EV_READ);
    }
    return;
  }
  if (read_disable_count_ == 0 || --read_disable_count_ > 0 || connection_ == nullptr) {
    return;
  }
  bufferevent_enable(connection_, EV_READ);
  // Go on with the bytes read before the pause from a later loop iteration, not from inside the
  // call that resumed reading (a filter hook).
  if (!resume_posted_) {
    resume_posted_ = true;
    std::weak_ptr<bool> alive = alive_;
    dispatcher_.post([this, alive]() {
      if (auto a = alive.lock(); a && *a) {
        resume_posted_ = false;
        readInput();
      }
    });
  }
}

void UpstreamConnection::close(bool reusable) {
  freeConnectTimer();
  if (connection_ == nullptr) {
    return;
  }
  bufferevent* connection = connection_;
  connection_ = nullptr;
  // Bytes past the end of the response are a protocol error in Envoy's HTTP/1 codec: such a
  // connection is not reused either.
  const bool clean = connected_ && pending_.empty() &&
                     evbuffer_get_length(bufferevent_get_input(connection)) == 0;
  if (reusable && pool_ != nullptr && clean) {
    pool_->release(*cluster_, endpoint_, connection);
  } else {
    bufferevent_free(connection);
  }
}

void UpstreamConnection::onEvent(bufferevent*, short events, void* arg) {
  auto* self = static_cast<UpstreamConnection*>(arg);
  if (events & BEV_EVENT_CONNECTED) {
    self->connected_ = true;
    self->freeConnectTimer();
    self->flushPending();
    return;
  }
  if (!self->connected_) {
    self->callbacks_.onConnectionFailure("connection failure");
    return;
  }
  // EOF or error: ends a close-delimited response, otherwise the upstream reset the stream. Bytes
  // that arrived before it (and wait since a pause) go first. An owner that closed the connection
  // meanwhile is done with the response.
  self->readInput();
  if (self->connection_ == nullptr) {
    return;
  }
  self->response_.finish();
  self->callbacks_.onResponseParsed();
  if (self->connection_ != nullptr && !self->response_.messageComplete()) {
    self->callbacks_.onConnectionFailure("connection termination");
  }
}

void UpstreamConnection::onConnectTimeout(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<UpstreamConnection*>(arg);
  self->callbacks_.onConnectionFailure(self->connect_failed_ ? "connection failure"
                                                             : "connection timeout");
}

void UpstreamConnection::onRead(bufferevent*, void* arg) {
  static_cast<UpstreamConnection*>(arg)->readInput();
}

void UpstreamConnection::readInput() {
  if (connection_ == nullptr) {
    return;
  }
  evbuffer* input = bufferevent_get_input(connection_);
  // One input segment (about one socket read) at a time, so each becomes its own body slice. The
  // owner may close the connection (freeing `input`) from any callback: checked first.
  while (connection_ != nullptr && read_disable_count_ == 0 && evbuffer_get_length(input) > 0) {
    evbuffer_iovec segment;
    if (evbuffer_peek(input, -1, nullptr, &segment, 1) < 1) {
      return;
    }
    const size_t consumed =
        response_.execute(static_cast<const char*>(segment.iov_base), segment.iov_len);
    evbuffer_drain(input, consumed);
    if (response_.failed()) {
      HOST_LOG(Debug, log_prefix_ + "upstream protocol error: " + response_.errorName());
      callbacks_.onConnectionFailure("protocol error");
      return;
    }
    callbacks_.onResponseParsed();
    if (consumed == 0) {
      break;
    }
  }
}

void UpstreamConnection::freeConnectTimer() {
  if (connect_timer_ != nullptr) {
    event_free(connect_timer_);
    connect_timer_ = nullptr;
  }
}

} // namespace EnvoyTsHost
