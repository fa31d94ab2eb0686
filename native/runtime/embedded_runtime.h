// The bundled ts-filters/runtime, embedded in the shared library at build time.
#pragma once

namespace envoy_ts::runtime {

// NUL-terminated UTF-8 source of build/runtime/runtime.js.
const char* embeddedRuntimeSource();

}  // namespace envoy_ts::runtime
