// The CPU budget's JavaScript side (DESIGN.md §6). A native watchdog stops JavaScript that runs
// past its budget; the runtime tells it which budget is in force through the environment's watch
// slots: each filter hook starts a section with its filter's budget. Writing two slots is all the
// hot path pays.

import { WatchSlot } from './codes';
import type { NativeBinding } from './native';
import { WeakMapPrototypeGet, WeakMapPrototypeSet } from './primordials';

/** Default `cpuBudgetMs`: far above what a filter's hook takes, even a first call that loads a
 *  library, and low enough that a runaway loop is stopped before clients notice much. */
export const DEFAULT_CPU_BUDGET_MS = 200;
/** Budget of loading a config (the bundle's top level, parseConfig, schema compilation). */
export const CONFIG_LOAD_BUDGET_MS = 10_000;
/** Budget of recovering from a stopped section: the runtime's own work, bounded like a config
 *  load's and as large, since mapping the stopped stack decodes the bundle's source map, in time
 *  that grows with the map (Node 18 decodes it again for every lookup: about 40 ms per MB). */
export const RECOVERY_BUDGET_MS = CONFIG_LOAD_BUDGET_MS;

// Per binding (one per environment).
const slotsByBinding = new WeakMap<NativeBinding, Int32Array>();

/** The environment's watch slots, made and handed to the native side on first use. */
export function watchSlotsOf(binding: NativeBinding): Int32Array {
  let slots = WeakMapPrototypeGet(slotsByBinding, binding);
  if (slots === undefined) {
    // Its own ArrayBuffer: the memory does not move (small typed arrays may live in the JS heap).
    slots = new Int32Array(new ArrayBuffer(WatchSlot.Count * Int32Array.BYTES_PER_ELEMENT));
    binding.setWatchSlots(slots);
    WeakMapPrototypeSet(slotsByBinding, binding, slots);
  }
  return slots;
}

/** A new section with its own budget starts now (a filter's hook, a config load, a recovery). */
export function startSection(slots: Int32Array, budgetMs: number): void {
  slots[WatchSlot.BudgetMs] = budgetMs;
  // Keeps its parity: odd while the native side has JavaScript running, even otherwise.
  slots[WatchSlot.Sequence] = ((slots[WatchSlot.Sequence] as number) + 2) | 0;
}

/** Sections that are not a filter's hook get `budgetMs` (the largest of the loaded configs). */
export function setDefaultBudget(slots: Int32Array, budgetMs: number): void {
  slots[WatchSlot.DefaultBudgetMs] = budgetMs;
}
