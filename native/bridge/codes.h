// Numeric codes shared with the TypeScript runtime; they must match ts-filters/runtime/native.d.ts.
#pragma once

#include <cstdint>

namespace envoy_ts::bridge {

// Which hook Dispatcher.onHook runs (StreamComplete is synchronous; its outcome is ignored).
enum class HookKind : uint32_t {
  RequestHeaders = 0,
  ResponseHeaders = 1,
  RequestTrailers = 2,
  ResponseTrailers = 3,
  StreamComplete = 4,
  RequestBody = 5,
  ResponseBody = 6,
};

// Which flavour of stream attribute getAttribute reads.
enum class AttributeType : uint32_t { String = 0, Int = 1, Bool = 2 };

// Which header map a binding call addresses; equal to Envoy's http_header_type values.
enum class HeaderMapKind : uint32_t {
  RequestHeaders = 0,
  RequestTrailers = 1,
  ResponseHeaders = 2,
  ResponseTrailers = 3,
};

// Which kind of Envoy filter a config belongs to (Route: a DynamicModuleFilterPerRoute).
enum class ConfigKind : uint32_t { Http = 0, Network = 1, Route = 2 };

// Which hook Dispatcher.onNetworkHook runs.
enum class NetworkHookKind : uint32_t { NewConnection = 0, Data = 1, Write = 2 };

// Connection events Dispatcher.onNetworkEvent reports.
enum class NetworkEvent : uint32_t { RemoteClose = 0, LocalClose = 1 };

// Which buffer a binding call addresses: Read is what comes from the client (a connection's read
// buffer, an HTTP request body), Write what goes to it (write buffer, response body).
enum class BufferKind : uint32_t { Read = 0, Write = 1 };

// What Dispatcher.onFetchStream reports for a streaming callout.
enum class FetchStreamEvent : uint32_t { Headers = 0, Data = 1, Trailers = 2, Complete = 3, Reset = 4 };

// Bits of Dispatcher.hookMask: which hooks a chain has.
constexpr uint32_t hookBit(HookKind hook) { return 1u << static_cast<uint32_t>(hook); }
constexpr uint32_t kAllHooks = (1u << 7) - 1;

// Flags of a hook call (CrossingFrame::kFlags).
struct HookFlags {
  static constexpr uint32_t kEndOfStream = 1;
  // StreamComplete: the response had started (its headers went through the filter).
  static constexpr uint32_t kResponseStarted = 2;
};

// Slots of an environment's crossing frame (binding.setCrossingFrame): the arguments of
// Dispatcher.onHook() and onResume(), written before the call, and what the call left.
struct CrossingFrame {
  static constexpr uint32_t kConfigId = 0;
  static constexpr uint32_t kSlot = 1;
  static constexpr uint32_t kGen = 2;
  static constexpr uint32_t kHook = 3;
  static constexpr uint32_t kFlags = 4;          // HookFlags
  static constexpr uint32_t kRouteConfigId = 5;  // a stream's first call only (0: none)
  static constexpr uint32_t kStatsRecords = 6;   // out: stats triples left in the stats buffer
  static constexpr uint32_t kLength = 8;
};

// What bufferWholeBody answers.
enum class WholeBodyState : uint32_t { Buffering = 0, OverLimit = 1, Flowed = 2 };

// How closeConnection closes; equal to Envoy's network_connection_close_type values.
enum class CloseType : uint32_t { FlushWrite = 0, NoFlush = 1, FlushWriteAndDelay = 2, Abort = 3, AbortReset = 4 };

// Metric operations of binding.metric().
enum class MetricOp : uint32_t { Increment = 0, Set = 1, Add = 2, Record = 3 };

// What JS decided for a stream.
enum class HookOutcome : uint32_t {
  Continue = 0,  // go on with Envoy's filter chain
  Pending = 1,   // a promise is pending; resume when JS calls requestResume
  Replied = 2,   // HTTP: a local reply was sent from inside this call; network: StopIteration
  // Native only: the call into JS itself failed (a runtime bug or a terminated isolate). The
  // module answers it with a 500, the default failure policy.
  Failed = 3,
};

}  // namespace envoy_ts::bridge
