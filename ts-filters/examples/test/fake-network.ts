// A small stand-in for Envoy's network filter manager, enough to unit-test one network filter:
// a read buffer that accumulates while the filter returns StopIteration, an "upstream" that gets
// what the filter passes on (Continue) or injects, a "client" that gets what the filter writes and
// what the upstream sends through onWrite, metrics, shared counters and filter state.

import type {
  BytesLike,
  CloseMode,
  ConnectionBuffer,
  ConnectionInfo,
  Metrics,
  MetricsDeclaration,
  NetworkFilter,
  NetworkFilterContext,
  NetworkStatus,
  SharedState,
} from 'envoy-ts';

const encoder = new TextEncoder();
const toBytes = (data: BytesLike): Uint8Array => (typeof data === 'string' ? encoder.encode(data) : data);
const text = (parts: readonly Uint8Array[]): string => Buffer.concat(parts).toString('latin1');

/** A ConnectionBuffer over a list of slices (like Envoy's), with the same edit operations. */
export class FakeBuffer implements ConnectionBuffer {
  slices: Uint8Array[] = [];

  get length(): number {
    return this.slices.reduce((n, s) => n + s.length, 0);
  }
  chunks(): Uint8Array[] {
    return [...this.slices];
  }
  bytes(start = 0, end?: number): Uint8Array {
    const all = new Uint8Array(Buffer.concat(this.slices));
    return all.slice(start, end ?? all.length);
  }
  text(encoding: 'utf8' | 'latin1' = 'utf8'): string {
    return Buffer.concat(this.slices).toString(encoding);
  }
  drain(length: number): void {
    const rest = this.bytes(Math.min(length, this.length));
    this.slices = rest.length > 0 ? [rest] : [];
  }
  prepend(data: BytesLike): void {
    this.slices.unshift(toBytes(data).slice());
  }
  append(data: BytesLike): void {
    const bytes = toBytes(data);
    if (bytes.length > 0) this.slices.push(bytes.slice());
  }
  replace(data: BytesLike): void {
    this.slices = [];
    this.append(data);
  }
  take(): Uint8Array {
    const all = this.bytes();
    this.slices = [];
    return all;
  }
}

/** Shared counters as Envoy keeps them: one map for the whole process (pass one to several connections). */
export class FakeShared implements SharedState {
  readonly values = new Map<string, number>();
  add(key: string, delta: number): number {
    const value = (this.values.get(key) ?? 0) + delta;
    if (value === 0) this.values.delete(key);
    else this.values.set(key, value);
    return value;
  }
  get(key: string): number {
    return this.values.get(key) ?? 0;
  }
  take(): { allowed: boolean; retryAfterMs: number } {
    throw new Error('token buckets are not faked for network filter tests');
  }
}

/** Metrics recorded by name; undeclared names throw like the runtime's. */
export class FakeMetrics implements Metrics {
  readonly values = new Map<string, number>();
  readonly declared: Readonly<Record<string, string>>;
  constructor(declared: MetricsDeclaration) {
    this.declared = Object.fromEntries(Object.entries(declared).map(([name, d]) => [name, typeof d === 'string' ? d : d.kind]));
  }
  #check(name: string, kind: string): void {
    if (this.declared[name] !== kind) throw new TypeError(`metric '${name}' is not a declared ${kind}`);
  }
  increment(name: string, value = 1): void {
    this.#check(name, 'counter');
    this.values.set(name, (this.values.get(name) ?? 0) + value);
  }
  set(name: string, value: number): void {
    this.#check(name, 'gauge');
    this.values.set(name, value);
  }
  add(name: string, delta: number): void {
    this.#check(name, 'gauge');
    this.values.set(name, (this.values.get(name) ?? 0) + delta);
  }
  record(name: string, value: number): void {
    this.#check(name, 'histogram');
    this.values.set(name, value);
  }
  get(name: string): number {
    return this.values.get(name) ?? 0;
  }
}

const noop = (): void => undefined;

/** Options of a FakeConnection. */
export interface FakeConnectionOptions {
  readonly remoteAddress?: string;
  readonly shared?: FakeShared;
  readonly metrics?: FakeMetrics;
}

/** One downstream connection through one filter, with Envoy's network filter manager semantics. */
export class FakeConnection<C> {
  readonly filter: NetworkFilter<C>;
  readonly config: C;
  readonly readBuffer = new FakeBuffer();
  readonly metrics: FakeMetrics;
  readonly shared: FakeShared;
  /** Bytes that went on toward the upstream (Continue, or injected), in order. */
  readonly upstream: Uint8Array[] = [];
  upstreamEnded = false;
  /** Bytes written to the client, in order (filter writes and upstream bytes after onWrite). */
  readonly client: Uint8Array[] = [];
  closed: CloseMode | null = null;
  closeEvents: string[] = [];
  readonly filterState = new Map<string, { value: Uint8Array; typed: boolean }>();
  readonly metadata = new Map<string, string | number | boolean>();
  /** Envoy's read-disable count: tcp_proxy (after this filter) disables reading when the chain is
   *  built and enables it once its upstream is connected. */
  readDisables = 1;
  /** The status of the last onNewConnection/onData (after awaiting a promise). */
  lastStatus: NetworkStatus | undefined = undefined;
  /** Whether the chain went past this filter yet (tcp_proxy started). */
  iterated = false;
  readonly ctx: NetworkFilterContext<C>;
  readonly #abort = new AbortController();
  #inWrite = 0;

  constructor(filter: NetworkFilter<C>, rawConfig: unknown, options: FakeConnectionOptions = {}) {
    this.filter = filter;
    this.config = filter.parseConfig ? filter.parseConfig(rawConfig) : (rawConfig as C);
    const declared = typeof filter.metrics === 'function' ? filter.metrics(this.config) : filter.metrics ?? {};
    this.metrics = options.metrics ?? new FakeMetrics(declared);
    this.shared = options.shared ?? new FakeShared();
    const info: ConnectionInfo = {
      id: 1, remoteAddress: options.remoteAddress ?? '10.0.0.1', remotePort: 40000,
      localAddress: '127.0.0.1', localPort: 10000, ssl: false, serverName: null,
    };
    const self = this;
    this.ctx = {
      config: this.config,
      filterName: filter.name,
      connection: info,
      log: { trace: noop, debug: noop, info: noop, warn: noop, error: noop },
      metrics: this.metrics,
      shared: this.shared,
      signal: this.#abort.signal,
      write(data, endStream = false) {
        self.#assertOpen('write');
        // Like Envoy: a filter's write goes through the write filters, this one included.
        self.#writeThrough(toBytes(data), endStream);
      },
      injectRead(data, endStream = false) {
        self.#assertOpen('injectRead');
        self.#toUpstream(toBytes(data), endStream);
      },
      continueReading() {
        self.#assertOpen('continueReading');
        self.#toUpstream(self.readBuffer.take(), false);
      },
      close(mode = 'flush') {
        if (self.closed !== null) return;
        self.closed = mode;
        self.#finish('local');
      },
      readDisable(disabled) {
        self.readDisables += disabled ? 1 : -1;
      },
      setMetadata(namespace, key, value) {
        self.metadata.set(`${namespace}.${key}`, value);
      },
      setFilterState(key, value, options) {
        self.filterState.set(key, { value: toBytes(value), typed: options?.typed === true });
      },
      getFilterState(key) {
        return self.filterState.get(key)?.value ?? null;
      },
    };
  }

  /** The connection opens: onNewConnection. */
  async open(): Promise<NetworkStatus | undefined> {
    const status = await this.filter.onNewConnection?.(this.ctx);
    this.lastStatus = status ?? 'Continue';
    if (this.lastStatus === 'Continue') this.iterated = true;
    return this.lastStatus;
  }

  /** The client sent bytes: they join the read buffer, then onData (unless the connection is closed). */
  async send(data: BytesLike, endStream = false): Promise<NetworkStatus | undefined> {
    if (this.closed !== null) return undefined;
    this.readBuffer.append(toBytes(data));
    const status = await this.filter.onData?.(this.readBuffer, endStream, this.ctx);
    this.lastStatus = status ?? 'Continue';
    if (this.lastStatus === 'Continue' && this.closed === null) {
      this.iterated = true;
      this.#toUpstream(this.readBuffer.take(), endStream);
    }
    return this.lastStatus;
  }

  /** The upstream sent bytes toward the client: onWrite, then whatever is left goes out. */
  reply(data: BytesLike, endStream = false): void {
    this.#writeThrough(toBytes(data), endStream);
  }

  /** The client closed the connection. */
  remoteClose(): void {
    if (this.closed !== null) return;
    this.closed = 'no-flush';
    this.#finish('remote');
  }

  upstreamText(): string {
    return text(this.upstream);
  }
  clientText(): string {
    return text(this.client);
  }

  #writeThrough(data: Uint8Array, endStream: boolean): void {
    const buffer = new FakeBuffer();
    buffer.append(data);
    this.#inWrite++;
    try {
      const status = this.filter.onWrite?.(buffer, endStream, this.ctx);
      if (status === 'StopIteration') return;
    } finally {
      this.#inWrite--;
    }
    const out = buffer.take();
    if (out.length > 0) this.client.push(out);
  }

  #toUpstream(data: Uint8Array, endStream: boolean): void {
    if (data.length > 0) this.upstream.push(data);
    if (endStream) this.upstreamEnded = true;
  }

  #finish(event: 'local' | 'remote'): void {
    this.closeEvents.push(event);
    this.#abort.abort(new Error('connection closed'));
    this.filter.onClose?.(event, this.ctx);
  }

  #assertOpen(what: string): void {
    if (this.closed !== null) throw new Error(`${what}: the connection is closed`);
  }
}
