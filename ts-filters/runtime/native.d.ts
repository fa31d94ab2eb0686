// The native binding, as the C++ side (native/bridge) installs it in every Node environment it
// embeds: `process._linkedBinding('envoy_ts')`. This file is the one declaration of that contract.
//
// Streams are addressed by (slot, gen): `slot` indexes the environment's stream table and `gen` is
// the generation the stream got when it was created. Every stream call checks both and throws an
// Error with code 'ETS_ERR_STREAM_CLOSED' once the stream is gone, so JS never reaches freed memory.

// Numeric codes shared with native/bridge. Their values come from native/bridge/codes.h; the runtime
// names them with `as const` objects (ts-filters/runtime/codes.ts), checked against that file by
// ts-filters/runtime/test/codes.test.ts.

/** Which hook onHook runs: 0 request headers, 1 request trailers, 2 response headers, 3 response
 *  trailers (each the value of the HeaderMapKind it gets), 4 stream complete (synchronous, outcome ignored; the runtime drops the stream after
 *  it, and no onDestroy follows), 5 request body, 6 response body (the bytes are read with the
 *  buffer calls). The native side calls onHook only for hooks the chain has (hookMask), unless the
 *  stream waits on the runtime or the runtime holds its direction's body. */
export type HookKind = 0 | 1 | 2 | 3 | 4 | 5 | 6;

/** Envoy attribute ids the runtime reads (envoy_dynamic_module_type_attribute_id values). */
export type AttributeId = 9 | 10 | 24 | 25 | 26 | 27 | 28 | 29 | 30 | 31 | 61;

/** Which getAttribute flavour: 0 string, 1 integer, 2 boolean. */
export type AttributeType = 0 | 1 | 2;

/** Metadata sources (envoy_dynamic_module_type_metadata_source): 0 dynamic, 1 route, 2 cluster,
 *  3 host. */
export type MetadataSource = 0 | 1 | 2 | 3;

/** Which kind of Envoy config a config is: 0 HTTP (DynamicModuleFilter), 1 network
 *  (DynamicModuleNetworkFilter), 2 per-route (DynamicModuleFilterPerRoute). */
export type ConfigKind = 0 | 1 | 2;

/** Which hook onNetworkHook runs: 0 new connection, 1 data (read), 2 write. */
export type NetworkHookKind = 0 | 1 | 2;

/** Connection events onNetworkEvent reports: 0 remote close, 1 local close. */
export type NetworkEvent = 0 | 1;

/** Which bytes a buffer call addresses: 0 from the client (a connection's read buffer, an HTTP
 *  request body), 1 to the client (write buffer, response body). */
export type BufferKind = 0 | 1;

/** How closeConnection closes (Envoy's close types): 0 flush write, 1 no flush, 2 flush write and
 *  delay, 3 abort, 4 abort with reset. */
export type CloseType = 0 | 1 | 2 | 3 | 4;

/** Metric operations: 0 counter increment, 1 gauge set, 2 gauge add (signed), 3 histogram record. */
export type MetricOp = 0 | 1 | 2 | 3;

/** Which header map a call addresses (Envoy's http_header_type): 0 request headers,
 *  1 request trailers, 2 response headers, 3 response trailers. */
export type HeaderMapKind = 0 | 1 | 2 | 3;

/** What a hook, or a resumed stream, tells the native side:
 *  0 Continue — go on with the filter chain (Continue / continue_decoding / continue_encoding /
 *    continue_reading);
 *  1 Pending — a promise is pending; the stream stays stopped until requestResume() + onResume();
 *  2 Replied (HTTP) / Stop (network) — a local reply was sent during this call, or a network
 *    filter returned StopIteration: the stream or connection stays stopped. */
export type HookOutcome = 0 | 1 | 2;

/** onFetchStream events: 0 headers, 1 data, 2 trailers, 3 complete, 4 reset. */
export type FetchStreamEvent = 0 | 1 | 2 | 3 | 4;

/** What bufferWholeBody answers: 0 buffering, 1 over the buffer limit, 2 the body already flowed. */
export type WholeBodyState = 0 | 1 | 2;

/** Envoy log levels (envoy_dynamic_module_type_log_level): 0 trace, 1 debug, 2 info, 3 warn,
 *  4 error, 5 critical. */
export type NativeLogLevel = 0 | 1 | 2 | 3 | 4 | 5;

/** Functions the runtime registers once per environment with setDispatcher(). */
export interface Dispatcher {
  /**
   * Load and validate one filter config: `json` is the filter_config text from envoy.yaml.
   * Returns undefined when the config is usable, or a message naming the problem.
   * Runs on the main environment at config load (rejection makes Envoy refuse the config) and
   * on each worker environment before its first stream of that config.
   */
  loadConfig(configId: number, json: string, kind: ConfigKind, pinnedHash?: string,
             pinnedSource?: string): string | undefined;
  // loadConfig, continued: with `pinnedHash` and `pinnedSource` (what bundleOf() answered in the
  // environment that validated the config) the bundle is compiled from that source instead of read
  // from its file, so every environment runs the version that was validated. A config id loaded
  // again is replaced only if the new load succeeds.
  /**
   * Watch mode: load the config's bundle again from its file, unless the file holds the version
   * it runs; the new version must declare no metric Envoy did not define for the config. Returns
   * undefined (reloaded or unchanged: bundleOf() tells) or why it was rejected (the config keeps
   * its version).
   */
  reloadConfig(configId: number): string | undefined;
  /** The bundle a loaded config runs: [resolved path, SHA-256 of its content, its source, 1 if the
   *  config is in watch mode else 0]; undefined for an unknown id (or a bundle from an injected
   *  loader). */
  bundleOf(configId: number): [string, string, string, number] | undefined;
  /**
   * The metrics a loaded config's filters declare, as a flat [name, kind, labels, ...] list (kind:
   * 'counter' | 'gauge' | 'histogram'; labels: label names joined by ','), in the order metric
   * indexes refer to them. Called on the main environment right after loadConfig succeeded, while
   * Envoy still allows defining metrics.
   */
  describeMetrics(configId: number): string[];
  /** Which hooks a loaded HTTP config's chain has (per-route configs can only disable its
   *  filters): bit `1 << HookKind` per hook. For a hook the chain lacks, the native side goes on
   *  without calling onHook, unless the stream waits on the runtime or the runtime holds its
   *  direction's body; a stream's end is reported only to chains with onStreamComplete and to
   *  streams that asked for it (wantStreamEnd). Called on the main environment right after
   *  loadConfig succeeded. */
  hookMask(configId: number): number;
  /** Whether a loaded HTTP or network config's failurePolicy is "open" (1) or "closed" (0): what
   *  the native side answers for its streams once their environment can run no JavaScript. */
  failOpen(configId: number): number;
  /** The config is gone: drop it. */
  unloadConfig(configId: number): void;
  /** Run one hook of the config's chain for a stream, with its arguments in the crossing frame
   *  (setCrossingFrame: config id, slot, gen, hook, flags, and on the stream's first call its
   *  per-route config). A stream's first call creates its state. Leaves the stream's built-in
   *  stats in the stats buffer (their count in the frame's StatsRecords slot). */
  onHook(): HookOutcome;
  /** Run one network hook of the config's chain for a connection (first call creates its state).
   *  For data and write hooks the bytes are in the connection's buffers (bufferChunks). */
  onNetworkHook(configId: number, slot: number, gen: number, hook: NetworkHookKind,
                endOfStream: boolean): HookOutcome;
  /** A callout started with startCallout finished: `result` 0 success (headers and body hold the
   *  response, `:status` first), 1 reset or timed out, 2 response over the buffer limit. */
  onCalloutDone(slot: number, gen: number, calloutId: number, result: number, headers: string[],
                body: Uint8Array): void;
  /** An event of a fetch started with startFetchStream: 0 headers and 2 trailers (`payload`: flat
   *  [name, value, ...], `:status` first for headers), 1 a piece of the body (a copy), 3 complete,
   *  4 reset (`payload`: Envoy's reset reason). Headers, data* and trailers? come before complete;
   *  nothing follows complete or reset. */
  onFetchStream(slot: number, gen: number, streamId: number, event: FetchStreamEvent,
                payload: string[] | Uint8Array | number | undefined, endStream: boolean): void;
  /** The connection closed (remote or local); onDestroy follows. */
  onNetworkEvent(slot: number, gen: number, event: NetworkEvent): void;
  /** Called inside the stream's own scheduled callback after requestResume(): apply the decision.
   *  The stream (slot, gen) is in the crossing frame; its stats are left as onHook leaves them. */
  onResume(): HookOutcome;
  /** The stream or connection is gone (a connection closed, or a stream destroyed without its
   *  StreamComplete hook): abort pending work and drop its state. */
  onDestroy(slot: number, gen: number): void;
  /**
   * The CPU watchdog stopped JavaScript that ran past its budget (`budgetMs`; `stack`: where it
   * was, one "\n    at ..." line per frame). The call that was running for stream or connection
   * (slot, gen) (gen 0: none, e.g. the loop pump) returned nothing: repair the runtime's state, log
   * and count it, apply the failure policy to the filter that ran over, and answer what the
   * stopped call would have (a hook outcome; the stream's stats as onHook leaves them).
   * `returned`: the stopped call had already returned this (the watchdog stopped what ran once it
   * had: its microtasks or nextTick callbacks).
   */
  onBudgetExceeded(slot: number, gen: number, budgetMs: number, stack: string, returned?: HookOutcome): HookOutcome;
  /** Run Node's nextTick callbacks and rejection reports (process._tickCallback), the part of
   *  Node's callback scope the native side cannot do itself. It calls it after the outermost call
   *  from Envoy returned and ran its microtasks, when the tick info (setTickInfo) says something is
   *  queued; after every outermost call when there is no tick info. */
  drainTicks(): void;
}

export interface NativeBinding {
  /** True in the main-thread environment, which validates configs and never sees streams. */
  readonly isMainThread: boolean;
  setDispatcher(dispatcher: Dispatcher): void;
  /** The runtime's own code keeps failing in this (worker) environment: it runs no more JavaScript
   *  once the current call from Envoy returns, its streams get the failure policy, and the worker
   *  takes a fresh environment. */
  environmentBroken(): void;

  /** First value of a header (names are lowercase), or undefined. Values are latin1 strings. */
  getHeader(slot: number, gen: number, map: HeaderMapKind, name: string): string | undefined;
  /** Whether a map has a header (no string is made for its value). */
  hasHeader(slot: number, gen: number, map: HeaderMapKind, name: string): boolean;
  /** Every value of a header, in order. */
  getHeaderValues(slot: number, gen: number, map: HeaderMapKind, name: string): string[];
  /** All entries of a map as a flat [name0, value0, name1, value1, ...] list, in order. */
  getHeaders(slot: number, gen: number, map: HeaderMapKind): string[];
  /** How many entries a map has, without copying them (what proxy-wasm's headers callbacks get). */
  headerCount(slot: number, gen: number, map: HeaderMapKind): number;
  /** Replace every value of `name`. A value with a char a header may not hold (the runtime's
   *  forbiddenValueChar) is not written: the index of that char is returned instead. */
  setHeader(slot: number, gen: number, map: HeaderMapKind, name: string, value: string): number | undefined;
  /** Append one value of `name` (a refused value: as setHeader). */
  addHeader(slot: number, gen: number, map: HeaderMapKind, name: string, value: string): number | undefined;
  /** Remove every value of `name`. */
  removeHeader(slot: number, gen: number, map: HeaderMapKind, name: string): void;

  /**
   * Send a local reply. Only legal while this stream's onHook or onResume is on the stack;
   * otherwise throws 'ETS_ERR_NOT_IN_HOOK'. `headers` is a flat [name, value, ...] list.
   */
  sendLocalReply(slot: number, gen: number, status: number, headers: string[], body: string | Uint8Array,
                 details: string): void;
  /**
   * Ask for onResume(slot, gen) to be called inside the stream's scheduled callback. Call it once
   * the stream's pending work has settled. A stream that is gone ignores it.
   */
  requestResume(slot: number, gen: number): void;
  /** HTTP: the runtime must hear of this stream's end (an abort signal, fetches or close callbacks
   *  wait on it) even if the chain has no onStreamComplete: onHook(StreamComplete), or onDestroy. */
  wantStreamEnd(slot: number, gen: number): void;

  /** A stream attribute, or undefined when Envoy has none. */
  getAttribute(slot: number, gen: number, id: AttributeId, type: AttributeType): string | number | boolean | undefined;
  /** HTTP metadata `namespace.key` from `source`, or undefined. */
  getMetadata(slot: number, gen: number, source: MetadataSource, namespace: string,
              key: string): string | number | boolean | undefined;
  /** HTTP: start a streaming callout (the request goes on with fetchStreamSendData unless
   *  `endStream`); returns its id, or throws ETS_ERR_FETCH. onFetchStream reports the response. */
  startFetchStream(slot: number, gen: number, cluster: string, headers: string[], body: Uint8Array,
                   timeoutMs: number, endStream: boolean): number;
  /** HTTP: more request body for a streaming callout; false when it is unknown or ended. */
  fetchStreamSendData(slot: number, gen: number, streamId: number, data: Uint8Array, endStream: boolean): boolean;
  /** HTTP: request trailers for a streaming callout (they end its request); false when it is
   *  unknown or ended. */
  fetchStreamSendTrailers(slot: number, gen: number, streamId: number, trailers: string[]): boolean;
  /** HTTP: abandon a streaming callout (no more events for it). */
  resetFetchStream(slot: number, gen: number, streamId: number): void;
  /** HTTP: the filter reads the whole body of `direction`: Envoy buffers it from now on (over
   *  the buffer limit it answers 413 / 500) instead of pausing the source. Returns 0 when it will,
   *  1 when what the filter holds already exceeds the limit, 2 when body bytes already went on
   *  without the runtime seeing them (the chain has no body hooks). */
  bufferWholeBody(slot: number, gen: number, direction: BufferKind): WholeBodyState;
  /** HTTP: the upstream load balancer picks `host` ("ip:port") when the cluster has it; without
   *  it `strict` fails the request. False when `host` is not an IP address. */
  setUpstreamOverrideHost(slot: number, gen: number, host: string, strict: boolean): boolean;
  /** HTTP: make Envoy pick the route again from the current request headers. */
  clearRouteCache(slot: number, gen: number): void;
  /** HTTP: start a callout to `cluster` (headers flat, with :method, :path, host); returns its id,
   *  or throws ETS_ERR_FETCH naming why Envoy could not start it. onCalloutDone follows. */
  startCallout(slot: number, gen: number, cluster: string, headers: string[], body: Uint8Array,
               timeoutMs: number): number;

  // ---- Streams and connections alike. ----

  setMetadata(slot: number, gen: number, namespace: string, key: string, value: string | number | boolean): void;
  /** `typed` (network only): Envoy builds the object with the factory registered for `key` (throws
   *  ETS_ERR_FILTER_STATE if none does or the value does not parse). */
  setFilterState(slot: number, gen: number, key: string, value: Uint8Array, typed: boolean): void;
  getFilterState(slot: number, gen: number, key: string, typed: boolean): Uint8Array | undefined;

  // ---- Bytes: a connection's read/write buffer, or the part of an HTTP body the filter holds
  // and has not passed on (during a body hook: what it holds plus the received chunk). Views are
  // zero-copy: detached (length 0) when the hook that made them returns, or when that buffer is
  // changed. Throw ETS_ERR_NOT_IN_HOOK when the buffer does not exist now. ----

  bufferLength(slot: number, gen: number, buffer: BufferKind): number;
  bufferChunks(slot: number, gen: number, buffer: BufferKind): Uint8Array[];
  drainBuffer(slot: number, gen: number, buffer: BufferKind, length: number): void;
  /** HTTP bodies have no prepend in Envoy: the native side copies the held bytes behind `data`. */
  prependBuffer(slot: number, gen: number, buffer: BufferKind, data: Uint8Array): void;
  appendBuffer(slot: number, gen: number, buffer: BufferKind, data: Uint8Array): void;

  // ---- Connections (network filters). ----
  /** Write to the client (through the write filters). */
  connectionWrite(slot: number, gen: number, data: Uint8Array, endStream: boolean): void;
  /** Hand bytes to the read filters after this one. */
  injectRead(slot: number, gen: number, data: Uint8Array, endStream: boolean): void;
  continueReading(slot: number, gen: number): void;
  closeConnection(slot: number, gen: number, type: CloseType): void;
  readDisable(slot: number, gen: number, disabled: boolean): void;
  /** [id, remoteAddress, remotePort, localAddress, localPort, ssl, serverName | undefined] */
  connectionInfo(slot: number, gen: number): [number, string, number, string, number, boolean, string | undefined];
  /** Record a metric of the stream's config: `index` into its describeMetrics() list; one label
   *  value per declared label name, in declaration order. */
  metric(slot: number, gen: number, index: number, op: MetricOp, value: number, labels: string[]): void;
  /** Where onHook and onResume leave the stream's built-in stats: [index, op, value] triples of
   *  label-less metrics of the stream's config. The native side sums them per stream (a histogram
   *  record too: one sample per stream) and records them when the stream completes. Called again
   *  with a bigger array when one is needed. */
  setStatsBuffer(records: Float64Array): void;
  /** Where stampClock() leaves the time: called once, with a Float64Array over its own
   *  ArrayBuffer (its memory must not move). */
  setClockCell(cell: Float64Array): void;
  /** Leaves microseconds of a monotonic clock (any origin) in the clock cell's first element:
   *  what the built-in hook stats time with. */
  stampClock(): void;
  /** The script ctx.offload runs its tasks through so that pool threads wake the waiting stream
   *  themselves as a task ends (envoy-ts-offload-runner.js, next to the module), or undefined
   *  (logged at debug, with why) when they cannot: the main thread's environment, inspect mode, or
   *  the script missing. */
  offloadRunner(): string | undefined;
  /** [wake-ups pool threads asked for, events those threads committed on a waiting stream's
   *  scheduler] since the environment started. */
  offloadCounts(): [number, number];
  /** The environment's crossing frame (CrossingFrame in codes.ts): where the native side puts the
   *  arguments of onHook() and onResume(). Called once, with a Uint32Array over its own
   *  ArrayBuffer (its memory must not move). */
  setCrossingFrame(frame: Uint32Array): void;
  /** Node's tick info (internalBinding('task_queue').tickInfo: [a nextTick callback is queued, a
   *  rejection waits to be reported]), read after calls to know whether drainTicks() is needed. */
  setTickInfo(tickInfo: Uint8Array): void;
  /** The environment's watch slots (WatchSlot in codes.ts), read by the CPU watchdog. Called once,
   *  with an Int32Array over its own ArrayBuffer (its memory must not move). */
  setWatchSlots(slots: Int32Array): void;
  /** Process-wide counters shared by every worker: add and return the new value. */
  sharedCounterAdd(key: string, delta: number): number;
  sharedCounterGet(key: string): number;
  /** Process-wide token bucket: take `cost` tokens; 0 when taken, else milliseconds until they
   *  would be there. */
  sharedTokensTake(key: string, ratePerSecond: number, burst: number, cost: number): number;
  /** Process-wide key-value store (proxy-wasm shared data; keys latin1): [a copy of the value, its
   *  compare-and-swap version (never 0)], or undefined. */
  sharedDataGet(key: string): [Uint8Array, number] | undefined;
  /** Store `value` unless `cas` is non-zero and not the key's current version (then false). */
  sharedDataSet(key: string, value: Uint8Array, cas: number): boolean;
  /** Process-wide queues (proxy-wasm shared queues), named by (vm id, name): the queue's token,
   *  created on first registration (never 0). */
  sharedQueueRegister(vmId: string, name: string): number;
  /** The token of a registered queue, or 0. */
  sharedQueueResolve(vmId: string, name: string): number;
  /** Append a copy of `item`; false for an unknown token. */
  sharedQueueEnqueue(token: number, item: Uint8Array): boolean;
  /** The item at the front (removed), null when the queue is empty, undefined for an unknown token. */
  sharedQueueDequeue(token: number): Uint8Array | null | undefined;
  /** Items waiting, or -1 for an unknown token. */
  sharedQueueLength(token: number): number;

  /** Write to Envoy's log (dynamic_modules logger). */
  log(level: NativeLogLevel, message: string): void;
  /** Whether a level is enabled; check before building an expensive message. */
  logEnabled(level: NativeLogLevel): boolean;
}
