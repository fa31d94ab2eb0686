// envoy-ts/testing: run filter chains in plain Node with the real runtime's semantics, or through
// the real module in the conformance host. Everything a test imports is listed here.

export { createTestChain } from './chain';
export { createTestNetworkChain } from './network';
export type { TestConnection, TestNetworkChain, TestNetworkChainOptions } from './network';
export { TestHeaders } from './headers';
export { TestResponse } from './response';
export type {
  BodyInit, ChainEntry, Engine, HeadersInit, LogEntry, LogLevelName, MetricsView, ReplyInit, RequestHandler,
  RouteOverride, SeenRequest, TestChain, TestChainOptions, TestRequest,
} from './types';
