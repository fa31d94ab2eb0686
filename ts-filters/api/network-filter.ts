// defineNetworkFilter and the shapes an L4 (network) filter sees.

import type { ConfigFromSchema, FilterConfig } from './config-schema';
import { checkFilterOptions } from './filter-options';
import { kNetworkFilter, NETWORK_FILTER_BRAND_VERSION } from './symbols';
import type { MetricsOf, NetworkMetricsDeclaration, SharedState } from './metrics';
import type { Logger } from './types';

/** What a network hook returns to Envoy (Envoy's Network::FilterStatus names). */
export const NetworkStatus = {
  /** Pass the data on to the next filter (and on to the upstream). */
  Continue: 'Continue',
  /**
   * Hold the data: it stays in the connection's buffer, and later reads add to it. The next
   * `onData` sees everything held so far; call `ctx.continueReading()` to pass it on.
   */
  StopIteration: 'StopIteration',
} as const;
export type NetworkStatus = (typeof NetworkStatus)[keyof typeof NetworkStatus];

/**
 * What `onNewConnection` and `onData` return: nothing (Continue), a status, or a Promise of either.
 * A Promise stops reading (the data stays buffered) until it settles.
 */
export type NetworkHookResult = void | NetworkStatus | Promise<void | NetworkStatus>;

/** Bytes a filter writes, injects or stores: raw bytes, or a string sent as UTF-8. */
export type BytesLike = Uint8Array | string;

/**
 * The bytes of one direction of a connection waiting in Envoy (the read buffer in `onData`, the
 * write buffer in `onWrite`). Nothing is copied until asked: `chunks()` are views of Envoy's
 * memory. Views are detached (read as empty) when the hook returns or the buffer is changed;
 * `bytes()`/`text()` copy. Using the buffer after its hook (or the hook's promise) is over throws.
 */
export interface ConnectionBuffer {
  /** Total bytes in the buffer. */
  readonly length: number;
  /** Zero-copy views of Envoy's slices, in order. */
  chunks(): Uint8Array[];
  /** A copy of the bytes in [start, end) (default: all). */
  bytes(start?: number, end?: number): Uint8Array;
  /** A copy decoded as text (default UTF-8). */
  text(encoding?: 'utf8' | 'latin1'): string;
  /** Remove `length` bytes from the front (clamped to the buffer size). */
  drain(length: number): void;
  /** Insert bytes at the front. */
  prepend(data: BytesLike): void;
  /** Add bytes at the end. */
  append(data: BytesLike): void;
  /** Replace the whole content. */
  replace(data: BytesLike): void;
}

/** How `ctx.close()` ends the connection (Envoy's ConnectionCloseType). */
export type CloseMode =
  /** Write what is buffered, then close (default). */
  | 'flush'
  /** Close now; buffered bytes are dropped. */
  | 'no-flush'
  /** Write what is buffered, then close after a short delay (lets the peer read it). */
  | 'flush-and-delay'
  /** Close now, without flushing. */
  | 'abort'
  /** Close now with a TCP reset. */
  | 'reset';

/** Why the connection ended, as `onClose` is told. */
export type ConnectionCloseEvent = 'remote' | 'local';

/** Facts about the downstream connection. */
export interface ConnectionInfo {
  /** Envoy's connection id. */
  readonly id: number;
  /** Client address ("127.0.0.1", "::1"), or '' when not an IP connection. */
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** The listener-side address the client connected to. */
  readonly localAddress: string;
  readonly localPort: number;
  /** Whether the connection is TLS. */
  readonly ssl: boolean;
  /** The SNI the client asked for, or null. */
  readonly serverName: string | null;
}

/** What a network hook gets besides the data. One context per filter per connection. */
export interface NetworkFilterContext<C = undefined, M extends NetworkMetricsDeclaration = NetworkMetricsDeclaration> {
  /**
   * The filter's config: what `parseConfig` returned, or without it the raw `config` JSON value
   * (checked against `configSchema`, defaults filled in, when there is one).
   */
  readonly config: C;
  readonly filterName: string;
  readonly connection: ConnectionInfo;
  readonly log: Logger;
  /** The filter's declared metrics (see `metrics` in the filter definition), typed from the declaration. */
  readonly metrics: MetricsOf<M>;
  readonly shared: SharedState;
  /** Aborted when the connection is closed. */
  readonly signal: AbortSignal;
  /** Write bytes to the client (through the write filters). `endStream` half-closes. */
  write(data: BytesLike, endStream?: boolean): void;
  /** Hand bytes to the filters after this one, toward the upstream. */
  injectRead(data: BytesLike, endStream?: boolean): void;
  /** Pass the held read buffer on, after returning `NetworkStatus.StopIteration`. */
  continueReading(): void;
  /** Close the connection (default 'flush'). */
  close(mode?: CloseMode): void;
  /** Stop (true) or resume (false) reading from the client; calls nest (each true needs a false). */
  readDisable(disabled: boolean): void;
  /** Set dynamic metadata other filters (e.g. tcp_proxy) can read: `namespace.key = value`. */
  setMetadata(namespace: string, key: string, value: string | number | boolean): void;
  /**
   * Set connection filter state under `key`. By default the value is stored as bytes for other
   * dynamic modules; with `{ typed: true }` Envoy builds the object its factory for `key` makes —
   * e.g. `envoy.tcp_proxy.cluster` (tcp_proxy connects to that cluster; set it before iteration
   * reaches tcp_proxy: hold the connection with StopIteration in onNewConnection — see the
   * rpc-router example for reading the first bytes meanwhile). Throws if Envoy has no factory for
   * a typed key or rejects the value.
   */
  setFilterState(key: string, value: BytesLike, options?: { readonly typed?: boolean }): void;
  /** Read connection filter state set as bytes (or `{ typed: true }`: a typed object's bytes), or null. */
  getFilterState(key: string, options?: { readonly typed?: boolean }): Uint8Array | null;
}

/**
 * What an author passes to `defineNetworkFilter`. Every hook is optional.
 *
 * Type parameters: `C`, the config the hooks see (`ctx.config`); `M`, the declared metrics;
 * `S`, the `configSchema`'s literal type; `P`, what `parseConfig` returns (`C` unless
 * `defineNetworkFilter` works the config out from the schema).
 */
export interface NetworkFilterOptions<C = undefined, M extends NetworkMetricsDeclaration = NetworkMetricsDeclaration,
                                      S extends object = object, P = C> {
  /** Name used in the chain config and in logs and metric names. */
  readonly name: string;
  /**
   * JSON Schema (draft 2020-12) of the chain entry's raw `config`, checked when the config loads:
   * Envoy rejects a config that does not match, naming each offending field. `default`s fill in
   * (an absent config of an object schema counts as `{}`), then `parseConfig` (if any) runs.
   * Written inline or as a variable declared `as const`, it also types the config: without
   * `parseConfig`, `ctx.config` is what the schema describes (see `ConfigFromSchema`).
   */
  readonly configSchema?: S;
  /**
   * Validate and convert the chain entry's raw `config` (checked against configSchema first, so
   * `raw` is typed from a literal schema); throw to reject the config. What it returns is
   * `ctx.config`. Write it before the hooks: its return type types them.
   */
  readonly parseConfig?: (raw: ConfigFromSchema<S>) => P;
  /**
   * Metrics this filter uses (no labels); a function of the parsed config when their set depends
   * on it. Their names and kinds type `ctx.metrics` (see `DeclaredMetrics`).
   */
  readonly metrics?: M | ((config: C) => M);
  /** A client connected. */
  readonly onNewConnection?: (ctx: NetworkFilterContext<C, M>) => NetworkHookResult;
  /** Client bytes arrived (in chain order). `endStream`: the client half-closed. */
  readonly onData?: (data: ConnectionBuffer, endStream: boolean, ctx: NetworkFilterContext<C, M>) =>
    NetworkHookResult;
  /**
   * Upstream bytes are about to be written to the client (in reverse chain order). Synchronous:
   * Envoy cannot pause the write path (StopIteration drops the bytes; write or inject instead).
   */
  readonly onWrite?: (data: ConnectionBuffer, endStream: boolean, ctx: NetworkFilterContext<C, M>) =>
    void | NetworkStatus;
  /** The connection closed; `event` says which side closed it. */
  readonly onClose?: (event: ConnectionCloseEvent, ctx: NetworkFilterContext<C, M>) => void;
}

/** A branded network filter definition, as exported from a filter bundle. */
export interface NetworkFilter<C = undefined, M extends NetworkMetricsDeclaration = NetworkMetricsDeclaration>
  extends NetworkFilterOptions<C, M> {
  /** @internal */
  readonly [kNetworkFilter]: typeof NETWORK_FILTER_BRAND_VERSION;
}

const FUNCTION_KEYS = ['parseConfig', 'onNewConnection', 'onData', 'onWrite', 'onClose'] as const;

/**
 * Define an L4 (network) filter. Export the result from your bundle; a network chain config
 * (`DynamicModuleNetworkFilter`) refers to it by name.
 *
 * As with `defineHttpFilter`, `ctx.config` is what `parseConfig` returns, or without it what a
 * literal `configSchema` describes, and `ctx.metrics` takes the declared names and the operations
 * of their kinds. `defineNetworkFilter<MyConfig>(...)` sets the config type instead (add
 * `typeof metrics` as the second type argument to keep `ctx.metrics` typed).
 */
export function defineNetworkFilter<P = never, const M extends NetworkMetricsDeclaration = NetworkMetricsDeclaration,
                                    const S extends object = object>(
  options: NetworkFilterOptions<FilterConfig<P, S>, M, S, P>,
): NetworkFilter<FilterConfig<P, S>, M> {
  checkFilterOptions('defineNetworkFilter', options, FUNCTION_KEYS);
  // The runtime checks the config against configSchema before parseConfig sees it: the definition
  // it keeps takes the raw config as `unknown`.
  return Object.freeze({ ...options, [kNetworkFilter]: NETWORK_FILTER_BRAND_VERSION }) as
    NetworkFilter<FilterConfig<P, S>, M>;
}

/**
 * Whether a value is a NetworkFilter made by any bundle's copy of `defineNetworkFilter`.
 * @internal
 */
export function isNetworkFilter(value: unknown): value is NetworkFilter<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { [kNetworkFilter]?: unknown })[kNetworkFilter] === NETWORK_FILTER_BRAND_VERSION
  );
}
