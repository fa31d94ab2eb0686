#include "native/runtime/embedded_runtime.h"

extern "C" const char envoy_ts_embedded_runtime_js[];

namespace envoy_ts::runtime {

const char* embeddedRuntimeSource() { return envoy_ts_embedded_runtime_js; }

}  // namespace envoy_ts::runtime
