// HttpFilterContext: one per filter per stream, created on the filter's first hook.

import { InvalidStateError, NotInHookError, StreamClosedError } from '../api/errors';
import type { Metrics, SharedState } from '../api/metrics';
import type { FetchInit, FetchResponse, HeaderMap, HttpBody, HttpFilterContext, OffloadOptions, LocalReplyInit, Logger, MetadataSource,
  StreamAttributes } from '../api/types';
import { AttributeId, AttributeType, BufferKind, DEFAULT_REPLY_DETAILS, MetadataSource as NativeMetadataSources } from './codes';
import type { LoadedHttpFilter } from './config';
import { toBytes } from './bytes';
import { fetchThrough } from './fetch';
import type { HookTally } from './hook-stats';
import { FilterMetrics, sharedStateOf } from './metrics';
import { offloadTask } from './offload';
import type { AttributeId as NativeAttributeId, AttributeType as NativeAttributeType } from './native';
import { checkHeaderName, checkHeaderValue } from './header-map';
import type { LocalReply, StreamState } from './stream';
import { ArrayIsArray, ArrayPrototypePush, JSONStringify, ObjectKeys, RegExpPrototypeExec,
  StringPrototypeStartsWith } from './primordials';

const DETAILS = /^[\x21-\x7e]+$/;

/** `ctx[kWhenStreamClosed](callback)`: the runtime's own filters (proxy-wasm) learn when the
 *  stream is gone, whatever happened to it. Not part of the public API. */
export const kWhenStreamClosed = Symbol('envoy-ts.whenStreamClosed');
/** `ctx[kRuntimeFilterState]`: where the runtime's own filters keep their per-stream state (a
 *  field of every context, so contexts keep one shape; a WeakMap from contexts cost them far more
 *  in garbage collection). Not part of the public API. */
export const kRuntimeFilterState = Symbol('envoy-ts.runtimeFilterState');

export class FilterContext implements HttpFilterContext<unknown>, HookTally {
  readonly #stream: StreamState;
  readonly #filter: LoadedHttpFilter;
  #metrics: FilterMetrics | undefined = undefined;
  #attributes: Attributes | undefined = undefined;
  #hookCalls = 0;
  #hookMicros = 0;
  [kRuntimeFilterState]: unknown = undefined;

  constructor(stream: StreamState, filter: LoadedHttpFilter) {
    this.#stream = stream;
    this.#filter = filter;
  }

  get filter(): LoadedHttpFilter {
    return this.#filter;
  }

  get hookCalls(): number {
    return this.#hookCalls;
  }

  get hookMicros(): number {
    return this.#hookMicros;
  }

  countHook(micros: number): void {
    this.#hookCalls++;
    this.#hookMicros += micros;
  }

  resetHookTally(): void {
    this.#hookCalls = 0;
    this.#hookMicros = 0;
  }

  get config(): unknown {
    return this.#stream.configOf(this.#filter);
  }

  get filterName(): string {
    return this.#filter.name;
  }

  get requestHeaders(): HeaderMap {
    return this.#stream.requestHeaders;
  }

  get responseHeaders(): HeaderMap {
    const stream = this.#stream;
    if (!stream.inResponse) {
      throw new InvalidStateError('responseHeaders is only available in the response phase');
    }
    return stream.responseHeaderMap();
  }

  get endOfStream(): boolean {
    return this.#stream.endOfStream;
  }

  get requestBody(): HttpBody {
    return this.#stream.bodyView(BufferKind.Read);
  }

  get responseBody(): HttpBody {
    return this.#stream.bodyView(BufferKind.Write);
  }

  get log(): Logger {
    return this.#filter.log;
  }

  get signal(): AbortSignal {
    return this.#stream.signal;
  }

  get metrics(): Metrics {
    this.#metrics ??= new FilterMetrics(this.#stream.binding, this.#stream, this.#filter.name, this.#filter.metrics);
    return this.#metrics;
  }

  get shared(): SharedState {
    return sharedStateOf(this.#stream.binding);
  }

  get attributes(): StreamAttributes {
    this.#attributes ??= new Attributes(this.#stream);
    return this.#attributes;
  }

  setMetadata(namespace: string, key: string, value: string | number | boolean): void {
    checkMetadata(namespace, key, value);
    const stream = this.#open('setMetadata()');
    stream.binding.setMetadata(stream.slot, stream.gen, namespace, key, value);
  }

  getMetadata(namespace: string, key: string, source: MetadataSource = 'dynamic'): string | number | boolean | null {
    const native = NativeMetadataSources[source];
    if (native === undefined) throw new TypeError(`getMetadata(): unknown source ${JSON.stringify(source)}`);
    const stream = this.#open('getMetadata()');
    return stream.binding.getMetadata(stream.slot, stream.gen, native, namespace, key) ?? null;
  }

  setFilterState(key: string, value: Uint8Array | string): void {
    if (typeof key !== 'string' || key === '') throw new TypeError('setFilterState(): key must be a non-empty string');
    const bytes = toBytes(value, 'setFilterState()');
    const stream = this.#open('setFilterState()');
    stream.binding.setFilterState(stream.slot, stream.gen, key, bytes, false);
  }

  getFilterState(key: string): Uint8Array | null {
    if (typeof key !== 'string' || key === '') throw new TypeError('getFilterState(): key must be a non-empty string');
    const stream = this.#open('getFilterState()');
    return stream.binding.getFilterState(stream.slot, stream.gen, key, false) ?? null;
  }

  fetch(url: string | URL, init?: FetchInit): Promise<FetchResponse> {
    return fetchThrough(this.#stream, url, init);
  }

  offload<T = unknown>(task: string | URL, input?: unknown, options?: OffloadOptions): Promise<T> {
    const stream = this.#stream;
    if (stream.closed) return Promise.reject(new StreamClosedError('offload(): the stream is closed'));
    try {
      return offloadTask(stream.config.bundle, stream.config.offload, task, input, options, stream.signal) as Promise<T>;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  setUpstreamOverrideHost(host: string, options?: { readonly strict?: boolean }): void {
    if (typeof host !== 'string' || host === '') {
      throw new TypeError('setUpstreamOverrideHost(): host must be a non-empty "ip:port" string');
    }
    const stream = this.#open('setUpstreamOverrideHost()');
    if (stream.inResponse) {
      throw new InvalidStateError('setUpstreamOverrideHost(): the request already went upstream');
    }
    if (!stream.binding.setUpstreamOverrideHost(stream.slot, stream.gen, host, options?.strict === true)) {
      throw new TypeError(`setUpstreamOverrideHost(): Envoy takes IP addresses ("ip:port"), not ${JSON.stringify(host)}`);
    }
  }

  clearRouteCache(): void {
    const stream = this.#open('clearRouteCache()');
    stream.binding.clearRouteCache(stream.slot, stream.gen);
  }

  [kWhenStreamClosed](callback: () => void): void {
    this.#stream.whenClosed(callback);
  }

  #open(what: string): StreamState {
    const stream = this.#stream;
    if (stream.closed) throw new StreamClosedError(`${what}: the stream is closed`);
    return stream;
  }

  respond(status: number, init?: LocalReplyInit): void {
    const stream = this.#stream;
    if (stream.closed) throw new StreamClosedError('respond(): the stream is closed');
    if (stream.replied || stream.reply !== undefined) {
      throw new InvalidStateError('respond(): a local reply was already requested for this stream');
    }
    if (!stream.inHook && stream.pending?.link.filter !== this.#filter) {
      throw new NotInHookError(
        `respond(): filter '${this.#filter.name}' has no running or pending hook on this stream`);
    }
    stream.reply = buildReply(status, init);
  }
}

function buildReply(status: number, init: LocalReplyInit | undefined): LocalReply {
  if (!Number.isInteger(status) || status < 200 || status > 599) {
    throw new RangeError(
      `respond(): status must be an integer in 200-599 (a final response), got ${String(status)}`);
  }
  const headers: string[] = [];
  const body = init?.body ?? '';
  if (typeof body !== 'string' && !(body instanceof Uint8Array)) {
    throw new TypeError('respond(): body must be a string or a Uint8Array');
  }
  const details = init?.details ?? DEFAULT_REPLY_DETAILS;
  if (typeof details !== 'string' || RegExpPrototypeExec(DETAILS, details) === null) {
    throw new TypeError(
      `respond(): details must be a non-empty string of visible ASCII characters (no spaces), ` +
      `got ${JSONStringify(details)}`);
  }
  const given = init?.headers;
  if (given !== undefined) {
    if (ArrayIsArray(given)) {
      const pairs = given as ReadonlyArray<readonly [string, string]>;
      for (let i = 0; i < pairs.length; i++) {
        const pair = pairs[i];
        if (!ArrayIsArray(pair) || pair.length !== 2) {
          throw new TypeError('respond(): headers must be [name, value] pairs');
        }
        const name = checkReplyHeaderName(pair[0]);
        ArrayPrototypePush(headers, name, checkHeaderValue(name, pair[1]));
      }
    } else if (typeof given === 'object' && given !== null) {
      const record = given as Readonly<Record<string, string>>;
      const keys = ObjectKeys(record);
      for (let i = 0; i < keys.length; i++) {
        const name = checkReplyHeaderName(keys[i]);
        ArrayPrototypePush(headers, name, checkHeaderValue(name, record[keys[i] as string]));
      }
    } else {
      throw new TypeError('respond(): headers must be a record or a list of [name, value] pairs');
    }
  }
  return { status, headers, body, details };
}

function checkReplyHeaderName(name: unknown): string {
  const key = checkHeaderName(name);
  if (StringPrototypeStartsWith(key, ':')) {
    throw new TypeError(`respond(): pseudo-header '${key}' cannot be set on a local reply`);
  }
  return key;
}

/** Metadata namespace/key/value checks shared by HTTP and network contexts. */
export function checkMetadata(namespace: unknown, key: unknown, value: unknown): void {
  if (typeof namespace !== 'string' || namespace === '' || typeof key !== 'string' || key === '') {
    throw new TypeError('setMetadata(): namespace and key must be non-empty strings');
  }
  if (typeof value !== 'string' && typeof value !== 'boolean' &&
      (typeof value !== 'number' || !Number.isFinite(value))) {
    throw new TypeError('setMetadata(): value must be a string, a finite number or a boolean');
  }
}

/** Stream attributes, each asked from Envoy when read. */
class Attributes implements StreamAttributes {
  readonly #stream: StreamState;

  constructor(stream: StreamState) {
    this.#stream = stream;
  }

  #get(id: NativeAttributeId, type: NativeAttributeType): string | number | boolean | null {
    const stream = this.#stream;
    if (stream.closed) throw new StreamClosedError('attributes: the stream is closed');
    return stream.binding.getAttribute(stream.slot, stream.gen, id, type) ?? null;
  }

  get requestId(): string | null { return this.#get(AttributeId.RequestId, AttributeType.String) as string | null; }
  get protocol(): string | null { return this.#get(AttributeId.RequestProtocol, AttributeType.String) as string | null; }
  get sourceAddress(): string | null { return this.#get(AttributeId.SourceAddress, AttributeType.String) as string | null; }
  get sourcePort(): number | null { return this.#get(AttributeId.SourcePort, AttributeType.Int) as number | null; }
  get destinationAddress(): string | null {
    return this.#get(AttributeId.DestinationAddress, AttributeType.String) as string | null;
  }
  get destinationPort(): number | null { return this.#get(AttributeId.DestinationPort, AttributeType.Int) as number | null; }
  get connectionId(): number | null { return this.#get(AttributeId.ConnectionId, AttributeType.Int) as number | null; }
  get mtls(): boolean | null { return this.#get(AttributeId.ConnectionMtls, AttributeType.Bool) as boolean | null; }
  get requestedServerName(): string | null {
    return this.#get(AttributeId.ConnectionRequestedServerName, AttributeType.String) as string | null;
  }
  get tlsVersion(): string | null { return this.#get(AttributeId.ConnectionTlsVersion, AttributeType.String) as string | null; }
  // Envoy answers "" for a route without a name.
  get routeName(): string | null {
    return (this.#get(AttributeId.XdsRouteName, AttributeType.String) as string | null) || null;
  }
}
