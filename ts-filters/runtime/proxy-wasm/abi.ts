// The proxy-wasm ABI's numbers (v0.2.0 and v0.2.1 share them), named as the specification names
// them. Values come from the specification's "Types" section and the AssemblyScript SDK's enums.

/** proxy_status_t: what every host call returns. */
export const Status = {
  Ok: 0,
  NotFound: 1,
  BadArgument: 2,
  SerializationFailure: 3,
  ParseFailure: 4,
  InvalidMemoryAccess: 6,
  Empty: 7,
  CasMismatch: 8,
  InternalFailure: 10,
  Unimplemented: 12,
} as const;
export type Status = (typeof Status)[keyof typeof Status];

/** proxy_map_type_t */
export const MapType = {
  RequestHeaders: 0,
  RequestTrailers: 1,
  ResponseHeaders: 2,
  ResponseTrailers: 3,
  GrpcInitialMetadata: 4,
  GrpcTrailingMetadata: 5,
  HttpCallResponseHeaders: 6,
  HttpCallResponseTrailers: 7,
} as const;

/** proxy_buffer_type_t */
export const BufferType = {
  HttpRequestBody: 0,
  HttpResponseBody: 1,
  DownstreamData: 2,
  UpstreamData: 3,
  HttpCallResponseBody: 4,
  GrpcCallMessage: 5,
  VmConfiguration: 6,
  PluginConfiguration: 7,
  ForeignFunctionArguments: 8,
} as const;

/** proxy_stream_type_t */
export const StreamType = { HttpRequest: 0, HttpResponse: 1, Downstream: 2, Upstream: 3 } as const;

/** proxy_metric_type_t */
export const MetricType = { Counter: 0, Gauge: 1, Histogram: 2 } as const;

/** proxy_log_level_t (Envoy's levels have the same numbers, critical included). */
export const LogLevel = { Trace: 0, Debug: 1, Info: 2, Warn: 3, Error: 4, Critical: 5 } as const;

/**
 * What proxy_on_request_headers / proxy_on_response_headers answer: proxy_action_t's CONTINUE (0)
 * and PAUSE (1), and the further values Envoy takes from SDKs (FilterHeadersStatus).
 */
export const HeadersAction = {
  Continue: 0,
  StopIteration: 1,
  ContinueAndEndStream: 2,
  StopAllIterationAndBuffer: 3,
  StopAllIterationAndWatermark: 4,
} as const;

/** What the body callbacks answer (Envoy's FilterDataStatus values). */
export const DataAction = {
  Continue: 0,
  StopIterationAndBuffer: 1,
  StopIterationAndWatermark: 2,
  StopIterationNoBuffer: 3,
} as const;

/** wasi_errno_t values the host answers. */
export const WasiErrno = { Success: 0, BadF: 8, Fault: 21, Inval: 28, NotSup: 58 } as const;

/** The ABI versions a module may advertise with its `proxy_abi_version_*` export marker. */
export const ABI_VERSIONS = ['0_2_0', '0_2_1'] as const;
