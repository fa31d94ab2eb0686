// The Dispatcher the native side calls, over the runtime's entries (dispatcher.ts). The hot ones,
// onHook() and onResume(), take no arguments: the native side writes them into the environment's
// crossing frame (CrossingFrame in codes.ts), and reads back the stream's wait and how many stats
// triples its hooks left in the stats buffer.

import { CrossingFrame } from './codes';
import type { Runtime } from './dispatcher';
import type { Dispatcher, HookKind as NativeHookKind, HookOutcome as NativeHookOutcome, NativeBinding } from './native';

/** What the embedded runtime adds around the entries (tick-queue.ts, async-context.ts). */
export interface EntryExits {
  /** Dispatcher.drainTicks. */
  drainTicks(): void;
  /** The CPU watchdog stopped the running JavaScript: Node's async context stack is left as it
   *  was when it stopped. */
  afterStop(): void;
}

/** The test kit's: plain Node drains its own queues. */
export const PLAIN_NODE: EntryExits = {
  drainTicks: () => undefined,
  afterStop: () => undefined,
};

/** The Dispatcher for `runtime`, registered with `binding` together with its crossing frame. */
export function nativeDispatcher(runtime: Runtime, binding: NativeBinding, exits: EntryExits): Dispatcher {
  // Its own ArrayBuffer: the memory does not move (small typed arrays may live in the JS heap).
  const frame = new Uint32Array(new ArrayBuffer(CrossingFrame.Length * Uint32Array.BYTES_PER_ELEMENT));
  binding.setCrossingFrame(frame);
  // Arguments are read before anything runs (a nested call, a hook Envoy runs from inside a
  // binding call, writes the frame again); the report once the entry is done: the stream's wait,
  // then its stats (taking them drops a completed stream).
  const leaveReport = (slot: number, gen: number): void => {
    frame[CrossingFrame.Waiting] = runtime.waitOf(slot, gen);
    frame[CrossingFrame.StatsRecords] = runtime.takeStreamStats(slot, gen);
  };
  return {
    loadConfig: runtime.loadConfig,
    reloadConfig: runtime.reloadConfig,
    bundleOf: runtime.bundleOf,
    unloadConfig: runtime.unloadConfig,
    describeMetrics: runtime.describeMetrics,
    hookMask: runtime.hookMask,
    failOpen: runtime.failOpen,
    onHook: (): NativeHookOutcome => {
      const slot = frame[CrossingFrame.Slot] as number;
      const gen = frame[CrossingFrame.Gen] as number;
      const outcome = runtime.onHook(frame[CrossingFrame.ConfigId] as number, slot, gen,
                                     frame[CrossingFrame.Hook] as NativeHookKind, frame[CrossingFrame.Flags] as number,
                                     frame[CrossingFrame.RouteConfigId] as number);
      leaveReport(slot, gen);
      return outcome;
    },
    onNetworkHook: runtime.onNetworkHook,
    onNetworkEvent: runtime.onNetworkEvent,
    onCalloutDone: runtime.onCalloutDone,
    onFetchStream: runtime.onFetchStream,
    onResume: (): NativeHookOutcome => {
      const slot = frame[CrossingFrame.Slot] as number;
      const gen = frame[CrossingFrame.Gen] as number;
      const outcome = runtime.onResume(slot, gen);
      leaveReport(slot, gen);
      return outcome;
    },
    onDestroy: runtime.onDestroy,
    onBudgetExceeded: (slot, gen, budgetMs, stack, returned): NativeHookOutcome => {
      exits.afterStop();
      const outcome = runtime.onBudgetExceeded(slot, gen, budgetMs, stack, returned);
      if (gen !== 0) leaveReport(slot, gen);
      return outcome;
    },
    drainTicks: exits.drainTicks,
  };
}
