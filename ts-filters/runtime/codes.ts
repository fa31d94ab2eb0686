// Names for the numeric codes of the native contract (native.d.ts, native/bridge/codes.h).

import type {
  HeaderMapKind as NativeHeaderMapKind,
  HookKind as NativeHookKind,
  HookOutcome as NativeHookOutcome,
  NativeLogLevel,
} from './native';

/** Which hook onHook runs. */
export const HookKind = {
  RequestHeaders: 0,
  ResponseHeaders: 1,
} as const satisfies Record<string, NativeHookKind>;

/** Which header map a binding call addresses (Envoy's http_header_type). */
export const HeaderMapKind = {
  RequestHeaders: 0,
  RequestTrailers: 1,
  ResponseHeaders: 2,
  ResponseTrailers: 3,
} as const satisfies Record<string, NativeHeaderMapKind>;

/** What a hook or a resumed stream tells the native side. */
export const HookOutcome = {
  Continue: 0,
  Pending: 1,
  Replied: 2,
} as const satisfies Record<string, NativeHookOutcome>;

/** Envoy log levels. */
export const LogLevel = {
  Trace: 0,
  Debug: 1,
  Info: 2,
  Warn: 3,
  Error: 4,
  Critical: 5,
} as const satisfies Record<string, NativeLogLevel>;

/** What happens to a stream when one of its filters throws or rejects. */
export const FailurePolicy = {
  Closed: 'closed',
  Open: 'open',
} as const;

export type FailurePolicy = (typeof FailurePolicy)[keyof typeof FailurePolicy];

/** Status, body and response-code details of the local reply sent by the "closed" policy. */
export const FAILURE_REPLY = {
  status: 500,
  body: 'internal error',
  details: 'envoy_ts_filter_failed',
} as const;

/** Default response-code details of `ctx.respond()`. */
export const DEFAULT_REPLY_DETAILS = 'envoy_ts_local_reply';
