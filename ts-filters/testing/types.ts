// The shapes a test writes and reads: options, requests, upstream and cluster handlers, log lines.

import type { TestHeaders } from './headers';
import type { TestResponse } from './response';

/** Headers as a test writes them: a record, or [name, value] pairs (names repeat for several values). */
export type HeadersInit = Readonly<Record<string, string>> | readonly (readonly [string, string])[];

/** A body: text (UTF-8), bytes, or a list of chunks that arrive one after another. */
export type BodyInit = string | Uint8Array | readonly (string | Uint8Array)[];

/** Which engine runs the chain: the runtime in this process, or the real module in the conformance host. */
export type Engine = 'in-process' | 'host';

/** Envoy's log levels, lowest first. */
export type LogLevelName = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'critical';

/** One entry of the chain's filter_config `chain` list. */
export interface ChainEntry {
  readonly name: string;
  readonly config?: unknown;
  readonly cpuBudgetMs?: number;
  readonly asyncTimeoutMs?: number;
}

/** What a route changes for one filter (a per-route config entry). */
export type RouteOverride = { readonly disabled: true } | { readonly config: unknown };

/** A request as the upstream or a cluster sees it. */
export interface SeenRequest {
  readonly method: string;
  readonly path: string;
  /** Without pseudo-headers; `host` holds the authority. */
  readonly headers: TestHeaders;
  readonly body: Uint8Array;
  /**
   * The body as it went on, one piece each time the chain let bytes go (in-process engine; the
   * host engine gives what the server read, as one piece).
   */
  readonly bodyPieces: readonly Uint8Array[];
  text(): string;
  json(): unknown;
  /** Request trailers, empty when there were none. */
  readonly trailers: TestHeaders;
}

/** What an upstream or cluster handler answers. */
export interface ReplyInit {
  /** Default 200. */
  readonly status?: number;
  readonly headers?: HeadersInit;
  /** A string, bytes, or chunks sent one after another. */
  readonly body?: BodyInit;
  readonly trailers?: HeadersInit;
  /**
   * The client going away: when it aborts, the stream is reset as Envoy resets it when the client
   * disconnects (the filters' `ctx.signal` aborts, pending work is dropped) and `request()`
   * rejects with the signal's reason.
   */
  readonly signal?: AbortSignal;
}

/** Answers a request that reached the upstream, or a cluster. */
export type RequestHandler = (request: SeenRequest) => ReplyInit | Promise<ReplyInit>;

/** Options of createTestChain. */
export interface TestChainOptions {
  /**
   * The filters: a module's exports (e.g. `import * as filters from '../src'`), as a bundle's
   * exports are read (named, default, arrays). In-process engine only; give `bundle` for both.
   */
  readonly filters?: unknown;
  /** Path of a built filter bundle (.js): what Envoy would load. Required by the host engine. */
  readonly bundle?: string;
  /** The chain, in order: the filter_config's `chain` list. */
  readonly chain: readonly ChainEntry[];
  /** filter_config `failurePolicy` (default "closed": a throw answers 500). */
  readonly failurePolicy?: 'closed' | 'open';
  /** Other filter_config keys (cpuBudgetMs, asyncTimeoutMs, offload, capabilities), as in envoy.yaml. */
  readonly settings?: Readonly<Record<string, unknown>>;
  /**
   * Per-route configs by path prefix: `{ '/admin': { 'header-auth': { config: {...} } } }`. The
   * longest matching prefix is the request's route; a filter named there is disabled
   * (`{ disabled: true }`) or gets that config instead of its chain config.
   */
  readonly routes?: Readonly<Record<string, Readonly<Record<string, RouteOverride>>>>;
  /** Answers requests that reach the upstream (default: 200 with a JSON echo {method, path, headers, body}). */
  readonly upstream?: RequestHandler;
  /** Clusters `ctx.fetch` can call, by name. A fetch to another cluster fails like Envoy's (FetchError). */
  readonly clusters?: Readonly<Record<string, RequestHandler>>;
  /** 'manual': timers and Date.now run on `chain.advanceTime()` (in-process engine only). Default 'real'. */
  readonly timers?: 'real' | 'manual';
  /** Lowest log level captured in `chain.logs` (default 'debug'). */
  readonly logLevel?: LogLevelName;
  /** Default 'in-process', or the environment variable ENVOY_TS_TEST_ENGINE ('in-process' | 'host'). */
  readonly engine?: Engine;
  /** Host engine: the folder holding libenvoy_ts.so and envoy-ts-host (default: the package's build/Release). */
  readonly moduleDir?: string;
  /** Envoy's buffer limit for whole-body reads (the listener's per_connection_buffer_limit_bytes; default 1 MiB). */
  readonly bufferLimitBytes?: number;
}

/** A request a test sends. */
export interface TestRequest {
  /** Default 'GET'. */
  readonly method?: string;
  /** Default '/'. */
  readonly path?: string;
  readonly headers?: HeadersInit;
  /** A body; a list is sent as separate chunks. */
  readonly body?: BodyInit;
  readonly trailers?: HeadersInit;
  /**
   * The client going away: when it aborts, the stream is reset as Envoy resets it when the client
   * disconnects (the filters' `ctx.signal` aborts, pending work is dropped) and `request()`
   * rejects with the signal's reason.
   */
  readonly signal?: AbortSignal;
}

/** A line the chain wrote to Envoy's log. */
export interface LogEntry {
  readonly level: LogLevelName;
  readonly message: string;
}

/** Metric values by name (`<filter>.<metric>`, or a built-in `envoy_ts.*` name) and labels. */
export interface MetricsView {
  /** A counter's or gauge's value (0 before its first record). Throws for a name the chain does not declare. */
  get(name: string, labels?: Readonly<Record<string, string>>): number;
  /** A histogram's recorded values, in order (in-process engine only). */
  samples(name: string, labels?: Readonly<Record<string, string>>): number[];
}

/** A filter chain under test. */
export interface TestChain {
  readonly engine: Engine;
  /** Send one request through the chain; resolves with what the client got. */
  request(request?: TestRequest): Promise<TestResponse>;
  readonly metrics: MetricsView;
  /** What the chain logged so far, in order. */
  readonly logs: readonly LogEntry[];
  /** Milliseconds `advanceTime` moved the clock (timers: 'manual'). */
  readonly now: number;
  /** Move the manual clock forward, running the timers that fall due (timers: 'manual' only). */
  advanceTime(ms: number): Promise<void>;
  /** Release the chain (the host engine stops its processes). */
  close(): Promise<void>;
}
