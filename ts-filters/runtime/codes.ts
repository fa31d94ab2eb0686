// Names for the numeric codes of the native contract (native.d.ts, native/bridge/codes.h).

import type {
  AttributeId as NativeAttributeId,
  AttributeType as NativeAttributeType,
  BufferKind as NativeBufferKind,
  CloseType as NativeCloseType,
  ConfigKind as NativeConfigKind,
  HeaderMapKind as NativeHeaderMapKind,
  HookKind as NativeHookKind,
  HookOutcome as NativeHookOutcome,
  MetadataSource as NativeMetadataSource,
  MetricOp as NativeMetricOp,
  NativeLogLevel,
  NetworkEvent as NativeNetworkEvent,
  NetworkHookKind as NativeNetworkHookKind,
  WholeBodyState as NativeWholeBodyState,
  FetchStreamEvent as NativeFetchStreamEvent,
} from './native';

/** Which kind of Envoy filter a config belongs to. */
export const ConfigKind = {
  Http: 0,
  Network: 1,
  Route: 2,
} as const satisfies Record<string, NativeConfigKind>;

/** Which hook onHook runs. */
export const HookKind = {
  RequestHeaders: 0,
  ResponseHeaders: 1,
  RequestTrailers: 2,
  ResponseTrailers: 3,
  StreamComplete: 4,
  RequestBody: 5,
  ResponseBody: 6,
} as const satisfies Record<string, NativeHookKind>;

/** Bits of Dispatcher.hookMask: `1 << hook` is set when a filter of the chain has `hook`. */
export function hookBit(hook: NativeHookKind): number {
  return 1 << hook;
}

/** Flags of a hook call (the crossing frame's Flags slot). */
export const HookFlags = {
  /** The headers or the body chunk end the stream's direction. */
  EndOfStream: 1,
  /** StreamComplete: the response had started (its headers went through the filter). */
  ResponseStarted: 2,
} as const;

/**
 * Slots of the crossing frame (native.d.ts setCrossingFrame): the Uint32Array the native side
 * writes a hook call's arguments into before onHook()/onResume(), and reads what the runtime
 * left there after it returns.
 */
export const CrossingFrame = {
  ConfigId: 0,
  Slot: 1,
  Gen: 2,
  Hook: 3,
  /** HookFlags bits. */
  Flags: 4,
  /** The stream's per-route config (0: none), on its first call into the runtime. */
  RouteConfigId: 5,
  /** Out: [index, op, value] triples the call left in the stats buffer for the stream. */
  StatsRecords: 6,
  Length: 8,
} as const;

/** onFetchStream events. */
export const FetchStreamEvent = {
  Headers: 0,
  Data: 1,
  Trailers: 2,
  Complete: 3,
  Reset: 4,
} as const satisfies Record<string, NativeFetchStreamEvent>;

/** What bufferWholeBody answers. */
export const WholeBodyState = {
  Buffering: 0,
  OverLimit: 1,
  Flowed: 2,
} as const satisfies Record<string, NativeWholeBodyState>;

/** Whether `hook` is a request or response body hook. */
export function isBodyHook(hook: NativeHookKind): boolean {
  return hook === HookKind.RequestBody || hook === HookKind.ResponseBody;
}

/** The direction (request: Read, response: Write) a hook belongs to. */
export function directionOf(hook: NativeHookKind): NativeBufferKind {
  return hook === HookKind.RequestHeaders || hook === HookKind.RequestBody || hook === HookKind.RequestTrailers
    ? BufferKind.Read : BufferKind.Write;
}

/**
 * Indexes of an environment's watch slots, the Int32Array the CPU watchdog reads (native/runtime/
 * cpu_watchdog.h WatchSlot): the running section's sequence (odd while JavaScript runs; +2 per
 * new section), its budget in ms of CPU time (0: none), and the budget of sections that are not a
 * filter's hook.
 */
export const WatchSlot = {
  Sequence: 0,
  BudgetMs: 1,
  DefaultBudgetMs: 2,
  /** 1 while the loop runs on the waker thread, not the worker (inspect mode's idle turns). */
  OffThread: 3,
  Count: 16,
} as const;

/** Envoy attribute ids. */
export const AttributeId = {
  RequestId: 9,
  RequestProtocol: 10,
  SourceAddress: 24,
  SourcePort: 25,
  DestinationAddress: 26,
  DestinationPort: 27,
  ConnectionId: 28,
  ConnectionMtls: 29,
  ConnectionRequestedServerName: 30,
  ConnectionTlsVersion: 31,
  XdsRouteName: 61,
} as const satisfies Record<string, NativeAttributeId>;

/** getAttribute flavours. */
export const AttributeType = {
  String: 0,
  Int: 1,
  Bool: 2,
} as const satisfies Record<string, NativeAttributeType>;

/** Metadata sources. */
export const MetadataSource = {
  dynamic: 0,
  route: 1,
  cluster: 2,
  host: 3,
} as const satisfies Record<string, NativeMetadataSource>;

/** Which header map a binding call addresses (Envoy's http_header_type). */
export const HeaderMapKind = {
  RequestHeaders: 0,
  RequestTrailers: 1,
  ResponseHeaders: 2,
  ResponseTrailers: 3,
} as const satisfies Record<string, NativeHeaderMapKind>;

/** What a hook or a resumed stream tells the native side. */
export const HookOutcome = {
  Continue: 0,
  Pending: 1,
  Replied: 2,
} as const satisfies Record<string, NativeHookOutcome>;

/** What a network hook or a resumed connection tells the native side. */
export const NetworkOutcome = {
  Continue: 0,
  Pending: 1,
  /** StopIteration: the data stays held until continueReading (or more data). */
  Stop: 2,
} as const satisfies Record<string, NativeHookOutcome>;

/** Which hook onNetworkHook runs. */
export const NetworkHookKind = {
  NewConnection: 0,
  Data: 1,
  Write: 2,
} as const satisfies Record<string, NativeNetworkHookKind>;

/** Connection events. */
export const NetworkEvent = {
  RemoteClose: 0,
  LocalClose: 1,
} as const satisfies Record<string, NativeNetworkEvent>;

/** Which buffer of a connection a buffer call addresses. */
export const BufferKind = {
  Read: 0,
  Write: 1,
} as const satisfies Record<string, NativeBufferKind>;

/** Envoy's connection close types. */
export const CloseType = {
  FlushWrite: 0,
  NoFlush: 1,
  FlushWriteAndDelay: 2,
  Abort: 3,
  AbortReset: 4,
} as const satisfies Record<string, NativeCloseType>;

/** Metric operations of binding.metric(). */
export const MetricOp = {
  Increment: 0,
  Set: 1,
  Add: 2,
  Record: 3,
} as const satisfies Record<string, NativeMetricOp>;

/** Envoy log levels. */
export const LogLevel = {
  Trace: 0,
  Debug: 1,
  Info: 2,
  Warn: 3,
  Error: 4,
  Critical: 5,
} as const satisfies Record<string, NativeLogLevel>;

/** What happens to a stream when one of its filters throws or rejects. */
export const FailurePolicy = {
  Closed: 'closed',
  Open: 'open',
} as const;

export type FailurePolicy = (typeof FailurePolicy)[keyof typeof FailurePolicy];

/** Status, body and response-code details of the local reply sent by the "closed" policy. */
export const FAILURE_REPLY = {
  status: 500,
  body: 'internal error',
  details: 'envoy_ts_filter_failed',
} as const;

/** Default response-code details of `ctx.respond()`. */
export const DEFAULT_REPLY_DETAILS = 'envoy_ts_local_reply';
