// envoy-ts: the public API filter authors import. This file is the only public entry; everything
// is re-exported by name.

export { defineHttpFilter } from './http-filter';
export type { HttpFilter, HttpFilterOptions } from './http-filter';
export type {
  BodyChunk,
  HeaderMap,
  HttpBody,
  HttpBodyHook,
  HttpFilterContext,
  HttpHeadersHook,
  HttpStreamCompleteHook,
  LocalReplyHeaders,
  LocalReplyInit,
  FetchInit,
  FetchResponse,
  Logger,
  MetadataSource,
  OffloadOptions,
  StreamAttributes,
} from './types';
export { NetworkStatus, defineNetworkFilter } from './network-filter';
export type {
  BytesLike,
  CloseMode,
  ConnectionBuffer,
  ConnectionCloseEvent,
  ConnectionInfo,
  NetworkFilter,
  NetworkFilterContext,
  NetworkFilterOptions,
  NetworkHookResult,
} from './network-filter';
export type {
  DeclaredMetrics,
  MetricDeclaration,
  MetricKind,
  MetricLabels,
  Metrics,
  MetricsDeclaration,
  MetricsOf,
  NetworkMetricsDeclaration,
  SharedState,
  TokenBucket,
} from './metrics';
export type { ConfigFromSchema } from './config-schema';
export {
  ChunkedBytes,
  FrameDecoder,
  FrameError,
  delimited,
  frameLengths,
  lengthPrefixed,
  takeFrames,
} from './framing';
export type {
  DelimitedFraming,
  DelimitedOptions,
  DrainableBuffer,
  FrameErrorReason,
  Framing,
  LengthPrefixedFraming,
  LengthPrefixedOptions,
} from './framing';
export {
  CapabilityError,
  ConfigError,
  CpuBudgetError,
  EnvoyTsError,
  FetchError,
  InvalidStateError,
  NotInHookError,
  ProcessGuardError,
  StreamClosedError,
  TimeoutError,
  isEnvoyTsError,
} from './errors';
export type { EnvoyTsErrorCode } from './errors';
