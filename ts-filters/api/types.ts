// Shapes an HTTP filter sees. The runtime implements them; authors only consume them.

import type { TransferListItem } from 'worker_threads';

import type { MetricsDeclaration, MetricsOf, SharedState } from './metrics';
import type { BytesLike } from './network-filter';

/**
 * A live view of one of the stream's header maps. Reads and writes go to Envoy on demand; nothing
 * is copied. Names are case-insensitive (stored lowercase). Names must be RFC 7230 tokens (or a
 * pseudo-header such as `:path`); values must not contain CR, LF, NUL, other control characters
 * (except tab) or characters above U+00FF. Invalid input throws a `TypeError`, so header injection
 * is impossible. Using a view after its stream closed throws `StreamClosedError`.
 */
export interface HeaderMap extends Iterable<[string, string]> {
  /** The first value of `name`, or null when absent. */
  get(name: string): string | null;
  /** Every value of `name`, in order (empty when absent). */
  getAll(name: string): string[];
  /** Whether `name` has at least one value. */
  has(name: string): boolean;
  /** Replace every value of `name` with `value`. */
  set(name: string, value: string): void;
  /** Append one value of `name`. */
  add(name: string, value: string): void;
  /** Remove every value of `name`. */
  delete(name: string): void;
  /** Every entry as a `[name, value]` pair, in order (a snapshot taken when called). */
  entries(): IterableIterator<[string, string]>;
  /** Same as `entries()`. */
  [Symbol.iterator](): IterableIterator<[string, string]>;
}

/**
 * Logging into Envoy's log. Lines are prefixed `[envoy-ts][filter=<name>]`; `args` are formatted
 * like `util.format`, and only when the level is enabled.
 */
export interface Logger {
  /** Log at trace level. */
  trace(message: string, ...args: unknown[]): void;
  /** Log at debug level. */
  debug(message: string, ...args: unknown[]): void;
  /** Log at info level. */
  info(message: string, ...args: unknown[]): void;
  /** Log at warn level. */
  warn(message: string, ...args: unknown[]): void;
  /** Log at error level. */
  error(message: string, ...args: unknown[]): void;
}

/** Headers of a local reply: a record, or a list of pairs (which allows repeated names). */
export type LocalReplyHeaders = Readonly<Record<string, string>> | ReadonlyArray<readonly [string, string]>;

/** The optional parts of a local reply sent with `ctx.respond()`. */
export interface LocalReplyInit {
  /** Response headers to add. */
  readonly headers?: LocalReplyHeaders;
  /** Response body (default empty): a string is sent as UTF-8. */
  readonly body?: string | Uint8Array;
  /** Envoy response-code details (no whitespace; default `envoy_ts_local_reply`). */
  readonly details?: string;
}

/** Facts about the stream, from Envoy; null when Envoy does not know one. */
export interface StreamAttributes {
  /** Envoy's request id (request.id). */
  readonly requestId: string | null;
  /** "HTTP/1.1", "HTTP/2", ... (request.protocol). */
  readonly protocol: string | null;
  /** The client's address as "ip:port" (source.address). */
  readonly sourceAddress: string | null;
  readonly sourcePort: number | null;
  /** The address the client connected to, "ip:port" (destination.address). */
  readonly destinationAddress: string | null;
  readonly destinationPort: number | null;
  /** Envoy's downstream connection id. */
  readonly connectionId: number | null;
  /** Whether the client presented a certificate (mutual TLS). */
  readonly mtls: boolean | null;
  /** The SNI of the connection. */
  readonly requestedServerName: string | null;
  /** The TLS version of the connection. */
  readonly tlsVersion: string | null;
  /** The matched route's name (xds.route_name). */
  readonly routeName: string | null;
}

/**
 * What `ctx.fetch()` resolves with: a standard Response, plus the response trailers. It is the
 * runtime's own (lazy: the body becomes a stream only when `body` is read), so `instanceof
 * Response` is false; its headers are immutable, as a `fetch()` response's are.
 */
export interface FetchResponse extends Response {
  /**
   * A streaming fetch's response trailers (e.g. gRPC's `grpc-status`), once the response ended:
   * empty when it had none. Rejects as the body does when the response fails, and always for a
   * buffered fetch (Envoy's buffered callout does not hand trailers over: use `stream: true`).
   */
  readonly trailers: Promise<Headers>;
}

/** Options of `ctx.fetch()`. */
export interface FetchInit {
  /** Default GET. */
  readonly method?: string;
  /** Request headers (a record, [name, value] pairs, or a Headers object). */
  readonly headers?: Readonly<Record<string, string>> | ReadonlyArray<readonly [string, string]> | Iterable<[string, string]>;
  /** The request body: bytes or text, or a stream of pieces (a ReadableStream or an async
   *  iterable of Uint8Array/string), sent as they come (a streaming callout). */
  readonly body?: string | Uint8Array | ReadableStream<Uint8Array | string> | AsyncIterable<Uint8Array | string>;
  /**
   * Stream the response instead of having Envoy buffer it (a streaming callout): the Response
   * resolves when the response headers arrive and its body is a ReadableStream of the pieces as
   * they come. Use it for large responses (a buffered one over the buffer limit fails). Implied by
   * a streamed `body`.
   */
  readonly stream?: boolean;
  /**
   * Request trailers, sent after the body (implies a streaming callout). HTTP/1.1 carries them
   * only in a chunked body (no content-length) to a cluster with trailers enabled; HTTP/2 always.
   */
  readonly trailers?: Readonly<Record<string, string>> | ReadonlyArray<readonly [string, string]> | Iterable<[string, string]>;
  /** The Envoy cluster to send it to (default: the URL's host name). */
  readonly cluster?: string;
  /** Give up after this long (default 5000 ms; 0: no limit). */
  readonly timeoutMs?: number;
  /** Abort the wait (the promise rejects; Envoy still finishes or times out the request). */
  readonly signal?: AbortSignal;
}

/**
 * The body bytes a body hook gets: what this filter holds of the direction and has not passed on —
 * the chunk Envoy just received (plus, after an `await` in a body hook, what arrived meanwhile,
 * shown to every body hook of the chain as the next chunk). Nothing is copied until asked:
 * `chunks()` are views of Envoy's memory, detached (read as empty) when the hook returns or the
 * body is changed; `bytes()`/`text()` copy. Edits go straight to Envoy and are what the next
 * filter, the upstream or the client receives. Changing the length of a streamed body makes a
 * `content-length` wrong: delete it in the headers hook (Envoy then sends the body chunked).
 * Using a chunk after its hook is over throws `InvalidStateError`.
 */
export interface BodyChunk {
  /** Bytes in the chunk. */
  readonly length: number;
  /** Whether this is the last body data of the direction (trailers may still follow if false). */
  readonly endOfStream: boolean;
  /** Zero-copy views of Envoy's slices, in order. */
  chunks(): Uint8Array[];
  /** A copy of the bytes in [start, end) (default: all; negative indexes count from the end). */
  bytes(start?: number, end?: number): Uint8Array;
  /** A copy decoded as text (default UTF-8). */
  text(encoding?: 'utf8' | 'latin1'): string;
  /** Remove `length` bytes from the front (clamped to the chunk's length). */
  drain(length: number): void;
  /** Insert bytes at the front (a copy: Envoy has no body prepend). */
  prepend(data: BytesLike): void;
  /** Add bytes at the end. */
  append(data: BytesLike): void;
  /** Replace the whole chunk. */
  replace(data: BytesLike): void;
}

/**
 * The whole body of one direction (`ctx.requestBody`, `ctx.responseBody`), buffered by Envoy.
 * Reading it holds the direction (headers included) until the body is complete; a body over the
 * stream's buffer limit (the listener's `per_connection_buffer_limit_bytes`, 1 MiB by default)
 * ends the stream as Envoy does — 413 for a request, 500 for a response — and the read rejects.
 */
export interface HttpBody {
  /**
   * Wait for the whole body and get a copy of it. Call it from a hook of the same direction before
   * any of its body has been passed on (typically the headers hook), and `await` it there: the
   * direction stays held while the hook's promise is pending. A body-less message gives an empty
   * array. Rejects with `InvalidStateError` if the body already started flowing on or was passed on
   * before it was complete, and with `StreamClosedError` if the stream ends first.
   */
  bytes(): Promise<Uint8Array>;
  /** `bytes()` decoded as UTF-8. */
  text(): Promise<string>;
  /** `bytes()` parsed as JSON (a `SyntaxError` rejects). */
  json<T = unknown>(): Promise<T>;
  /**
   * Replace the whole body once it is complete (after `bytes()` resolved, before the hook's promise
   * settles). `content-length`, when the message has one, is set to the new length. Throws
   * `InvalidStateError` when the body is not complete or no longer held by this filter.
   */
  replace(data: BytesLike): void;
  /** `replace(JSON.stringify(value))`. */
  replaceJson(value: unknown): void;
}

/** Options of `ctx.offload()`. */
export interface OffloadOptions {
  /** The task module's export to run (default: its default export / `module.exports`). */
  readonly name?: string;
  /** Objects moved to the pool thread instead of copied (e.g. ArrayBuffers). */
  readonly transferList?: readonly TransferListItem[];
}

/** Where `getMetadata` reads from. */
export type MetadataSource = 'dynamic' | 'route' | 'cluster' | 'host';

/** What a hook gets besides the headers. One context per filter per stream. */
export interface HttpFilterContext<C = undefined, M extends MetricsDeclaration = MetricsDeclaration> {
  /**
   * The filter's config: what `parseConfig` returned, or without it the raw `config` JSON value
   * (checked against `configSchema`, defaults filled in, when there is one).
   */
  readonly config: C;
  /** The filter's name. */
  readonly filterName: string;
  /** The request headers; usable in both phases. */
  readonly requestHeaders: HeaderMap;
  /** The response headers; only in the response phase (throws `InvalidStateError` before it). */
  readonly responseHeaders: HeaderMap;
  /** Whether the current hook's headers (or body chunk) end the stream in that direction. */
  readonly endOfStream: boolean;
  /** The whole request body, buffered (see `HttpBody`). */
  readonly requestBody: HttpBody;
  /** The whole response body, buffered; only in the response phase. */
  readonly responseBody: HttpBody;
  /** This filter's logger. */
  readonly log: Logger;
  /** Aborted (with a `StreamClosedError` reason) when the stream is destroyed. */
  readonly signal: AbortSignal;
  /** The filter's declared metrics (see `metrics` in the filter definition), typed from the declaration. */
  readonly metrics: MetricsOf<M>;
  /** Counters shared by every Envoy worker of the process. */
  readonly shared: SharedState;
  /** Facts about the stream (read from Envoy when asked). */
  readonly attributes: StreamAttributes;
  /** Set stream dynamic metadata `namespace.key` (seen by later filters and access logs). */
  setMetadata(namespace: string, key: string, value: string | number | boolean): void;
  /** Read metadata (default: the stream's dynamic metadata), or null. */
  getMetadata(namespace: string, key: string, source?: MetadataSource): string | number | boolean | null;
  /**
   * Set stream filter state (bytes) under `key`, for other filters and dynamic modules. Envoy keeps
   * filter state read-only once set: setting a key again throws (`ETS_ERR_FILTER_STATE`).
   */
  setFilterState(key: string, value: Uint8Array | string): void;
  /** Read stream filter state set as bytes, or null. */
  getFilterState(key: string): Uint8Array | null;
  /**
   * Send an HTTP request through an Envoy cluster (Envoy's async client: its load balancing,
   * health checking and TLS apply) and resolve with a standard `Response`. The URL's host names the
   * cluster (or `init.cluster`) and becomes the Host header; its path and query are the :path.
   * A connect failure or the timeout before the response starts resolves with Envoy's own 503/504
   * response (as Envoy's async client answers). Rejects with `FetchError` when Envoy cannot start it
   * or the upstream resets mid-response, and with `StreamClosedError` when the stream ends first.
   */
  fetch(url: string | URL, init?: FetchInit): Promise<FetchResponse>;
  /**
   * Run CPU-heavy work off the Envoy worker: `task` is a module file (a path relative to the
   * bundle, an absolute path or a file: URL) whose export (default, or `options.name`) is called
   * with `input` on a pool thread (piscina; one pool per Envoy worker, sized by the chain's
   * `offload` setting, started on first use). Resolves with what the export returns (or
   * resolves to); `input` and the result are copied with the structured clone algorithm. Work for
   * a stream that goes away is cancelled. Needs piscina 4 where the bundle can require it.
   */
  offload<T = unknown>(task: string | URL, input?: unknown, options?: OffloadOptions): Promise<T>;
  /**
   * Ask Envoy's load balancer for a given upstream host of the routed cluster (sticky sessions,
   * host affinity): `host` is "ip:port" (an IP address, not a name). When the cluster has no such
   * host, `strict` fails the request with 503; otherwise normal load balancing applies (default).
   * Request hooks only (before the request goes upstream). Throws `TypeError` for a host Envoy
   * does not take.
   */
  setUpstreamOverrideHost(host: string, options?: { readonly strict?: boolean }): void;
  /**
   * Make Envoy pick the route again from the current request headers. Called for you when a
   * filter sets or deletes `:path`, `:authority`, `:method` or `host` in a request hook.
   */
  clearRouteCache(): void;
  /**
   * Send a local reply and stop the chain: later filters' hooks for this direction do not run.
   * Works synchronously in a hook and after an `await` in it (the reply is sent when the hook's
   * promise settles). `status` is an integer in 200–599. Throws `InvalidStateError` if a reply was
   * already requested for the stream, `NotInHookError` outside a running or pending hook, and
   * `TypeError`/`RangeError` on invalid input.
   */
  respond(status: number, init?: LocalReplyInit): void;
}

/**
 * A headers or trailers hook. Return nothing to continue, a `Response` to answer the client with it
 * (a local reply, like `ctx.respond`), or a Promise of either to hold the stream until it settles.
 */
export type HttpHeadersHook<C, M extends MetricsDeclaration = MetricsDeclaration> =
  (headers: HeaderMap, ctx: HttpFilterContext<C, M>) => void | Response | Promise<void | Response>;

/**
 * A body hook: called for each chunk of the body as it streams through (see `BodyChunk`). Return
 * nothing to pass the chunk on, a `Response` to answer with it (before the response started), or
 * a Promise of either: the direction is held (with flow control) until it settles.
 */
export type HttpBodyHook<C, M extends MetricsDeclaration = MetricsDeclaration> =
  (body: BodyChunk, ctx: HttpFilterContext<C, M>) => void | Response | Promise<void | Response>;

/** Runs once the stream is complete (response sent or stream reset), before it is destroyed. */
export type HttpStreamCompleteHook<C, M extends MetricsDeclaration = MetricsDeclaration> =
  (ctx: HttpFilterContext<C, M>) => void;
