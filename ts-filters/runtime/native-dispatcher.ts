// The Dispatcher the native side calls, over the runtime's entries (dispatcher.ts). The hot ones,
// onHook() and onResume(), take no arguments: the native side writes them into the environment's
// crossing frame (CrossingFrame in codes.ts), and reads back how many stats triples the stream's
// hooks left in the stats buffer.

import { CrossingFrame } from './codes';
import type { Runtime } from './dispatcher';
import type { Dispatcher, HookKind as NativeHookKind, HookOutcome as NativeHookOutcome, NativeBinding } from './native';

/** How entries are entered: the embedded runtime's bookkeeping around each call from native. */
export interface EntryGuard {
  /** Wraps an entry the native side calls. */
  wrap<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R;
  /** The CPU watchdog stopped the running entries: what the outermost one had already returned
   *  (it was stopped afterwards, in its way out), if it had. Entering starts afresh. */
  stopped(): NativeHookOutcome | undefined;
}

/** No bookkeeping: the test kit calls entries like plain functions. */
export const PLAIN_ENTRIES: EntryGuard = {
  wrap: (fn) => fn,
  stopped: () => undefined,
};

/** The Dispatcher for `runtime`, registered with `binding` together with its crossing frame. */
export function nativeDispatcher(runtime: Runtime, binding: NativeBinding, guard: EntryGuard): Dispatcher {
  const frame = new Uint32Array(CrossingFrame.Length);
  binding.setCrossingFrame(frame);
  const { wrap } = guard;
  // The arguments are read before anything runs: a nested call (a hook Envoy runs from inside a
  // binding call) writes the frame again.
  const hook = wrap((slot: number, gen: number): NativeHookOutcome =>
    runtime.onHook(frame[CrossingFrame.ConfigId] as number, slot, gen, frame[CrossingFrame.Hook] as NativeHookKind,
                   frame[CrossingFrame.Flags] as number, frame[CrossingFrame.RouteConfigId] as number));
  const resume = wrap(runtime.onResume);
  const budgetExceeded = wrap(runtime.onBudgetExceeded);
  // Taken once the entry returned, past anything its way out ran: nothing can overwrite them
  // before the native side reads them.
  const leaveStats = (slot: number, gen: number): void => {
    frame[CrossingFrame.StatsRecords] = runtime.takeStreamStats(slot, gen);
  };
  return {
    loadConfig: wrap(runtime.loadConfig),
    reloadConfig: wrap(runtime.reloadConfig),
    bundleOf: wrap(runtime.bundleOf),
    unloadConfig: wrap(runtime.unloadConfig),
    describeMetrics: wrap(runtime.describeMetrics),
    hookMask: wrap(runtime.hookMask),
    failOpen: wrap(runtime.failOpen),
    onHook: (): NativeHookOutcome => {
      const slot = frame[CrossingFrame.Slot] as number;
      const gen = frame[CrossingFrame.Gen] as number;
      const outcome = hook(slot, gen);
      leaveStats(slot, gen);
      return outcome;
    },
    onNetworkHook: wrap(runtime.onNetworkHook),
    onNetworkEvent: wrap(runtime.onNetworkEvent),
    onCalloutDone: wrap(runtime.onCalloutDone),
    onFetchStream: wrap(runtime.onFetchStream),
    onResume: (): NativeHookOutcome => {
      const slot = frame[CrossingFrame.Slot] as number;
      const gen = frame[CrossingFrame.Gen] as number;
      const outcome = resume(slot, gen);
      leaveStats(slot, gen);
      return outcome;
    },
    onDestroy: wrap(runtime.onDestroy),
    onBudgetExceeded: (slot, gen, budgetMs, stack): NativeHookOutcome => {
      const outcome = budgetExceeded(slot, gen, budgetMs, stack, guard.stopped());
      if (gen !== 0) leaveStats(slot, gen);
      return outcome;
    },
  };
}
