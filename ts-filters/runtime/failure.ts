// The failure policy, in one place: a filter that throws or rejects poisons its stream; "closed"
// answers with a 500 local reply (HTTP) or closes the connection (network), "open" logs and lets
// the chain continue with the next filter.

import { CpuBudgetError, TimeoutError } from '../api/errors';
import { CloseType, FAILURE_REPLY, FailurePolicy, HookOutcome, LogLevel, MetricOp, NetworkOutcome } from './codes';
import type { ChainLink, LoadedFilter, LoadedNetworkFilter } from './config';
import type { ConnectionState } from './connection';
import { RUNTIME_PREFIX, describeError, filterPrefix, writeLog } from './log';
import { recordBuiltin } from './metrics';
import type { HookOutcome as NativeHookOutcome, NativeBinding } from './native';
import type { StreamState } from './stream';

/** applyFailure's answer under the "open" policy: run the next filter of the current hook. */
export const CONTINUE_CHAIN = -1;

/** The error a pending hook fails with when its promise is pending past `ms` (asyncTimeoutMs). */
export function asyncTimeoutError(hookName: string, ms: number): TimeoutError {
  return new TimeoutError(`${hookName}'s promise did not settle within ${ms} ms (asyncTimeoutMs)`);
}

/** How a hook failed: it threw, its promise rejected (or timed out), or the CPU watchdog stopped it. */
export type FailureVerb = 'threw' | 'rejected' | 'was stopped';

/**
 * A filter's hook threw (or its promise rejected, or it was stopped): log it with the filter's
 * name and the stack, poison the stream (later hooks do not run), and apply the config's policy.
 */
export function applyFailure(stream: StreamState, link: ChainLink, verb: FailureVerb,
                             error: unknown): NativeHookOutcome | typeof CONTINUE_CHAIN {
  stream.poisoned = true;
  stream.reply = undefined;
  writeLog(stream.binding, LogLevel.Error, filterPrefix(link.filter.name),
           `${link.hookName} ${verb}: ${describeError(error)}`, []);
  countFailure(stream, link.filter, error);
  if (stream.config.failurePolicy === FailurePolicy.Open) return CONTINUE_CHAIN;
  return sendFailureReply(stream);
}

/** Bump the filter's failure counter (envoy_ts.filter_failures / envoy_ts.<filter>.failures), and
 *  the counter of stopped hooks or of timeouts when that is what happened. */
function countFailure(target: { readonly binding: NativeBinding; readonly slot: number; readonly gen: number;
                                readonly closed: boolean }, filter: LoadedFilter, error: unknown): void {
  const count = ({ index, labels }: LoadedFilter['failures']): void =>
    recordBuiltin(target, index, MetricOp.Increment, 1, labels.length === 0 ? [] : [filter.name],
                  'counting a failure failed');
  count(filter.failures);
  if (error instanceof CpuBudgetError) count(filter.cpuBudgetExceeded);
  else if (error instanceof TimeoutError) count(filter.asyncTimeouts);
}

/**
 * Answer the stream with the generic 500 of the "closed" policy. When a local reply was already
 * sent (its response is what is failing), Envoy cannot send another one: let that reply go on.
 */
export function sendFailureReply(stream: StreamState): NativeHookOutcome {
  stream.poisoned = true;
  stream.reply = undefined;
  if (stream.closed) return HookOutcome.Continue;
  if (stream.replied) return HookOutcome.Continue;
  stream.replied = true;
  try {
    stream.binding.sendLocalReply(stream.slot, stream.gen, FAILURE_REPLY.status, [], FAILURE_REPLY.body,
                                  FAILURE_REPLY.details);
  } catch (error) {
    writeLog(stream.binding, LogLevel.Error, RUNTIME_PREFIX,
             `sendLocalReply for the failure policy failed: ${describeError(error)}`, []);
  }
  return HookOutcome.Replied;
}

/**
 * A network filter's hook threw (or its promise rejected): log it, then "open" lets the data pass
 * untouched from now on (the connection is poisoned) and "closed" closes the connection.
 */
export function applyNetworkFailure(state: ConnectionState, filter: LoadedNetworkFilter, hookName: string,
                                    verb: FailureVerb, error: unknown):
    NativeHookOutcome | typeof CONTINUE_CHAIN {
  state.poisoned = true;
  writeLog(state.binding, LogLevel.Error, filterPrefix(filter.name), `${hookName} ${verb}: ${describeError(error)}`, []);
  countFailure(state, filter, error);
  if (state.config.failurePolicy === FailurePolicy.Open) return CONTINUE_CHAIN;
  if (!state.closed) {
    try {
      state.binding.closeConnection(state.slot, state.gen, CloseType.NoFlush);
    } catch (closeError) {
      writeLog(state.binding, LogLevel.Error, RUNTIME_PREFIX,
               `closing the connection for the failure policy failed: ${describeError(closeError)}`, []);
    }
  }
  return NetworkOutcome.Stop;
}
