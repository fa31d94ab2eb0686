#pragma once

#include <event2/bufferevent.h>
#include <event2/event.h>

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "cluster.h"
#include "dispatcher.h"
#include "http_codec.h"

namespace EnvoyTsHost {

// Idle keep-alive upstream connections of one worker, per cluster endpoint.
class UpstreamConnPool {
public:
  ~UpstreamConnPool();
  // An idle connection to the endpoint, or nullptr.
  bufferevent* take(const Cluster& cluster, size_t endpoint);
  // Keeps a connection whose last exchange completed cleanly for reuse.
  void release(const Cluster& cluster, size_t endpoint, bufferevent* connection);

private:
  struct IdleConnection {
    UpstreamConnPool* pool;
    bufferevent* connection;
  };
  using Key = std::pair<const Cluster*, size_t>;
  static void onIdleEvent(bufferevent* bev, void* arg);
  static void onIdleError(bufferevent* bev, short events, void* arg);
  void drop(IdleConnection* idle);

  std::map<Key, std::vector<std::unique_ptr<IdleConnection>>> idle_;
};

// What an UpstreamConnection reports to its owner. Every call comes from the worker's loop (a
// socket, timer or posted callback), never from inside a call to the connection.
class UpstreamConnectionCallbacks {
public:
  // The response parser took in more of the response (one input segment, or the EOF that ends a
  // close-delimited response): the owner passes on what it has.
  virtual void onResponseParsed() = 0;
  // The exchange failed before the response ended, with Envoy's reset reason: "connection
  // failure", "connection timeout", "connection termination" or "protocol error". The owner
  // closes the connection.
  virtual void onConnectionFailure(const char* reason) = 0;

protected:
  ~UpstreamConnectionCallbacks() = default;
};

// The connection of one upstream HTTP/1.1 exchange (what Envoy's router gets from the cluster's
// connection pool and codec client), for the router filter and the async client's streams: an
// idle keep-alive connection of the worker's pool, or a new one that must be up within the
// cluster's connect_timeout. Bytes written before it is up wait and go out once it is. The
// response is read one input segment (about one socket read) at a time into an HTTP/1 response
// parser, so each read becomes its own body slice; the parser ignores response trailers unless
// the cluster's HTTP/1 protocol options enable them. Worker thread only; destroying it closes the
// connection.
class UpstreamConnection {
public:
  // Without a `pool` every exchange gets a new connection, closed at its end. `log_prefix` starts
  // its debug lines ("callout 3: ", or nothing).
  UpstreamConnection(Dispatcher& dispatcher, UpstreamConnPool* pool,
                     UpstreamConnectionCallbacks& callbacks, std::string log_prefix);
  ~UpstreamConnection();
  UpstreamConnection(const UpstreamConnection&) = delete;
  UpstreamConnection& operator=(const UpstreamConnection&) = delete;

  // Takes an idle connection to the cluster's endpoint from the pool, else starts connecting (the
  // connect timeout starts now). False when the connect failed at once: that "connection failure"
  // is still reported from the loop, unless the owner closes the connection first.
  bool connect(Cluster& cluster, size_t endpoint);
  void write(const std::string& bytes);
  // Every written byte went to the socket (none waits for the connection or in its output).
  bool outputDrained() const;
  // Reference-counted pause of reading. Bytes already read wait, and are parsed from a later
  // loop iteration once reading resumes.
  void readDisable(bool disable);
  // Ends the exchange without a report. A `reusable` connection (the exchange completed cleanly
  // on a keep-alive connection) goes back to the pool if it is up; any other is closed.
  void close(bool reusable);

  Http1Parser& response() { return response_; }

private:
  static void onRead(bufferevent* bev, void* arg);
  static void onEvent(bufferevent* bev, short events, void* arg);
  static void onConnectTimeout(evutil_socket_t, short, void* arg);

  void flushPending();
  void readInput();
  void freeConnectTimer();

  Dispatcher& dispatcher_;
  UpstreamConnPool* const pool_;
  UpstreamConnectionCallbacks& callbacks_;
  const std::string log_prefix_;
  Cluster* cluster_{nullptr};
  size_t endpoint_{0};
  bufferevent* connection_{nullptr}; // Null before connect() and once closed.
  event* connect_timer_{nullptr};
  bool connected_{false};
  bool connect_failed_{false}; // Failed at once: the connect timer, set to 0, reports it.
  std::string pending_; // Bytes written before the connection is up.
  Http1Parser response_{HTTP_RESPONSE};
  // Outstanding readDisable(true) calls; bytes already read wait in the input meanwhile.
  size_t read_disable_count_{0};
  bool resume_posted_{false};
  std::shared_ptr<bool> alive_{std::make_shared<bool>(true)};
};

} // namespace EnvoyTsHost
