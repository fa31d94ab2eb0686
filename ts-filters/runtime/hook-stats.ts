// Built-in per-filter hook stats: envoy_ts.<filter>.hook_invocations (counter),
// envoy_ts.<filter>.hook_time_us (histogram: the µs a filter's hooks took for one stream) and
// envoy_ts.<filter>.hooks_pending (gauge). Counts and times are summed per filter while the stream
// lives and handed to the native side when it completes, in the call that already completes it
// (no extra crossing); the pending gauge moves when a hook starts or stops waiting.

import { MetricOp } from './codes';
import type { LoadedHttpFilter } from './config';
import { recordBuiltin } from './metrics';
import type { NativeBinding } from './native';
import { MathMax, MathRound, WeakMapPrototypeGet, WeakMapPrototypeSet, performanceNow } from './primordials';

/** What the stats need from their stream. */
export interface StatsTarget {
  readonly binding: NativeBinding;
  readonly slot: number;
  readonly gen: number;
  readonly closed: boolean;
}

// Per binding (one per environment): where a completing stream leaves its records for the native
// side, which records them right after onHook(StreamComplete) returns (setStatsBuffer).
const statsBuffers = new WeakMap<NativeBinding, Float64Array>();

function bufferFor(binding: NativeBinding, length: number): Float64Array {
  let buffer = WeakMapPrototypeGet(statsBuffers, binding);
  if (buffer === undefined || buffer.length < length) {
    buffer = new Float64Array(MathMax(length, 96));
    binding.setStatsBuffer(buffer);
    WeakMapPrototypeSet(statsBuffers, binding, buffer);
  }
  return buffer;
}

/** What a filter's hooks did on one stream (kept on its context: no allocation per stream). */
export interface HookTally {
  readonly filter: LoadedHttpFilter;
  /** Hook calls and their milliseconds since the last reset. */
  readonly hookCalls: number;
  readonly hookMillis: number;
  /** Add one hook call that took `millis`. */
  countHook(millis: number): void;
  resetHookTally(): void;
}

/** A hook called at `startedAt` returned, or its promise settled, at `endedAt` (performance.now()
 *  times; default now). */
export function hookDone(tally: HookTally, startedAt: number, endedAt = performanceNow()): void {
  tally.countHook(MathMax(0, endedAt - startedAt));
}

/** A hook of `filter` starts (+1) or stops (-1) waiting on its promise. */
export function pendingChanged(target: StatsTarget, filter: LoadedHttpFilter, delta: 1 | -1): void {
  recordBuiltin(target, filter.hookStats.pending.index, MetricOp.Add, delta, [], 'hooks_pending');
}

/** Leave the stream's tallies in the stats buffer; returns how many [index, op, value] triples. */
export function flushHookStats(binding: NativeBinding, tallies: readonly (HookTally | undefined)[],
                               filterCount: number): number {
  let buffer: Float64Array | undefined;
  let at = 0;
  for (let i = 0; i < tallies.length; i++) {
    const tally = tallies[i];
    if (tally === undefined || tally.hookCalls === 0) continue;
    buffer ??= bufferFor(binding, filterCount * 6);
    const { invocations, duration } = tally.filter.hookStats;
    buffer[at++] = invocations.index;
    buffer[at++] = MetricOp.Increment;
    buffer[at++] = tally.hookCalls;
    buffer[at++] = duration.index;
    buffer[at++] = MetricOp.Record;
    buffer[at++] = MathRound(tally.hookMillis * 1000);
    tally.resetHookTally();
  }
  return at / 3;
}
