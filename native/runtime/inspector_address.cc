#include "native/runtime/inspector_address.h"

#include <cerrno>
#include <cstdlib>

namespace envoy_ts::runtime {

bool readInspectorAddress(std::optional<InspectorAddress>& address, std::string& error) {
  const char* configured = std::getenv("ENVOY_TS_INSPECT");
  if (configured == nullptr || *configured == '\0') {
    return true;
  }
  const std::string text = configured;
  auto fail = [&] {
    error = "ENVOY_TS_INSPECT must be <port> or <host>:<port> (port 0 to 65535; 0: any free "
            "port), got \"" + text + "\"";
    return false;
  };
  InspectorAddress parsed;
  std::string port = text;
  const size_t colon = text.rfind(':');
  if (colon != std::string::npos) {
    std::string host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
      host = host.substr(1, host.size() - 2);  // an IPv6 address
    }
    if (host.empty() || host.find_first_of(" \t[]") != std::string::npos) {
      return fail();
    }
    parsed.host = host;
  }
  char* end = nullptr;
  errno = 0;
  const long value = std::strtol(port.c_str(), &end, 10);
  if (port.empty() || *end != '\0' || errno != 0 || value < 0 || value > 65535 ||
      port.find_first_not_of("0123456789") != std::string::npos) {
    return fail();
  }
  parsed.base_port = static_cast<int>(value);
  address = parsed;
  return true;
}

}  // namespace envoy_ts::runtime
