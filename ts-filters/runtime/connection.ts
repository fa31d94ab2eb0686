// Per-connection state of a network chain, keyed by (slot, gen). Created by the connection's first
// onNetworkHook, dropped by onDestroy.

import { StreamClosedError } from '../api/errors';
import type { ConnectionInfo, NetworkStatus } from '../api/network-filter';
import { BufferKind } from './codes';
import type { LoadedNetworkFilter, NetworkConfig } from './config';
import { ConnectionBufferView, type BufferTarget } from './connection-buffer';
import type { NativeBinding, NetworkHookKind as NativeNetworkHookKind } from './native';
import { NetworkContext } from './network-context';
import { clearTimeout } from './primordials';

/** A hook that returned a promise; the chain resumes after `position` once it settled. */
export interface PendingNetworkHook {
  readonly hook: NativeNetworkHookKind;
  readonly filter: LoadedNetworkFilter;
  /** Index of `filter` in the hook's chain. */
  readonly position: number;
  settled: boolean;
  failed: boolean;
  /** The rejection, or the status the promise resolved to. */
  result: unknown;
  /** Fails the hook when its promise is pending longer than its filter's asyncTimeoutMs. */
  timer: ReturnType<typeof setTimeout> | undefined;
}

export class ConnectionState implements BufferTarget {
  readonly binding: NativeBinding;
  readonly config: NetworkConfig;
  readonly slot: number;
  readonly gen: number;
  closed = false;
  /** A filter failed under the "open" policy: data passes through untouched from now on. */
  poisoned = false;
  inWriteHook = false;
  /** end_stream of the data or write hook being run. */
  endOfStream = false;
  pending: PendingNetworkHook | undefined = undefined;
  readonly readBuffer: ConnectionBufferView;
  readonly writeBuffer: ConnectionBufferView;
  #info: ConnectionInfo | undefined = undefined;
  #abort: AbortController | undefined = undefined;
  readonly #contexts: (NetworkContext | undefined)[] = [];

  constructor(binding: NativeBinding, config: NetworkConfig, slot: number, gen: number) {
    this.binding = binding;
    this.config = config;
    this.slot = slot;
    this.gen = gen;
    this.readBuffer = new ConnectionBufferView(binding, this, BufferKind.Read);
    this.writeBuffer = new ConnectionBufferView(binding, this, BufferKind.Write);
  }

  contextFor(filter: LoadedNetworkFilter): NetworkContext {
    let ctx = this.#contexts[filter.index];
    if (ctx === undefined) {
      ctx = new NetworkContext(this, filter);
      this.#contexts[filter.index] = ctx;
    }
    return ctx;
  }

  /** Connection facts, asked from Envoy once. */
  get info(): ConnectionInfo {
    if (this.#info === undefined) {
      if (this.closed) throw new StreamClosedError('the connection is closed');
      const [id, remoteAddress, remotePort, localAddress, localPort, ssl, serverName] =
        this.binding.connectionInfo(this.slot, this.gen);
      this.#info = Object.freeze({
        id, remoteAddress, remotePort, localAddress, localPort, ssl, serverName: serverName ?? null,
      });
    }
    return this.#info;
  }

  get signal(): AbortSignal {
    if (this.#abort === undefined) {
      this.#abort = new AbortController();
      if (this.closed) this.#abort.abort(new StreamClosedError('the connection is closed'));
    }
    return this.#abort.signal;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.pending?.timer !== undefined) clearTimeout(this.pending.timer);
    this.pending = undefined;
    this.#abort?.abort(new StreamClosedError('the connection is closed'));
  }

  /** Abort the connection's signal (its work is no longer wanted) with `reason`. */
  abortSignal(reason: unknown): void {
    this.#abort ??= new AbortController();
    this.#abort.abort(reason);
  }
}

/** A network hook's return value as a status; anything else is a filter bug. */
export function statusOf(value: unknown): NetworkStatus | undefined {
  if (value === undefined || value === 'Continue' || value === 'StopIteration') {
    return value as NetworkStatus | undefined;
  }
  throw new TypeError(`a network hook must return nothing, 'Continue' or 'StopIteration' ` +
                      `(NetworkStatus), got ${typeof value === 'string' ? `'${value}'` : typeof value}`);
}
