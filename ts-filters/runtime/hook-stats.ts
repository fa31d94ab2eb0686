// Built-in per-filter hook stats: envoy_ts.<filter>.hook_invocations (counter),
// envoy_ts.<filter>.hook_time_us (histogram: the µs a filter's hooks took for one stream) and
// envoy_ts.<filter>.hooks_pending (gauge). Counts and times are summed per filter while the stream
// lives and handed to the native side when it completes, in the call that already completes it
// (no extra crossing); the pending gauge moves when a hook starts or stops waiting.

import { LogLevel, MetricOp } from './codes';
import type { LoadedHttpFilter } from './config';
import { RUNTIME_PREFIX, describeError, writeLog } from './log';
import type { NativeBinding } from './native';

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
  let buffer = statsBuffers.get(binding);
  if (buffer === undefined || buffer.length < length) {
    buffer = new Float64Array(Math.max(length, 96));
    binding.setStatsBuffer(buffer);
    statsBuffers.set(binding, buffer);
  }
  return buffer;
}

export class HookStats {
  // By filter index: hooks called, and their time in ms; the filters seen, in order.
  readonly #calls: number[] = [];
  readonly #millis: number[] = [];
  readonly #filters: LoadedHttpFilter[] = [];

  /** A hook of `filter` called at `startedAt` returned, or its promise settled, at `endedAt`
   *  (performance.now() times; default now). */
  hookDone(filter: LoadedHttpFilter, startedAt: number, endedAt = performance.now()): void {
    const i = filter.index;
    if (this.#calls[i] === undefined) {
      this.#calls[i] = 0;
      this.#millis[i] = 0;
      this.#filters.push(filter);
    }
    this.#calls[i] = (this.#calls[i] as number) + 1;
    this.#millis[i] = (this.#millis[i] as number) + Math.max(0, endedAt - startedAt);
  }

  /** A hook of `filter` starts (+1) or stops (-1) waiting on its promise. */
  pendingChanged(target: StatsTarget, filter: LoadedHttpFilter, delta: 1 | -1): void {
    if (target.closed) return;
    try {
      target.binding.metric(target.slot, target.gen, filter.hookStats.pending.index, MetricOp.Add, delta, []);
    } catch (error) {
      writeLog(target.binding, LogLevel.Debug, RUNTIME_PREFIX, `hooks_pending: ${describeError(error)}`, []);
    }
  }

  /** Leave the stream's sums in the stats buffer; returns how many [index, op, value] triples. */
  flush(binding: NativeBinding): number {
    const filters = this.#filters;
    if (filters.length === 0) return 0;
    const buffer = bufferFor(binding, filters.length * 6);
    let at = 0;
    for (const filter of filters) {
      const { invocations, duration } = filter.hookStats;
      buffer[at++] = invocations.index;
      buffer[at++] = MetricOp.Increment;
      buffer[at++] = this.#calls[filter.index] as number;
      buffer[at++] = duration.index;
      buffer[at++] = MetricOp.Record;
      buffer[at++] = Math.round((this.#millis[filter.index] as number) * 1000);
    }
    filters.length = 0;
    this.#calls.length = 0;
    this.#millis.length = 0;
    return at / 3;
  }
}
