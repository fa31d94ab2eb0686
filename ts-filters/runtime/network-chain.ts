// Running a network chain's hooks over its filters. onNewConnection and onData run in chain order
// and may hold the data (StopIteration) or wait on a promise (the native side keeps reading
// stopped; once it settled, onResume goes on after that filter). onWrite runs in reverse order and
// synchronously (Envoy cannot pause writes); onClose runs for every filter that has it.

import { NetworkStatus } from '../api/network-filter';
import { LogLevel, NetworkEvent, NetworkHookKind, NetworkOutcome } from './codes';
import type { LoadedNetworkFilter } from './config';
import { statusOf, type ConnectionState, type PendingNetworkHook } from './connection';
import { startSection } from './cpu-budget';
import { CONTINUE_CHAIN, applyNetworkFailure, asyncTimeoutError } from './failure';
import { RUNTIME_PREFIX, describeError, filterPrefix, writeLog } from './log';
import type { HookOutcome as NativeHookOutcome, NetworkEvent as NativeNetworkEvent,
  NetworkHookKind as NativeNetworkHookKind } from './native';
import { ReflectApply, clearTimeout, setTimeout, thenOf } from './primordials';

// A filter's hook, if it has one, called without Function.prototype.call (bundle code may replace it).
function callHook(hook: ((...args: never[]) => unknown) | undefined, definition: object, args: unknown[]): unknown {
  return hook === undefined ? undefined : ReflectApply(hook, definition, args);
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && typeof value === 'object' &&
    typeof (value as PromiseLike<unknown>).then === 'function';
}

export function hookNameOf(hook: NativeNetworkHookKind): string {
  return hook === NetworkHookKind.NewConnection ? 'onNewConnection' : hook === NetworkHookKind.Data ? 'onData' : 'onWrite';
}

/**
 * The network filter hook running now, if any: when the CPU watchdog stops JavaScript, this is the
 * hook that ran over (nothing resets it then), and the failure policy applies to its connection.
 */
export const runningNetworkHook: { state: ConnectionState | undefined; filter: LoadedNetworkFilter | undefined;
                                   hook: NativeNetworkHookKind; position: number } =
  { state: undefined, filter: undefined, hook: 0, position: 0 };

function enterRunning(state: ConnectionState, filter: LoadedNetworkFilter, hook: NativeNetworkHookKind,
                      position: number): void {
  runningNetworkHook.state = state;
  runningNetworkHook.filter = filter;
  runningNetworkHook.hook = hook;
  runningNetworkHook.position = position;
  startSection(state.config.watchSlots, filter.cpuBudgetMs);
}

function leaveRunning(): void {
  runningNetworkHook.state = undefined;
  runningNetworkHook.filter = undefined;
}

/** Run onNewConnection or onData for the chain's filters from position `from`. */
export function runNetworkChain(state: ConnectionState, hook: NativeNetworkHookKind, from: number): NativeHookOutcome {
  const isConnect = hook === NetworkHookKind.NewConnection;
  const chain = isConnect ? state.config.connectChain : state.config.dataChain;
  for (let i = from; i < chain.length; i++) {
    const filter = chain[i] as LoadedNetworkFilter;
    const definition = filter.definition;
    const ctx = state.contextFor(filter);
    let result: unknown;
    enterRunning(state, filter, hook, i);
    try {
      result = isConnect
        ? callHook(definition.onNewConnection, definition, [ctx])
        : callHook(definition.onData, definition, [state.readBuffer, state.endOfStream, ctx]);
      leaveRunning();
      if (!isThenable(result)) {
        if (statusOf(result) === NetworkStatus.StopIteration) return NetworkOutcome.Stop;
        continue;
      }
    } catch (error) {
      leaveRunning();
      const outcome = applyNetworkFailure(state, filter, hookNameOf(hook), 'threw', error);
      if (outcome === CONTINUE_CHAIN) continue;
      return outcome;
    }
    const pending: PendingNetworkHook = { hook, filter, position: i, settled: false, failed: false, result: undefined,
                                          timer: undefined };
    if (filter.asyncTimeoutMs > 0) pending.timer = setTimeout(timeOut, filter.asyncTimeoutMs, state, pending);
    state.pending = pending;
    thenOf(result, (value) => settle(state, pending, false, value), (error: unknown) => settle(state, pending, true, error));
    return NetworkOutcome.Pending;
  }
  return NetworkOutcome.Continue;
}

/** A pending hook's promise did not settle within its filter's asyncTimeoutMs: its work is aborted
 *  (ctx.signal) and the connection gets the failure policy. */
function timeOut(state: ConnectionState, pending: PendingNetworkHook): void {
  if (state.pending !== pending || state.closed || pending.settled) return;
  const error = asyncTimeoutError(hookNameOf(pending.hook), pending.filter.asyncTimeoutMs);
  settle(state, pending, true, error);
  state.abortSignal(error);
}

function settle(state: ConnectionState, pending: PendingNetworkHook, failed: boolean, result: unknown): void {
  if (state.pending !== pending || state.closed || pending.settled) return;
  if (pending.timer !== undefined) clearTimeout(pending.timer);
  pending.settled = true;
  pending.failed = failed;
  pending.result = result;
  try {
    state.binding.requestResume(state.slot, state.gen);
  } catch (error) {
    writeLog(state.binding, LogLevel.Debug, RUNTIME_PREFIX,
             `requestResume(${state.slot}, ${state.gen}) failed: ${describeError(error)}`, []);
  }
}

/** Apply a settled pending hook (inside the connection's scheduled callback). */
export function resumeNetworkChain(state: ConnectionState): NativeHookOutcome {
  const pending = state.pending;
  if (pending === undefined || !pending.settled) return NetworkOutcome.Pending;
  state.pending = undefined;
  const hookName = hookNameOf(pending.hook);
  if (pending.failed) {
    const outcome = applyNetworkFailure(state, pending.filter, hookName, 'rejected', pending.result);
    if (outcome !== CONTINUE_CHAIN) return outcome;
  } else {
    try {
      if (statusOf(pending.result) === NetworkStatus.StopIteration) return NetworkOutcome.Stop;
    } catch (error) {
      const outcome = applyNetworkFailure(state, pending.filter, hookName, 'threw', error);
      if (outcome !== CONTINUE_CHAIN) return outcome;
    }
  }
  return runNetworkChain(state, pending.hook, pending.position + 1);
}

/** Run onWrite for the chain's filters, in reverse chain order, while the write buffer exists. */
export function runWriteChain(state: ConnectionState): NativeHookOutcome {
  state.inWriteHook = true;
  try {
    const chain = state.config.writeChain;
    for (let i = 0; i < chain.length; i++) {
      const filter = chain[i] as LoadedNetworkFilter;
      const definition = filter.definition;
      try {
        enterRunning(state, filter, NetworkHookKind.Write, 0);
        const result: unknown = callHook(definition.onWrite, definition,
                                         [state.writeBuffer, state.endOfStream, state.contextFor(filter)]);
        leaveRunning();
        if (isThenable(result)) {
          thenOf(result, () => undefined, () => undefined);  // its outcome cannot matter any more
          throw new TypeError('onWrite must be synchronous: Envoy cannot pause the write path ' +
                              '(do asynchronous work in onData)');
        }
        if (statusOf(result) === NetworkStatus.StopIteration) return NetworkOutcome.Stop;
      } catch (error) {
        leaveRunning();
        const outcome = applyNetworkFailure(state, filter, 'onWrite', 'threw', error);
        if (outcome === CONTINUE_CHAIN) continue;
        return outcome;
      }
    }
    return NetworkOutcome.Continue;
  } finally {
    state.inWriteHook = false;
  }
}

/** Tell every filter with onClose that the connection closed. Errors are logged, nothing more. */
export function runCloseChain(state: ConnectionState, event: NativeNetworkEvent): void {
  const which = event === NetworkEvent.RemoteClose ? 'remote' : 'local';
  const chain = state.config.closeChain;
  for (let i = 0; i < chain.length; i++) {
    const filter = chain[i] as LoadedNetworkFilter;
    const definition = filter.definition;
    try {
      callHook(definition.onClose, definition, [which, state.contextFor(filter)]);
    } catch (error) {
      writeLog(state.binding, LogLevel.Error, filterPrefix(filter.name), `onClose threw: ${describeError(error)}`, []);
    }
  }
}
