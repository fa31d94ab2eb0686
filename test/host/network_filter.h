#pragma once

#include <memory>

#include "buffer.h"
#include "network_filter_config.h"
#include "scheduler.h"

namespace EnvoyTsHost {

class TcpConnection;

// One dynamic-module network filter on one downstream connection (Envoy's
// DynamicModuleNetworkFilter): both a read and a write filter. Its address is the filter_envoy
// pointer the module sees. Lives on the connection's worker thread.
class NetworkFilter : public ScheduledTarget {
public:
  NetworkFilter(TcpConnection& connection, NetworkFilterConfigSharedPtr config);
  // Calls the module's destroy hook; afterwards scheduled events for this filter are dropped.
  ~NetworkFilter();

  // Calls on_network_filter_new (a NULL answer closes the connection at new_connection).
  void create();

  // Network::ReadFilter / WriteFilter / ConnectionCallbacks. Statuses are the ABI's values.
  int onNewConnection();
  int onRead(Buffer& buffer, bool end_stream);
  int onWrite(Buffer& buffer, bool end_stream);
  void onEvent(envoy_dynamic_module_type_network_connection_event event);
  void onScheduled(uint64_t event_id) override;

  TcpConnection& connection() { return connection_; }
  const NetworkFilterConfig& config() const { return *config_; }
  const std::shared_ptr<FilterLiveness>& liveness() const { return liveness_; }
  // The buffer the read-buffer callbacks see: nullptr before the first on_read, then the
  // connection's read buffer (or, during an injected read, the injected bytes).
  Buffer* readBuffer() { return read_buffer_; }
  // The buffer being written; only during on_write.
  Buffer* writeBuffer() { return write_buffer_; }

  static NetworkFilter* fromEnvoyPtr(envoy_dynamic_module_type_network_filter_envoy_ptr ptr) {
    return static_cast<NetworkFilter*>(ptr);
  }

private:
  TcpConnection& connection_;
  const NetworkFilterConfigSharedPtr config_;
  const NetworkFilterHooks& hooks_;
  envoy_dynamic_module_type_network_filter_module_ptr module_filter_{nullptr};
  std::shared_ptr<FilterLiveness> liveness_;
  Buffer* read_buffer_{nullptr};
  Buffer* write_buffer_{nullptr};
};

using NetworkFilterPtr = std::unique_ptr<NetworkFilter>;

} // namespace EnvoyTsHost
