// Where inspect mode opens Node's inspector (ENVOY_TS_INSPECT): read once, at program init.
#pragma once

#include <optional>
#include <string>

namespace envoy_ts::runtime {

struct InspectorAddress {
  std::string host = "127.0.0.1";
  // The first worker environment's port; the next ones count up from it in creation order.
  // 0: every environment takes a free port of the system's choosing.
  int base_port = 0;
};

// ENVOY_TS_INSPECT: "<port>" or "<host>:<port>" ("[<ipv6>]:<port>"). Unset or empty: no inspect
// mode (`address` stays empty). Anything else that does not parse is a startup error: false with
// `error` set.
bool readInspectorAddress(std::optional<InspectorAddress>& address, std::string& error);

}  // namespace envoy_ts::runtime
