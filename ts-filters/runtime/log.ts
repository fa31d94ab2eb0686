// Logging through the binding: level check first, formatting only when the level is on.

import { inspect } from 'util';

import type { Logger } from '../api/types';
import { LogLevel } from './codes';
import type { NativeBinding, NativeLogLevel } from './native';
import { ArrayPrototypeConcat, ReflectApply, StringPrototypeSlice, StringPrototypeStartsWith, utilFormat } from './primordials';

/** Prefix of every line the runtime itself writes. */
export const RUNTIME_PREFIX = '[envoy-ts] ';

/** The prefix of a filter's lines. */
export function filterPrefix(filterName: string): string {
  return `[envoy-ts][filter=${filterName}] `;
}

/** Write one line if `level` is enabled. Never throws. */
export function writeLog(binding: NativeBinding, level: NativeLogLevel, prefix: string,
                         message: string, args: readonly unknown[]): void {
  try {
    if (!binding.logEnabled(level)) return;
    binding.log(level, prefix + (args.length === 0 ? String(message)
      : ReflectApply(utilFormat, undefined, ArrayPrototypeConcat([message], args)) as string));
  } catch {
    // Logging must never turn into a filter failure.
  }
}

/** A Logger whose lines start with `prefix`. Its methods do not depend on `this`. */
export function createLogger(binding: NativeBinding, prefix: string): Logger {
  return {
    trace: (message, ...args) => writeLog(binding, LogLevel.Trace, prefix, message, args),
    debug: (message, ...args) => writeLog(binding, LogLevel.Debug, prefix, message, args),
    info: (message, ...args) => writeLog(binding, LogLevel.Info, prefix, message, args),
    warn: (message, ...args) => writeLog(binding, LogLevel.Warn, prefix, message, args),
    error: (message, ...args) => writeLog(binding, LogLevel.Error, prefix, message, args),
  };
}

/** The most useful text for an error: its stack when it has one, with its code after its name as
 *  Node writes its own (`ProcessGuardError [ETS_ERR_PROCESS_GUARD]: ...`). */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return inspect(error);
  const text = error.stack ?? `${error.name}: ${error.message}`;
  const code: unknown = (error as { code?: unknown }).code;
  const head = `${error.name}: `;
  if (typeof code !== 'string' || !StringPrototypeStartsWith(text, head)) return text;
  return `${error.name} [${code}]: ${StringPrototypeSlice(text, head.length)}`;
}

/** An error's message (for config errors, where a stack would be noise). */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return typeof error === 'string' ? error : inspect(error);
}
