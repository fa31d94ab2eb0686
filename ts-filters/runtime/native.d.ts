// The native binding, as the C++ side (native/bridge) installs it in every Node environment it
// embeds: `process._linkedBinding('envoy_ts')`. This file is the one declaration of that contract.
//
// Streams are addressed by (slot, gen): `slot` indexes the environment's stream table and `gen` is
// the generation the stream got when it was created. Every stream call checks both and throws an
// Error with code 'ETS_ERR_STREAM_CLOSED' once the stream is gone, so JS never reaches freed memory.

// Numeric codes shared with native/bridge. The runtime names them with `as const` objects
// (ts-filters/runtime/codes.ts); the values here and in native/bridge/codes.h must agree.

/** Which hook onHook runs: 0 request headers, 1 response headers. */
export type HookKind = 0 | 1;

/** Which header map a call addresses (Envoy's http_header_type): 0 request headers,
 *  1 request trailers, 2 response headers, 3 response trailers. */
export type HeaderMapKind = 0 | 1 | 2 | 3;

/** What a hook, or a resumed stream, tells the native side:
 *  0 Continue — go on with the filter chain (Continue / continue_decoding / continue_encoding);
 *  1 Pending — a promise is pending; the stream stays stopped until requestResume() + onResume();
 *  2 Replied — sendLocalReply was called during this call; the stream stops. */
export type HookOutcome = 0 | 1 | 2;

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
  loadConfig(configId: number, json: string): string | undefined;
  /** The config is gone: drop it. */
  unloadConfig(configId: number): void;
  /** Run one hook of the config's chain for a stream. A stream's first call creates its state. */
  onHook(configId: number, slot: number, gen: number, hook: HookKind, endOfStream: boolean): HookOutcome;
  /** Called inside the stream's own scheduled callback after requestResume(): apply the decision. */
  onResume(slot: number, gen: number): HookOutcome;
  /** The stream is gone (completed, reset or destroyed): abort pending work and drop its state. */
  onDestroy(slot: number, gen: number): void;
}

export interface NativeBinding {
  /** True in the main-thread environment, which validates configs and never sees streams. */
  readonly isMainThread: boolean;
  setDispatcher(dispatcher: Dispatcher): void;

  /** First value of a header (names are lowercase), or undefined. Values are latin1 strings. */
  getHeader(slot: number, gen: number, map: HeaderMapKind, name: string): string | undefined;
  /** Every value of a header, in order. */
  getHeaderValues(slot: number, gen: number, map: HeaderMapKind, name: string): string[];
  /** All entries of a map as a flat [name0, value0, name1, value1, ...] list, in order. */
  getHeaders(slot: number, gen: number, map: HeaderMapKind): string[];
  /** Replace every value of `name`. */
  setHeader(slot: number, gen: number, map: HeaderMapKind, name: string, value: string): void;
  /** Append one value of `name`. */
  addHeader(slot: number, gen: number, map: HeaderMapKind, name: string, value: string): void;
  /** Remove every value of `name`. */
  removeHeader(slot: number, gen: number, map: HeaderMapKind, name: string): void;

  /**
   * Send a local reply. Only legal while this stream's onHook or onResume is on the stack;
   * otherwise throws 'ETS_ERR_NOT_IN_HOOK'. `headers` is a flat [name, value, ...] list.
   */
  sendLocalReply(slot: number, gen: number, status: number, headers: string[], body: string,
                 details: string): void;
  /**
   * Ask for onResume(slot, gen) to be called inside the stream's scheduled callback. Call it once
   * the stream's pending work has settled. A stream that is gone ignores it.
   */
  requestResume(slot: number, gen: number): void;

  /** Write to Envoy's log (dynamic_modules logger). */
  log(level: NativeLogLevel, message: string): void;
  /** Whether a level is enabled; check before building an expensive message. */
  logEnabled(level: NativeLogLevel): boolean;
}
