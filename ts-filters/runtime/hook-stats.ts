// Built-in per-filter hook stats: envoy_ts.<filter>.hook_invocations (counter),
// envoy_ts.<filter>.hook_time_us (histogram: the µs a filter's hooks took for one stream) and
// envoy_ts.<filter>.hooks_pending (gauge). Counts and times are summed per filter and handed to
// the native side after each call into JavaScript that ran hooks (the native side sums them per
// stream and records them once the stream completes); the pending gauge moves when a hook starts
// or stops waiting.
//
// Times come from the binding's monotonic clock (a V8 function over the vDSO's clock_gettime that
// leaves the time in a Float64Array cell), read once per hook edge: a chain run reads it before
// its first hook and after each one, a hook's end being the next one's start; an async hook's time
// ends when its promise settles.

import { MetricOp } from './codes';
import type { LoadedHttpFilter } from './config';
import { recordBuiltin } from './metrics';
import type { NativeBinding } from './native';
import { MathMax, MathRound, WeakMapPrototypeGet, WeakMapPrototypeSet } from './primordials';

/** What the stats need from their stream. */
export interface StatsTarget {
  readonly binding: NativeBinding;
  readonly slot: number;
  readonly gen: number;
  readonly closed: boolean;
}

// Per binding (one per environment): where a stream leaves its records for the native side, which
// reads them once the call into JavaScript returned (setStatsBuffer). The last one used is kept at
// hand: a real environment has one binding (tests make many).
const statsBuffers = new WeakMap<NativeBinding, Float64Array>();
let lastBinding: NativeBinding | undefined;
let lastBuffer: Float64Array | undefined;

function bufferFor(binding: NativeBinding, length: number): Float64Array {
  let buffer = binding === lastBinding ? lastBuffer : WeakMapPrototypeGet(statsBuffers, binding);
  if (buffer === undefined || buffer.length < length) {
    buffer = new Float64Array(MathMax(length, 96));
    binding.setStatsBuffer(buffer);
    WeakMapPrototypeSet(statsBuffers, binding, buffer);
  }
  lastBinding = binding;
  lastBuffer = buffer;
  return buffer;
}

/** The stats clock of `binding`'s environment: microseconds, any origin. */
export type StatsClock = () => number;

let captured: { readonly binding: NativeBinding; readonly clock: StatsClock } | undefined;

/** A read of `binding`'s clock: stampClock() leaves the time in the environment's clock cell
 *  (a returned double would be a new heap number per read). The same function for every stream
 *  of an environment. */
export function statsClock(binding: NativeBinding): StatsClock {
  if (captured?.binding !== binding) {
    // Its own ArrayBuffer: the memory does not move (small typed arrays may live in the JS heap).
    const cell = new Float64Array(new ArrayBuffer(Float64Array.BYTES_PER_ELEMENT));
    binding.setClockCell(cell);
    captured = { binding, clock: () => {
      binding.stampClock();
      return cell[0] as number;
    } };
  }
  return captured.clock;
}

/** What a filter's hooks did on one stream (kept on its context: no allocation per stream). */
export interface HookTally {
  readonly filter: LoadedHttpFilter;
  /** Hook calls and their microseconds since the last reset. */
  readonly hookCalls: number;
  readonly hookMicros: number;
  /** Add one hook call that took `micros`. */
  countHook(micros: number): void;
  resetHookTally(): void;
}

/** A hook called at `startedAt` returned, or its promise settled, at `endedAt` (stats clock
 *  times). Returns `endedAt`: the next hook's start. */
export function hookDone(tally: HookTally, startedAt: number, endedAt: number): number {
  tally.countHook(MathMax(0, endedAt - startedAt));
  return endedAt;
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
    buffer[at++] = MathRound(tally.hookMicros);
    tally.resetHookTally();
  }
  return at / 3;
}
