// Numeric codes shared with the TypeScript runtime; they must match ts-filters/runtime/native.d.ts.
#pragma once

#include <cstdint>

namespace envoy_ts::bridge {

// Which hook Dispatcher.onHook runs.
enum class HookKind : uint32_t { RequestHeaders = 0, ResponseHeaders = 1 };

// Which header map a binding call addresses; equal to Envoy's http_header_type values.
enum class HeaderMapKind : uint32_t {
  RequestHeaders = 0,
  RequestTrailers = 1,
  ResponseHeaders = 2,
  ResponseTrailers = 3,
};

// What JS decided for a stream.
enum class HookOutcome : uint32_t {
  Continue = 0,  // go on with Envoy's filter chain
  Pending = 1,   // a promise is pending; resume when JS calls requestResume
  Replied = 2,   // a local reply was sent from inside this call
  // Native only: the call into JS itself failed (a runtime bug or a terminated isolate). The
  // module answers it with a 500, the default failure policy.
  Failed = 3,
};

}  // namespace envoy_ts::bridge
