// defineNetworkFilter and the shapes an L4 (network) filter sees.

import { checkFilterOptions } from './filter-options';
import { kNetworkFilter, NETWORK_FILTER_BRAND_VERSION } from './symbols';
import type { Metrics, MetricsDeclaration, SharedState } from './metrics';
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
export interface NetworkFilterContext<C = undefined> {
  /** The filter's config: what `parseConfig` returned, or the raw `config` JSON value. */
  readonly config: C;
  readonly filterName: string;
  readonly connection: ConnectionInfo;
  readonly log: Logger;
  readonly metrics: Metrics;
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

/** What an author passes to `defineNetworkFilter`. Every hook is optional. */
export interface NetworkFilterOptions<C = undefined> {
  /** Name used in the chain config and in logs and metric names. */
  readonly name: string;
  /**
   * JSON Schema (draft 2020-12) of the chain entry's raw `config`, checked when the config loads:
   * Envoy rejects a config that does not match, naming each offending field. `default`s fill in
   * (an absent config of an object schema counts as `{}`), then `parseConfig` (if any) runs.
   */
  readonly configSchema?: object;
  /** Validate and convert the chain entry's raw `config`; throw to reject the config. */
  readonly parseConfig?: (raw: unknown) => C;
  /** Metrics this filter uses; a function of the parsed config when their set depends on it. */
  readonly metrics?: MetricsDeclaration | ((config: C) => MetricsDeclaration);
  /** A client connected. */
  readonly onNewConnection?: (ctx: NetworkFilterContext<C>) => NetworkHookResult;
  /** Client bytes arrived (in chain order). `endStream`: the client half-closed. */
  readonly onData?: (data: ConnectionBuffer, endStream: boolean, ctx: NetworkFilterContext<C>) =>
    NetworkHookResult;
  /**
   * Upstream bytes are about to be written to the client (in reverse chain order). Synchronous:
   * Envoy cannot pause the write path (StopIteration drops the bytes; write or inject instead).
   */
  readonly onWrite?: (data: ConnectionBuffer, endStream: boolean, ctx: NetworkFilterContext<C>) =>
    void | NetworkStatus;
  /** The connection closed; `event` says which side closed it. */
  readonly onClose?: (event: ConnectionCloseEvent, ctx: NetworkFilterContext<C>) => void;
}

/** A branded network filter definition, as exported from a filter bundle. */
export interface NetworkFilter<C = undefined> extends NetworkFilterOptions<C> {
  /** @internal */
  readonly [kNetworkFilter]: typeof NETWORK_FILTER_BRAND_VERSION;
}

const FUNCTION_KEYS = ['parseConfig', 'onNewConnection', 'onData', 'onWrite', 'onClose'] as const;

/**
 * Define an L4 (network) filter. Export the result from your bundle; a network chain config
 * (`DynamicModuleNetworkFilter`) refers to it by name.
 */
export function defineNetworkFilter<C = undefined>(options: NetworkFilterOptions<C>): NetworkFilter<C> {
  checkFilterOptions('defineNetworkFilter', options, FUNCTION_KEYS);
  return Object.freeze({ ...options, [kNetworkFilter]: NETWORK_FILTER_BRAND_VERSION });
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
