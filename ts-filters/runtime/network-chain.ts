// Running a network chain's hooks over its filters. onNewConnection and onData run in chain order
// and may hold the data (StopIteration) or wait on a promise (the native side keeps reading
// stopped; once it settled, onResume goes on after that filter). onWrite runs in reverse order and
// synchronously (Envoy cannot pause writes); onClose runs for every filter that has it.

import { NetworkStatus } from '../api/network-filter';
import { LogLevel, NetworkEvent, NetworkHookKind, NetworkOutcome } from './codes';
import type { LoadedNetworkFilter } from './config';
import { statusOf, type ConnectionState, type PendingNetworkHook } from './connection';
import { CONTINUE_CHAIN, applyNetworkFailure } from './failure';
import { RUNTIME_PREFIX, describeError, filterPrefix, writeLog } from './log';
import type { HookOutcome as NativeHookOutcome, NetworkEvent as NativeNetworkEvent,
  NetworkHookKind as NativeNetworkHookKind } from './native';

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && typeof value === 'object' &&
    typeof (value as PromiseLike<unknown>).then === 'function';
}

function hookNameOf(hook: NativeNetworkHookKind): string {
  return hook === NetworkHookKind.NewConnection ? 'onNewConnection' : 'onData';
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
    try {
      result = isConnect
        ? definition.onNewConnection?.call(definition, ctx)
        : definition.onData?.call(definition, state.readBuffer, state.endOfStream, ctx);
      if (!isThenable(result)) {
        if (statusOf(result) === NetworkStatus.StopIteration) return NetworkOutcome.Stop;
        continue;
      }
    } catch (error) {
      const outcome = applyNetworkFailure(state, filter, hookNameOf(hook), 'threw', error);
      if (outcome === CONTINUE_CHAIN) continue;
      return outcome;
    }
    const pending: PendingNetworkHook = { hook, filter, position: i, settled: false, failed: false, result: undefined };
    state.pending = pending;
    result.then((value) => settle(state, pending, false, value), (error: unknown) => settle(state, pending, true, error));
    return NetworkOutcome.Pending;
  }
  return NetworkOutcome.Continue;
}

function settle(state: ConnectionState, pending: PendingNetworkHook, failed: boolean, result: unknown): void {
  if (state.pending !== pending || state.closed) return;
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
    for (const filter of state.config.writeChain) {
      const definition = filter.definition;
      try {
        const result: unknown = definition.onWrite?.call(definition, state.writeBuffer, state.endOfStream,
                                                         state.contextFor(filter));
        if (isThenable(result)) {
          result.then(undefined, () => undefined);  // its outcome cannot matter any more
          throw new TypeError('onWrite must be synchronous: Envoy cannot pause the write path ' +
                              '(do asynchronous work in onData)');
        }
        if (statusOf(result) === NetworkStatus.StopIteration) return NetworkOutcome.Stop;
      } catch (error) {
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
  for (const filter of state.config.closeChain) {
    const definition = filter.definition;
    try {
      definition.onClose?.call(definition, which, state.contextFor(filter));
    } catch (error) {
      writeLog(state.binding, LogLevel.Error, filterPrefix(filter.name), `onClose threw: ${describeError(error)}`, []);
    }
  }
}
