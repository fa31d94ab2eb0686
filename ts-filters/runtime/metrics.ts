// A filter's declared metrics, recorded through its stream's binding calls (Envoy records a
// filter's metrics on the filter, with ids defined at config load).

import type { MetricKind, MetricLabels, Metrics, SharedState, TokenBucket } from '../api/metrics';
import { LogLevel, MetricOp } from './codes';
import type { MetricSlot } from './config';
import { RUNTIME_PREFIX, describeError, writeLog } from './log';
import type { MetricOp as NativeMetricOp, NativeBinding } from './native';
import { ArrayPrototypePush, JSONStringify, MapPrototypeGet, NumberIsInteger, ObjectKeys, WeakMapPrototypeGet,
  WeakMapPrototypeSet } from './primordials';

/** What the metrics of a stream or connection need from it. */
export interface MetricTarget {
  readonly slot: number;
  readonly gen: number;
}

export class FilterMetrics implements Metrics {
  readonly #binding: NativeBinding;
  readonly #target: MetricTarget;
  readonly #filterName: string;
  readonly #slots: ReadonlyMap<string, MetricSlot>;

  constructor(binding: NativeBinding, target: MetricTarget, filterName: string,
              slots: ReadonlyMap<string, MetricSlot>) {
    this.#binding = binding;
    this.#target = target;
    this.#filterName = filterName;
    this.#slots = slots;
  }

  increment(name: string, value = 1, labels?: MetricLabels): void {
    this.#record(name, 'counter', MetricOp.Increment, checkAmount(name, value), labels);
  }

  set(name: string, value: number, labels?: MetricLabels): void {
    this.#record(name, 'gauge', MetricOp.Set, checkAmount(name, value), labels);
  }

  add(name: string, delta: number, labels?: MetricLabels): void {
    if (!Number.isInteger(delta)) throw new TypeError(`metric '${name}': delta must be an integer`);
    this.#record(name, 'gauge', MetricOp.Add, delta, labels);
  }

  record(name: string, value: number, labels?: MetricLabels): void {
    this.#record(name, 'histogram', MetricOp.Record, checkAmount(name, value), labels);
  }

  #record(name: string, kind: MetricKind, op: NativeMetricOp, value: number, labels: MetricLabels | undefined): void {
    const slot = MapPrototypeGet(this.#slots, name);
    if (slot === undefined) {
      throw new TypeError(`filter '${this.#filterName}' declared no metric '${name}'`);
    }
    if (slot.kind !== kind) {
      throw new TypeError(`metric '${name}' is a ${slot.kind}, not a ${kind}`);
    }
    this.#binding.metric(this.#target.slot, this.#target.gen, slot.index, op, value,
                         labelValues(name, slot.labels, labels));
  }
}

/**
 * Record one of the runtime's built-in metrics (failures, pending hooks) on a stream or connection.
 * It must not fail the hook that records it: a refusal (e.g. the stream just went away) is logged
 * at debug level.
 */
export function recordBuiltin(target: MetricTarget & { readonly binding: NativeBinding; readonly closed: boolean },
                              index: number, op: NativeMetricOp, value: number, labels: string[], what: string): void {
  if (target.closed) return;
  try {
    target.binding.metric(target.slot, target.gen, index, op, value, labels);
  } catch (error) {
    writeLog(target.binding, LogLevel.Debug, RUNTIME_PREFIX, `${what}: ${describeError(error)}`, []);
  }
}

const NO_LABELS: string[] = [];

/** The values of a recording's labels, in declaration order: exactly the declared names. */
function labelValues(name: string, declared: readonly string[], given: MetricLabels | undefined): string[] {
  const count = given === undefined ? 0 : ObjectKeys(given).length;
  if (declared.length === 0 && count === 0) return NO_LABELS;
  if (given === undefined || count !== declared.length) {
    throw new TypeError(`metric '${name}' takes the labels ${JSONStringify(declared)}`);
  }
  const values: string[] = [];
  for (let i = 0; i < declared.length; i++) {
    const label = declared[i] as string;
    const value = given[label];
    if (typeof value !== 'string') throw new TypeError(`metric '${name}': label '${label}' must be a string`);
    ArrayPrototypePush(values, value);
  }
  return values;
}

function checkAmount(name: string, value: number): number {
  if (!NumberIsInteger(value) || value < 0) {
    throw new TypeError(`metric '${name}': value must be a non-negative integer, got ${String(value)}`);
  }
  return value;
}

// One view per binding: an environment has one, the test kit one per chain.
const sharedCounters = new WeakMap<NativeBinding, NativeSharedState>();

/** The environment's view of the process-wide shared counters. */
export function sharedStateOf(binding: NativeBinding): SharedState {
  let shared = WeakMapPrototypeGet(sharedCounters, binding);
  if (shared === undefined) {
    shared = new NativeSharedState(binding);
    WeakMapPrototypeSet(sharedCounters, binding, shared);
  }
  return shared;
}

/** Process-wide counters and token buckets, shared by every worker's environment. */
class NativeSharedState implements SharedState {
  readonly #binding: NativeBinding;

  constructor(binding: NativeBinding) {
    this.#binding = binding;
  }

  add(key: string, delta: number): number {
    if (typeof key !== 'string') throw new TypeError('shared counter key must be a string');
    if (!Number.isInteger(delta)) throw new TypeError('shared counter delta must be an integer');
    return this.#binding.sharedCounterAdd(key, delta);
  }

  get(key: string): number {
    if (typeof key !== 'string') throw new TypeError('shared counter key must be a string');
    return this.#binding.sharedCounterGet(key);
  }

  take(key: string, bucket: TokenBucket): { readonly allowed: boolean; readonly retryAfterMs: number } {
    if (typeof key !== 'string') throw new TypeError('token bucket key must be a string');
    const { ratePerSecond, burst, cost = 1 } = bucket;
    if (!(ratePerSecond > 0) || !(burst > 0) || !(cost >= 0) || !Number.isFinite(ratePerSecond + burst + cost)) {
      throw new TypeError('take(): ratePerSecond and burst must be positive, cost non-negative');
    }
    const retryAfterMs = this.#binding.sharedTokensTake(key, ratePerSecond, burst, cost);
    return { allowed: retryAfterMs === 0, retryAfterMs };
  }
}
