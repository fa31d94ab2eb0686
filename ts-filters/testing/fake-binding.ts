// An in-memory NativeBinding: a test double of our own native layer (native/bridge), with the
// same rules: streams addressed by (slot, gen), ETS_ERR_STREAM_CLOSED once gone, sendLocalReply
// only while the stream's onHook/onResume is on the stack. The runtime's unit tests drive it call
// by call; the test kit (http-exchange.ts) extends it into Envoy's filter manager. What Envoy does
// with a local reply, a callout, a metric or a token bucket goes through the overridable methods
// of "what Envoy does" below.

import { setImmediate as nextMacrotask } from 'node:timers/promises';

import { CrossingFrame, HookFlags } from '../runtime/codes';
import { createDispatcher, type DispatcherOptions, type Runtime } from '../runtime/dispatcher';
import { forbiddenValueChar } from '../runtime/header-map';
import { PLAIN_NODE, nativeDispatcher } from '../runtime/native-dispatcher';
import type { AttributeId, BufferKind, CloseType, Dispatcher, HeaderMapKind, HookKind, HookOutcome,
  FetchStreamEvent, MetadataSource, MetricOp, NativeBinding, NativeLogLevel, NetworkEvent, NetworkHookKind,
  WholeBodyState } from '../runtime/native';

export interface FakeStream {
  readonly slot: number;
  readonly gen: number;
  readonly configId: number;
  /** Header maps by HeaderMapKind, as [lowercase name, value] lists. */
  readonly maps: [string, string][][];
  alive: boolean;
  localReply: { status: number; headers: string[]; body: string; details: string } | undefined;
  readonly metadata: Map<string, string | number | boolean>;
  readonly filterState: Map<string, Uint8Array>;
  /** [index, op, value, labels] per metric() call. */
  readonly metrics: [number, MetricOp, number, string[]][];
  routeCacheClears: number;
  /** Per direction (0 request, 1 response): the body bytes the filter holds, as slices. */
  readonly bodies: [Uint8Array[], Uint8Array[]];
  /** Per direction: the body bytes that went on (the filter continued with them), one char per byte. */
  readonly passed: [string, string];
  /** Per direction: bufferWholeBody() was called. */
  readonly wholeBody: [boolean, boolean];
  /** Envoy's buffer limit for bufferWholeBody(). */
  bufferLimit: number;
  /** What setUpstreamOverrideHost() asked for. */
  upstreamOverride?: { host: string; strict: boolean };
  /** The runtime asked to hear of the stream's end (wantStreamEnd). */
  endWanted: boolean;
}

export interface FakeConnection {
  readonly slot: number;
  readonly gen: number;
  readonly configId: number;
  /** The client's IP address. */
  readonly remoteAddress: string;
  /** [read, write] buffers as slices. */
  readonly buffers: [Uint8Array[], Uint8Array[]];
  /** What reached the client: connectionWrite() calls and write buffers that passed. */
  readonly written: string[];
  readonly injected: string[];
  continued: number;
  closedWith: CloseType | undefined;
  readDisabled: number;
  readonly metadata: Map<string, string | number | boolean>;
  readonly filterState: Map<string, Uint8Array>;
  /** [index, op, value, labels] per metric() call. */
  readonly metrics: [number, MetricOp, number, string[]][];
  alive: boolean;
  inWrite: boolean;
}

function concat(chunks: readonly Uint8Array[]): Buffer {
  return Buffer.concat(chunks.map((chunk) => Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length)));
}

export interface BindingCall {
  readonly method: string;
  readonly slot: number;
  readonly gen: number;
}

function codedError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

export class FakeBinding implements NativeBinding {
  readonly isMainThread: boolean;
  dispatcher: Dispatcher | undefined;
  // ---- What Envoy does: the test kit overrides these to act like Envoy's filter manager. ----

  /** Envoy sends a local reply: here the reply is kept and its headers become the response's. */
  protected replySent(stream: FakeStream, reply: NonNullable<FakeStream['localReply']>): void {
    if (stream.localReply !== undefined) throw new Error('second local reply');
    stream.localReply = reply;
    const response: [string, string][] = [[':status', String(reply.status)]];
    for (let i = 0; i + 1 < reply.headers.length; i += 2) {
      response.push([reply.headers[i] as string, reply.headers[i + 1] as string]);
    }
    stream.maps[2] = response;
  }

  /** The runtime asked for onResume: here it waits for untilResumeRequested() and resume(). */
  protected resumeWanted(slot: number, gen: number): void {
    this.resumeRequests.push({ slot, gen });
  }

  /** Whether Envoy has the cluster a fetch names (the runtime's tests call 'missing' the one it lacks). */
  protected hasCluster(cluster: string): boolean {
    return cluster !== 'missing';
  }

  /** A one-shot callout started: here it waits for answerCallout(). */
  protected calloutStarted(_callout: FakeBinding['callouts'][number]): void {}

  /** A streaming fetch's request ended: here it waits for fetchStreamEvent(). */
  protected fetchRequestEnded(_fetchStream: FakeBinding['fetchStreams'][number]): void {}

  /** A metric record of a stream or connection: [index, op, value, labels]. */
  protected metricRecorded(target: FakeStream | FakeConnection, record: FakeStream['metrics'][number]): void {
    target.metrics.push(record);
  }

  /** Stream-addressed binding calls, in order. */
  readonly calls: BindingCall[] = [];
  readonly logs: { level: NativeLogLevel; message: string }[] = [];
  /** Lowest enabled level. */
  logLevel: NativeLogLevel = 0;
  readonly resumeRequests: { slot: number; gen: number }[] = [];
  /** Streaming callouts: what was sent (trailers flat), whether the request ended, whether JS reset it. */
  readonly fetchStreams: { slot: number; gen: number; id: number; cluster: string; headers: string[]; sent: string[];
    trailers: string[] | null; ended: boolean; reset: boolean; timeoutMs: number }[] = [];
  readonly callouts: { slot: number; gen: number; id: number; cluster: string; headers: string[]; body: string;
    timeoutMs: number }[] = [];
  readonly #streams = new Map<number, FakeStream>();
  readonly #connections = new Map<number, FakeConnection>();
  readonly #shared = new Map<string, number>();
  #nextSlot = 0;
  #nextGen = 1;
  #activeSlot: number | undefined;
  #statsBuffer: Float64Array | undefined;
  #frame: Uint32Array | undefined;
  /** Per stream slot, like native: the built-in stats its calls left, summed until it completes. */
  readonly #streamStats = new Map<number, Map<string, [number, MetricOp, number]>>();
  /** The runtime's watch slots for the CPU watchdog. */
  watchSlots: Int32Array | undefined;
  /** The runtime's clock cell (stampClock writes the time there). */
  clockCell: Float64Array | undefined;

  constructor(isMainThread = false) {
    this.isMainThread = isMainThread;
  }

  // ---- driving it, like native/bridge does ----

  openStream(configId: number, requestHeaders: Record<string, string> | [string, string][] = {}): FakeStream {
    const list = Array.isArray(requestHeaders) ? requestHeaders : Object.entries(requestHeaders);
    const stream: FakeStream = {
      slot: this.#nextSlot++,
      gen: this.#nextGen++,
      configId,
      maps: [list.map(([n, v]) => [n.toLowerCase(), v]), [], [], []],
      alive: true,
      localReply: undefined,
      metadata: new Map(),
      filterState: new Map(),
      metrics: [],
      routeCacheClears: 0,
      bodies: [[], []],
      passed: ['', ''],
      wholeBody: [false, false],
      bufferLimit: 1024 * 1024,
      endWanted: false,
    };
    this.#streams.set(stream.slot, stream);
    return stream;
  }

  /**
   * A body chunk arrives (direction 0 request, 1 response): it joins what the filter holds and the
   * body hook runs; on Continue what it holds goes on (like Envoy).
   */
  body(stream: FakeStream, direction: BufferKind, data: string, endOfStream: boolean): HookOutcome {
    if (data !== '') stream.bodies[direction].push(Buffer.from(data));
    const outcome = this.hook(stream, (direction === 0 ? 5 : 6) as HookKind, endOfStream);
    if (outcome === 0) this.passOn(stream, direction);
    return outcome;
  }

  /** The filter continued `direction` (a Continue outcome, or continue_decoding/encoding). */
  passOn(stream: FakeStream, direction: BufferKind): void {
    stream.passed[direction] += concat(stream.bodies[direction]).toString('latin1');
    stream.bodies[direction].length = 0;
  }

  /** Set the response headers (as the upstream or a local reply would). */
  setResponse(stream: FakeStream, headers: Record<string, string>): void {
    stream.maps[2] = Object.entries(headers).map(([n, v]) => [n.toLowerCase(), v]);
  }

  hook(stream: FakeStream, hook: HookKind, endOfStream = true, routeConfigId = 0): HookOutcome {
    return this.#hook(stream, hook, endOfStream ? HookFlags.EndOfStream : 0, routeConfigId);
  }

  /** The stream completes (onHook(StreamComplete)); `responseStarted`: its response headers had
   *  reached the filter (whether or not the chain has a hook for them). */
  complete(stream: FakeStream, responseStarted = false): void {
    this.#hook(stream, 4, responseStarted ? HookFlags.ResponseStarted : 0, 0);
  }

  #hook(stream: FakeStream, hook: HookKind, flags: number, routeConfigId: number): HookOutcome {
    const frame = this.#crossingFrame(stream);
    frame[CrossingFrame.ConfigId] = stream.configId;
    frame[CrossingFrame.Hook] = hook;
    frame[CrossingFrame.Flags] = flags;
    frame[CrossingFrame.RouteConfigId] = routeConfigId;
    const outcome = this.#enter(stream, () => this.#dispatcher().onHook());
    this.#takeStats(stream);
    if (hook !== 4) return outcome;
    // Like native: the stream's built-in stats are recorded when it completes.
    for (const record of this.#streamStats.get(stream.slot)?.values() ?? []) this.metricRecorded(stream, [...record, []]);
    this.#streamStats.delete(stream.slot);
    return 0;
  }

  resume(stream: FakeStream): HookOutcome {
    this.#crossingFrame(stream);
    const outcome = this.#enter(stream, () => this.#dispatcher().onResume());
    this.#takeStats(stream);
    return outcome;
  }

  // The frame with the stream's or connection's (slot, gen), its stats count cleared.
  #crossingFrame(target: { readonly slot: number; readonly gen: number }): Uint32Array {
    const frame = this.#frame;
    if (frame === undefined) throw new Error('setCrossingFrame was not called');
    frame[CrossingFrame.Slot] = target.slot;
    frame[CrossingFrame.Gen] = target.gen;
    frame[CrossingFrame.StatsRecords] = 0;
    return frame;
  }

  // Sums what the call left in the stats buffer into the stream's stats.
  #takeStats(stream: FakeStream): void {
    const count = (this.#frame as Uint32Array)[CrossingFrame.StatsRecords] as number;
    if (count === 0) return;
    const records = this.#statsBuffer as Float64Array;
    let sums = this.#streamStats.get(stream.slot);
    if (sums === undefined) {
      sums = new Map();
      this.#streamStats.set(stream.slot, sums);
    }
    for (let i = 0; i < count * 3; i += 3) {
      const index = records[i] as number;
      const op = records[i + 1] as MetricOp;
      const value = records[i + 2] as number;
      const sum = sums.get(`${index}/${op}`);
      if (sum === undefined) sums.set(`${index}/${op}`, [index, op, value]);
      else sum[2] = op === 1 ? value : sum[2] + value;
    }
  }

  /** The stream ends without the runtime hearing of it, as native ends one whose chain has no
   *  onStreamComplete and where nothing waits for its end. */
  endUnheard(stream: FakeStream): void {
    stream.alive = false;
    this.#streams.delete(stream.slot);
    this.#streamStats.delete(stream.slot);
  }

  destroy(stream: FakeStream): void {
    stream.alive = false;
    this.#streams.delete(stream.slot);
    this.#streamStats.delete(stream.slot);
    this.#dispatcher().onDestroy(stream.slot, stream.gen);
  }

  /** A new downstream connection of a network config (like on_network_filter_new). */
  openConnection(configId: number, remoteAddress = '10.0.0.1'): FakeConnection {
    const connection: FakeConnection = {
      slot: this.#nextSlot++,
      gen: this.#nextGen++,
      configId,
      remoteAddress,
      buffers: [[], []],
      written: [],
      injected: [],
      continued: 0,
      closedWith: undefined,
      readDisabled: 0,
      metadata: new Map(),
      filterState: new Map(),
      metrics: [],
      alive: true,
      inWrite: false,
    };
    this.#connections.set(connection.slot, connection);
    return connection;
  }

  /** Bytes from the client: appended to the read buffer (one slice each), then onData. */
  receive(connection: FakeConnection, data: string, endOfStream = false): HookOutcome {
    if (data !== '') connection.buffers[0].push(Buffer.from(data));
    return this.networkHook(connection, 1, endOfStream);
  }

  /** Bytes from the upstream: a fresh write buffer, then onWrite (what remains is "written"). */
  upstreamWrites(connection: FakeConnection, data: string, endOfStream = false): HookOutcome {
    connection.buffers[1] = [Buffer.from(data)];
    connection.inWrite = true;
    try {
      const outcome = this.networkHook(connection, 2, endOfStream);
      if (outcome === 0) connection.written.push(concat(connection.buffers[1]).toString());
      return outcome;
    } finally {
      connection.inWrite = false;
      connection.buffers[1] = [];
    }
  }

  networkHook(connection: FakeConnection, hook: NetworkHookKind, endOfStream = false): HookOutcome {
    return this.#dispatcher().onNetworkHook(connection.configId, connection.slot, connection.gen, hook, endOfStream);
  }

  resumeConnection(connection: FakeConnection): HookOutcome {
    this.#crossingFrame(connection);
    return this.#dispatcher().onResume();
  }

  closeEvent(connection: FakeConnection, event: NetworkEvent): void {
    this.#dispatcher().onNetworkEvent(connection.slot, connection.gen, event);
  }

  destroyConnection(connection: FakeConnection): void {
    connection.alive = false;
    this.#connections.delete(connection.slot);
    this.#dispatcher().onDestroy(connection.slot, connection.gen);
  }

  /** The read buffer's content as text. */
  readBufferText(connection: FakeConnection): string {
    return concat(connection.buffers[0]).toString();
  }

  /** Wait until the runtime asked to resume `stream` (timers and microtasks run meanwhile). */
  async untilResumeRequested(stream: { slot: number; gen: number }, timeoutMs = 2000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.resumeRequests.findIndex((r) => r.slot === stream.slot && r.gen === stream.gen);
      if (index >= 0) {
        this.resumeRequests.splice(index, 1);
        return;
      }
      if (Date.now() > deadline) throw new Error(`no requestResume for stream ${stream.slot}`);
      await nextMacrotask();
    }
  }

  /** Header values of a map, as [name, value] pairs. */
  headers(stream: FakeStream, map: HeaderMapKind): [string, string][] {
    return stream.maps[map] ?? [];
  }

  header(stream: FakeStream, map: HeaderMapKind, name: string): string | undefined {
    return stream.maps[map]?.find(([n]) => n === name)?.[1];
  }

  /** The local reply sent for a stream (a call, so TypeScript does not narrow it across awaits). */
  replyOf(stream: FakeStream): FakeStream['localReply'] {
    return stream.localReply;
  }

  callsFor(stream: FakeStream): string[] {
    return this.calls.filter((c) => c.slot === stream.slot && c.gen === stream.gen).map((c) => c.method);
  }

  errorLogs(): string[] {
    return this.logs.filter((l) => l.level >= 4).map((l) => l.message);
  }

  #dispatcher(): Dispatcher {
    if (this.dispatcher === undefined) throw new Error('setDispatcher was not called');
    return this.dispatcher;
  }

  #enter<R>(stream: FakeStream, call: () => R): R {
    const previous = this.#activeSlot;
    this.#activeSlot = stream.slot;
    try {
      return call();
    } finally {
      this.#activeSlot = previous;
    }
  }

  #stream(method: string, slot: number, gen: number): FakeStream {
    this.calls.push({ method, slot, gen });
    const stream = this.#streams.get(slot);
    if (stream === undefined || stream.gen !== gen || !stream.alive) {
      throw codedError('ETS_ERR_STREAM_CLOSED', `stream ${slot}/${gen} is closed`);
    }
    return stream;
  }

  #map(method: string, slot: number, gen: number, map: HeaderMapKind): [string, string][] {
    const list = this.#stream(method, slot, gen).maps[map];
    if (list === undefined) throw new Error(`bad map ${map}`);
    return list;
  }

  // ---- NativeBinding ----

  setDispatcher(dispatcher: Dispatcher): void {
    this.dispatcher = dispatcher;
  }

  getHeader(slot: number, gen: number, map: HeaderMapKind, name: string): string | undefined {
    return this.#map('getHeader', slot, gen, map).find(([n]) => n === name)?.[1];
  }

  hasHeader(slot: number, gen: number, map: HeaderMapKind, name: string): boolean {
    return this.#map('hasHeader', slot, gen, map).some(([n]) => n === name);
  }

  getHeaderValues(slot: number, gen: number, map: HeaderMapKind, name: string): string[] {
    return this.#map('getHeaderValues', slot, gen, map).filter(([n]) => n === name).map(([, v]) => v);
  }

  getHeaders(slot: number, gen: number, map: HeaderMapKind): string[] {
    return this.#map('getHeaders', slot, gen, map).flat();
  }

  headerCount(slot: number, gen: number, map: HeaderMapKind): number {
    return this.#map('headerCount', slot, gen, map).length;
  }

  setHeader(slot: number, gen: number, map: HeaderMapKind, name: string, value: string): number | undefined {
    const list = this.#map('setHeader', slot, gen, map);
    const refused = forbiddenValueChar(value);
    if (refused !== -1) return refused;
    const kept = list.filter(([n]) => n !== name);
    list.length = 0;
    list.push(...kept, [name, value]);
    return undefined;
  }

  addHeader(slot: number, gen: number, map: HeaderMapKind, name: string, value: string): number | undefined {
    const list = this.#map('addHeader', slot, gen, map);
    const refused = forbiddenValueChar(value);
    if (refused !== -1) return refused;
    list.push([name, value]);
    return undefined;
  }

  removeHeader(slot: number, gen: number, map: HeaderMapKind, name: string): void {
    const list = this.#map('removeHeader', slot, gen, map);
    const kept = list.filter(([n]) => n !== name);
    list.length = 0;
    list.push(...kept);
  }

  sendLocalReply(slot: number, gen: number, status: number, headers: string[], body: string | Uint8Array,
                 details: string): void {
    const stream = this.#stream('sendLocalReply', slot, gen);
    if (this.#activeSlot !== slot) {
      throw codedError('ETS_ERR_NOT_IN_HOOK', 'sendLocalReply outside the stream\'s hook');
    }
    this.replySent(stream, { status, headers: [...headers], details,
                             body: typeof body === 'string' ? body : Buffer.from(body).toString('utf8') });
  }

  bufferWholeBody(slot: number, gen: number, direction: BufferKind): WholeBodyState {
    const stream = this.#stream('bufferWholeBody', slot, gen);
    stream.wholeBody[direction] = true;
    return this.bufferLength(slot, gen, direction) <= stream.bufferLimit ? 0 : 1;
  }

  wantStreamEnd(slot: number, gen: number): void {
    const stream = this.#streams.get(slot);
    if (stream === undefined || stream.gen !== gen || !stream.alive) {
      throw codedError('ETS_ERR_STREAM_CLOSED', `stream ${slot}/${gen} is closed`);
    }
    stream.endWanted = true;
  }

  requestResume(slot: number, gen: number): void {
    const connection = this.#connections.get(slot);
    if (connection !== undefined && connection.gen === gen) {
      this.#connection('requestResume', slot, gen);
    } else {
      this.#stream('requestResume', slot, gen);
    }
    this.resumeWanted(slot, gen);
  }

  #connection(method: string, slot: number, gen: number): FakeConnection {
    this.calls.push({ method, slot, gen });
    const connection = this.#connections.get(slot);
    if (connection === undefined || connection.gen !== gen || !connection.alive) {
      throw codedError('ETS_ERR_STREAM_CLOSED', `connection ${slot}/${gen} is closed`);
    }
    return connection;
  }

  #buffer(method: string, slot: number, gen: number, buffer: BufferKind): Uint8Array[] {
    const stream = this.#streams.get(slot);
    if (stream !== undefined && stream.gen === gen) return this.#stream(method, slot, gen).bodies[buffer];
    const connection = this.#connection(method, slot, gen);
    if (buffer === 1 && !connection.inWrite) throw codedError('ETS_ERR_NOT_IN_HOOK', 'no write buffer now');
    return connection.buffers[buffer];
  }

  bufferLength(slot: number, gen: number, buffer: BufferKind): number {
    return this.#buffer('bufferLength', slot, gen, buffer).reduce((n, chunk) => n + chunk.length, 0);
  }

  bufferChunks(slot: number, gen: number, buffer: BufferKind): Uint8Array[] {
    return this.#buffer('bufferChunks', slot, gen, buffer).map((chunk) => chunk.subarray());
  }

  drainBuffer(slot: number, gen: number, buffer: BufferKind, length: number): void {
    const chunks = this.#buffer('drainBuffer', slot, gen, buffer);
    const rest = concat(chunks).subarray(length);
    chunks.length = 0;
    if (rest.length > 0) chunks.push(rest);
  }

  prependBuffer(slot: number, gen: number, buffer: BufferKind, data: Uint8Array): void {
    this.#buffer('prependBuffer', slot, gen, buffer).unshift(Buffer.from(data));
  }

  appendBuffer(slot: number, gen: number, buffer: BufferKind, data: Uint8Array): void {
    this.#buffer('appendBuffer', slot, gen, buffer).push(Buffer.from(data));
  }

  connectionWrite(slot: number, gen: number, data: Uint8Array, endStream: boolean): void {
    this.#connection('connectionWrite', slot, gen).written.push(Buffer.from(data).toString() + (endStream ? '<EOF>' : ''));
  }

  injectRead(slot: number, gen: number, data: Uint8Array, endStream: boolean): void {
    this.#connection('injectRead', slot, gen).injected.push(Buffer.from(data).toString() + (endStream ? '<EOF>' : ''));
  }

  continueReading(slot: number, gen: number): void {
    this.#connection('continueReading', slot, gen).continued++;
  }

  closeConnection(slot: number, gen: number, type: CloseType): void {
    this.#connection('closeConnection', slot, gen).closedWith = type;
  }

  readDisable(slot: number, gen: number, disabled: boolean): void {
    this.#connection('readDisable', slot, gen).readDisabled += disabled ? 1 : -1;
  }

  connectionInfo(slot: number, gen: number): [number, string, number, string, number, boolean, string | undefined] {
    const connection = this.#connection('connectionInfo', slot, gen);
    return [slot + 100, connection.remoteAddress, 40000 + slot, '127.0.0.1', 10000, false, undefined];
  }

  /** The stream or connection at (slot, gen). */
  #target(method: string, slot: number, gen: number): FakeStream | FakeConnection {
    const connection = this.#connections.get(slot);
    return connection !== undefined && connection.gen === gen
      ? this.#connection(method, slot, gen) : this.#stream(method, slot, gen);
  }

  setMetadata(slot: number, gen: number, namespace: string, key: string, value: string | number | boolean): void {
    this.#target('setMetadata', slot, gen).metadata.set(`${namespace}.${key}`, value);
  }

  getMetadata(slot: number, gen: number, source: MetadataSource, namespace: string,
              key: string): string | number | boolean | undefined {
    const stream = this.#stream('getMetadata', slot, gen);
    return source === 0 ? stream.metadata.get(`${namespace}.${key}`) : undefined;
  }

  setFilterState(slot: number, gen: number, key: string, value: Uint8Array, typed: boolean): void {
    const target = this.#target('setFilterState', slot, gen);
    if (typed && key !== 'envoy.tcp_proxy.cluster') throw codedError('ETS_ERR_FILTER_STATE', `no factory for ${key}`);
    target.filterState.set(key, Buffer.from(value));
  }

  getFilterState(slot: number, gen: number, key: string): Uint8Array | undefined {
    return this.#target('getFilterState', slot, gen).filterState.get(key);
  }

  metric(slot: number, gen: number, index: number, op: MetricOp, value: number, labels: string[]): void {
    this.metricRecorded(this.#target('metric', slot, gen), [index, op, value, labels]);
  }

  setUpstreamOverrideHost(slot: number, gen: number, host: string, strict: boolean): boolean {
    this.#stream('setUpstreamOverrideHost', slot, gen).upstreamOverride = { host, strict };
    return /^[\d.]+(:\d+)?$|^\[[\da-f:]+\](:\d+)?$/i.test(host);
  }

  /** How many times the runtime declared this environment broken. */
  brokenReports = 0;

  environmentBroken(): void {
    this.brokenReports++;
  }

  setWatchSlots(slots: Int32Array): void {
    this.watchSlots = slots;
  }

  setStatsBuffer(records: Float64Array): void {
    this.#statsBuffer = records;
  }

  setClockCell(cell: Float64Array): void {
    this.clockCell = cell;
  }

  stampClock(): void {
    if (this.clockCell !== undefined) this.clockCell[0] = performance.now() * 1000;
  }

  /** Plain Node: no pool thread can wake a stream. */
  offloadRunner(): string | undefined {
    return undefined;
  }

  offloadCounts(): [number, number] {
    return [0, 0];
  }

  setCrossingFrame(frame: Uint32Array): void {
    this.#frame = frame;
  }

  setTickInfo(): void {}

  getAttribute(slot: number, gen: number, id: AttributeId): string | number | boolean | undefined {
    this.#stream('getAttribute', slot, gen);
    const attributes: Partial<Record<AttributeId, string | number | boolean>> = {
      10: 'HTTP/1.1', 24: '10.0.0.1:40000', 25: 40000, 28: 7, 29: false,
    };
    return attributes[id];
  }

  startFetchStream(slot: number, gen: number, cluster: string, headers: string[], body: Uint8Array,
                   timeoutMs: number, endStream: boolean): number {
    this.#stream('startFetchStream', slot, gen);
    this.#checkCluster(cluster);
    const id = this.fetchStreams.length + 1;
    const fetchStream = { slot, gen, id, cluster, headers: [...headers], sent: [Buffer.from(body).toString()],
                          trailers: null, ended: endStream, reset: false, timeoutMs };
    this.fetchStreams.push(fetchStream);
    if (endStream) this.fetchRequestEnded(fetchStream);
    return id;
  }

  fetchStreamSendData(slot: number, gen: number, streamId: number, data: Uint8Array, endStream: boolean): boolean {
    this.#stream('fetchStreamSendData', slot, gen);
    const stream = this.fetchStreams.find((s) => s.slot === slot && s.id === streamId);
    if (stream === undefined || stream.ended || stream.reset) return false;
    stream.sent.push(Buffer.from(data).toString());
    stream.ended = endStream;
    if (endStream) this.fetchRequestEnded(stream);
    return true;
  }

  fetchStreamSendTrailers(slot: number, gen: number, streamId: number, trailers: string[]): boolean {
    this.#stream('fetchStreamSendTrailers', slot, gen);
    const stream = this.fetchStreams.find((s) => s.slot === slot && s.id === streamId);
    if (stream === undefined || stream.ended || stream.reset) return false;
    stream.trailers = [...trailers];
    stream.ended = true;
    this.fetchRequestEnded(stream);
    return true;
  }

  resetFetchStream(slot: number, gen: number, streamId: number): void {
    this.#stream('resetFetchStream', slot, gen);
    const stream = this.fetchStreams.find((s) => s.slot === slot && s.id === streamId);
    if (stream !== undefined) stream.reset = true;
  }

  startCallout(slot: number, gen: number, cluster: string, headers: string[], body: Uint8Array,
               timeoutMs: number): number {
    this.#stream('startCallout', slot, gen);
    this.#checkCluster(cluster);
    const id = this.callouts.length + 1;
    const callout = { slot, gen, id, cluster, headers: [...headers], body: Buffer.from(body).toString(), timeoutMs };
    this.callouts.push(callout);
    this.calloutStarted(callout);
    return id;
  }

  #checkCluster(cluster: string): void {
    if (!this.hasCluster(cluster)) {
      throw codedError('ETS_ERR_FETCH', `fetch to cluster '${cluster}' could not start: no such cluster`);
    }
  }

  /** Envoy answers a callout (as on_http_filter_http_callout_done does). */
  answerCallout(stream: FakeStream, id: number, result: number, headers: Record<string, string> | string[] = {},
                body: string | Uint8Array = ''): void {
    this.#enter(stream, () => {
      this.#dispatcher().onCalloutDone(stream.slot, stream.gen, id, result,
                                       Array.isArray(headers) ? headers : Object.entries(headers).flat(),
                                       Buffer.from(body));
      return 0;
    });
  }

  /** An event of a streaming callout (as on_http_filter_http_stream_* do): 0 headers, 1 data,
   *  2 trailers, 3 complete, 4 reset (`payload` the reason). */
  fetchStreamEvent(stream: FakeStream, id: number, event: FetchStreamEvent,
                   payload?: Record<string, string> | string[] | string | Uint8Array | number, endStream = false): void {
    const value = typeof payload === 'string' || payload instanceof Uint8Array ? Buffer.from(payload)
      : Array.isArray(payload) ? payload
      : typeof payload === 'object' ? Object.entries(payload).flat() : payload;
    this.#enter(stream, () => {
      this.#dispatcher().onFetchStream(stream.slot, stream.gen, id, event, value, endStream);
      return 0;
    });
  }

  clearRouteCache(slot: number, gen: number): void {
    this.#stream('clearRouteCache', slot, gen).routeCacheClears++;
  }

  sharedCounterAdd(key: string, delta: number): number {
    const value = (this.#shared.get(key) ?? 0) + delta;
    if (value === 0) this.#shared.delete(key);
    else this.#shared.set(key, value);
    return value;
  }

  sharedCounterGet(key: string): number {
    return this.#shared.get(key) ?? 0;
  }

  // proxy-wasm's shared data and queues, as native/runtime keeps them (one store per binding here).
  readonly #sharedData = new Map<string, [Uint8Array, number]>();
  #nextCas = 1;
  readonly #queueTokens = new Map<string, number>();
  readonly #queues = new Map<number, Uint8Array[]>();

  sharedDataGet(key: string): [Uint8Array, number] | undefined {
    const found = this.#sharedData.get(key);
    return found === undefined ? undefined : [found[0].slice(), found[1]];
  }

  sharedDataSet(key: string, value: Uint8Array, cas: number): boolean {
    if (cas !== 0 && cas !== (this.#sharedData.get(key)?.[1] ?? 0)) return false;
    this.#sharedData.set(key, [value.slice(), this.#nextCas++]);
    return true;
  }

  sharedQueueRegister(vmId: string, name: string): number {
    const key = `${vmId}\0${name}`;
    let token = this.#queueTokens.get(key);
    if (token === undefined) {
      token = this.#queueTokens.size + 1;
      this.#queueTokens.set(key, token);
      this.#queues.set(token, []);
    }
    return token;
  }

  sharedQueueResolve(vmId: string, name: string): number {
    return this.#queueTokens.get(`${vmId}\0${name}`) ?? 0;
  }

  sharedQueueEnqueue(token: number, item: Uint8Array): boolean {
    const queue = this.#queues.get(token);
    queue?.push(item.slice());
    return queue !== undefined;
  }

  sharedQueueDequeue(token: number): Uint8Array | null | undefined {
    const queue = this.#queues.get(token);
    if (queue === undefined) return undefined;
    return queue.shift() ?? null;
  }

  sharedQueueLength(token: number): number {
    return this.#queues.get(token)?.length ?? -1;
  }

  /** Token buckets on a clock tests set (`nowMs`), refilled like native/runtime's. */
  nowMs = 0;
  readonly #buckets = new Map<string, { tokens: number; updated: number }>();

  sharedTokensTake(key: string, ratePerSecond: number, burst: number, cost: number): number {
    const bucket = this.#buckets.get(key) ?? { tokens: burst, updated: this.nowMs };
    bucket.tokens = Math.min(burst, bucket.tokens + ((this.nowMs - bucket.updated) / 1000) * ratePerSecond);
    bucket.updated = this.nowMs;
    this.#buckets.set(key, bucket);
    if (bucket.tokens >= cost) {
      bucket.tokens -= cost;
      return 0;
    }
    return Math.ceil(((cost - bucket.tokens) / ratePerSecond) * 1000);
  }

  log(level: NativeLogLevel, message: string): void {
    this.logs.push({ level, message });
    if (process.env['ETS_TEST_LOG'] !== undefined) process.stderr.write(`[${level}] ${message}\n`);
  }

  logEnabled(level: NativeLogLevel): boolean {
    return level >= this.logLevel;
  }
}

/** A fake binding with a dispatcher registered on it. */
export function setup(options: DispatcherOptions = {}, isMainThread = false): { binding: FakeBinding; runtime: Runtime } {
  const binding = new FakeBinding(isMainThread);
  const runtime = createDispatcher(binding, options);
  binding.setDispatcher(nativeDispatcher(runtime, binding, PLAIN_NODE));
  return { binding, runtime };
}

/**
 * A fake binding whose bundle loader serves `exports` for the path '/fake/bundle.js', with config 1
 * loaded from `chain` (throws if the config is rejected). `kind`: 0 HTTP, 1 network.
 */
export function withChain(moduleExports: unknown, chain: unknown[], failurePolicy: 'closed' | 'open' = 'closed',
                          kind: 0 | 1 = 0): { binding: FakeBinding; runtime: Runtime } {
  const context = setup({ loadBundle: () => moduleExports });
  const error = context.runtime.loadConfig(1, JSON.stringify({ bundle: '/fake/bundle.js', chain, failurePolicy }),
                                           kind);
  if (error !== undefined) throw new Error(`config rejected: ${error}`);
  return context;
}
