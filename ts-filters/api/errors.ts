// Typed, coded errors. Every error envoy-ts raises on purpose has a stable `code`; errors thrown by
// the native binding carry the same codes (as plain Errors with a `code` property).

/** Every code an envoy-ts error can carry. */
export type EnvoyTsErrorCode =
  | 'ETS_ERR_STREAM_CLOSED'
  | 'ETS_ERR_CONFIG'
  | 'ETS_ERR_NOT_IN_HOOK'
  | 'ETS_ERR_INVALID_STATE'
  | 'ETS_ERR_FETCH'
  | 'ETS_ERR_CPU_BUDGET'
  | 'ETS_ERR_TIMEOUT'
  | 'ETS_ERR_PROCESS_GUARD'
  | 'ETS_ERR_CAPABILITY';

/** Base class of the errors envoy-ts throws; narrow on `code`. */
export abstract class EnvoyTsError extends Error {
  /** Stable, machine-readable code. */
  abstract readonly code: EnvoyTsErrorCode;
}

/** The stream is gone (completed, reset or destroyed): its views and replies can no longer be used. */
export class StreamClosedError extends EnvoyTsError {
  override readonly name = 'StreamClosedError';
  readonly code = 'ETS_ERR_STREAM_CLOSED';
  constructor(message = 'the stream is closed', options?: ErrorOptions) {
    super(message, options);
  }
}

/** A filter config was rejected (thrown from `parseConfig`, or by the runtime while loading a chain). */
export class ConfigError extends EnvoyTsError {
  override readonly name = 'ConfigError';
  readonly code = 'ETS_ERR_CONFIG';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/** An operation that needs a running hook (or a pending one of the same filter) was called outside it. */
export class NotInHookError extends EnvoyTsError {
  override readonly name = 'NotInHookError';
  readonly code = 'ETS_ERR_NOT_IN_HOOK';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/** An operation is not valid in the stream's current state (e.g. a second `respond()`). */
export class InvalidStateError extends EnvoyTsError {
  override readonly name = 'InvalidStateError';
  readonly code = 'ETS_ERR_INVALID_STATE';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/** `ctx.fetch()` failed: Envoy could not start it, the upstream reset mid-response, or the response
 *  was over the buffer limit. */
export class FetchError extends EnvoyTsError {
  override readonly name = 'FetchError';
  readonly code = 'ETS_ERR_FETCH';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/** A filter's JavaScript ran past its CPU budget (`cpuBudgetMs`) and the watchdog stopped it. */
export class CpuBudgetError extends EnvoyTsError {
  override readonly name = 'CpuBudgetError';
  readonly code = 'ETS_ERR_CPU_BUDGET';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/** A hook's promise did not settle within its `asyncTimeoutMs`. */
export class TimeoutError extends EnvoyTsError {
  override readonly name = 'TimeoutError';
  readonly code = 'ETS_ERR_TIMEOUT';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/** A filter reached for the process, which belongs to Envoy: `process.exit()`, `process.kill()` of the
 *  proxy, `process.abort()`, `process.chdir()`, uid/gid changes, an uncaught-exception capture callback. */
export class ProcessGuardError extends EnvoyTsError {
  override readonly name = 'ProcessGuardError';
  readonly code = 'ETS_ERR_PROCESS_GUARD';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/** A filter used a capability its filter_config does not grant (child processes, worker threads,
 *  `process.env` writes, file system writes); the message names the `capabilities` switch. */
export class CapabilityError extends EnvoyTsError {
  override readonly name = 'CapabilityError';
  readonly code = 'ETS_ERR_CAPABILITY';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/**
 * Whether `error` is an envoy-ts error, optionally with a given code. Unlike `instanceof`, this also
 * recognises errors thrown by the native binding and by another bundle's copy of these classes.
 */
export function isEnvoyTsError<K extends EnvoyTsErrorCode>(
  error: unknown,
  code?: K,
): error is Error & { readonly code: K } {
  if (!(error instanceof Error)) return false;
  const actual: unknown = (error as { code?: unknown }).code;
  if (typeof actual !== 'string') return false;
  return code === undefined ? actual.startsWith('ETS_ERR_') : actual === code;
}
