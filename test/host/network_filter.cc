#include "network_filter.h"

#include "tcp_connection.h"

namespace EnvoyTsHost {

NetworkFilter::NetworkFilter(TcpConnection& connection, NetworkFilterConfigSharedPtr config)
    : connection_(connection), config_(std::move(config)), hooks_(config_->hooks()),
      liveness_(std::make_shared<FilterLiveness>(connection.dispatcher().postQueue(), this)) {}

NetworkFilter::~NetworkFilter() {
  liveness_->target = nullptr;
  if (module_filter_ != nullptr) {
    hooks_.destroy(module_filter_);
  }
}

void NetworkFilter::create() { module_filter_ = hooks_.filter_new(config_->moduleConfig(), this); }

int NetworkFilter::onNewConnection() {
  if (module_filter_ == nullptr) {
    // The module refused the connection in on_network_filter_new.
    connection_.close(envoy_dynamic_module_type_network_connection_close_type_NoFlush);
    return envoy_dynamic_module_type_on_network_filter_data_status_StopIteration;
  }
  return hooks_.new_connection(this, module_filter_);
}

int NetworkFilter::onRead(Buffer& buffer, bool end_stream) {
  if (module_filter_ == nullptr) {
    return envoy_dynamic_module_type_on_network_filter_data_status_Continue;
  }
  read_buffer_ = &buffer;
  const int status = hooks_.read(this, module_filter_, buffer.length(), end_stream);
  // Injected bytes live only for this call; afterwards the callbacks see the connection's buffer.
  read_buffer_ = &connection_.readBuffer();
  return status;
}

int NetworkFilter::onWrite(Buffer& buffer, bool end_stream) {
  if (module_filter_ == nullptr) {
    return envoy_dynamic_module_type_on_network_filter_data_status_Continue;
  }
  Buffer* outer = write_buffer_; // A write() from inside on_write nests.
  write_buffer_ = &buffer;
  const int status = hooks_.write(this, module_filter_, buffer.length(), end_stream);
  write_buffer_ = outer;
  return status;
}

void NetworkFilter::onEvent(envoy_dynamic_module_type_network_connection_event event) {
  if (module_filter_ != nullptr) {
    hooks_.event(this, module_filter_, event);
  }
}

void NetworkFilter::onScheduled(uint64_t event_id) {
  if (module_filter_ != nullptr && hooks_.scheduled != nullptr) {
    hooks_.scheduled(this, module_filter_, event_id);
  }
}

} // namespace EnvoyTsHost
