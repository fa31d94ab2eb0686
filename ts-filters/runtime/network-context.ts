// NetworkFilterContext: one per filter per connection, created on the filter's first hook.

import { StreamClosedError } from '../api/errors';
import type { Metrics, SharedState } from '../api/metrics';
import type { BytesLike, CloseMode, ConnectionInfo, NetworkFilterContext } from '../api/network-filter';
import type { Logger } from '../api/types';
import { CloseType } from './codes';
import type { LoadedNetworkFilter } from './config';
import type { ConnectionState } from './connection';
import { toBytes } from './bytes';
import { checkMetadata } from './context';
import { FilterMetrics, sharedStateOf } from './metrics';
import type { CloseType as NativeCloseType } from './native';

const CLOSE_TYPES: Readonly<Record<CloseMode, NativeCloseType>> = {
  'flush': CloseType.FlushWrite,
  'no-flush': CloseType.NoFlush,
  'flush-and-delay': CloseType.FlushWriteAndDelay,
  'abort': CloseType.Abort,
  'reset': CloseType.AbortReset,
};

export class NetworkContext implements NetworkFilterContext<unknown> {
  readonly #state: ConnectionState;
  readonly #filter: LoadedNetworkFilter;
  #metrics: FilterMetrics | undefined = undefined;

  constructor(state: ConnectionState, filter: LoadedNetworkFilter) {
    this.#state = state;
    this.#filter = filter;
  }

  get config(): unknown {
    return this.#filter.config;
  }

  get filterName(): string {
    return this.#filter.name;
  }

  get connection(): ConnectionInfo {
    return this.#state.info;
  }

  get log(): Logger {
    return this.#filter.log;
  }

  get metrics(): Metrics {
    this.#metrics ??= new FilterMetrics(this.#state.binding, this.#state, this.#filter.name,
                                        this.#filter.metrics);
    return this.#metrics;
  }

  get shared(): SharedState {
    return sharedStateOf(this.#state.binding);
  }

  get signal(): AbortSignal {
    return this.#state.signal;
  }

  write(data: BytesLike, endStream = false): void {
    const bytes = toBytes(data, 'write()');
    const state = this.#open('write()');
    state.binding.connectionWrite(state.slot, state.gen, bytes, endStream === true);
  }

  injectRead(data: BytesLike, endStream = false): void {
    const bytes = toBytes(data, 'injectRead()');
    const state = this.#open('injectRead()');
    state.binding.injectRead(state.slot, state.gen, bytes, endStream === true);
  }

  continueReading(): void {
    const state = this.#open('continueReading()');
    state.binding.continueReading(state.slot, state.gen);
  }

  close(mode: CloseMode = 'flush'): void {
    const type = CLOSE_TYPES[mode];
    if (type === undefined) {
      throw new TypeError(`close(): unknown mode ${JSON.stringify(mode)} ` +
                          `(flush, no-flush, flush-and-delay, abort, reset)`);
    }
    const state = this.#open('close()');
    state.binding.closeConnection(state.slot, state.gen, type);
  }

  readDisable(disabled: boolean): void {
    const state = this.#open('readDisable()');
    state.binding.readDisable(state.slot, state.gen, disabled === true);
  }

  setMetadata(namespace: string, key: string, value: string | number | boolean): void {
    checkMetadata(namespace, key, value);
    const state = this.#open('setMetadata()');
    state.binding.setMetadata(state.slot, state.gen, namespace, key, value);
  }

  setFilterState(key: string, value: BytesLike, options?: { readonly typed?: boolean }): void {
    if (typeof key !== 'string' || key === '') throw new TypeError('setFilterState(): key must be a non-empty string');
    const bytes = toBytes(value, 'setFilterState()');
    const state = this.#open('setFilterState()');
    state.binding.setFilterState(state.slot, state.gen, key, bytes, options?.typed === true);
  }

  getFilterState(key: string, options?: { readonly typed?: boolean }): Uint8Array | null {
    if (typeof key !== 'string' || key === '') throw new TypeError('getFilterState(): key must be a non-empty string');
    const state = this.#open('getFilterState()');
    return state.binding.getFilterState(state.slot, state.gen, key, options?.typed === true) ?? null;
  }

  #open(what: string): ConnectionState {
    const state = this.#state;
    if (state.closed) throw new StreamClosedError(`${what}: the connection is closed`);
    return state;
  }
}
