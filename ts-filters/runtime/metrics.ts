// A filter's declared metrics, recorded through its stream's binding calls (Envoy records a
// filter's metrics on the filter, with ids defined at config load).

import type { MetricKind, Metrics, SharedCounters } from '../api/network-filter';
import { MetricOp } from './codes';
import type { MetricSlot } from './config';
import type { MetricOp as NativeMetricOp, NativeBinding } from './native';

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

  increment(name: string, value = 1): void {
    this.#record(name, 'counter', MetricOp.Increment, checkAmount(name, value));
  }

  set(name: string, value: number): void {
    this.#record(name, 'gauge', MetricOp.Set, checkAmount(name, value));
  }

  add(name: string, delta: number): void {
    if (!Number.isInteger(delta)) throw new TypeError(`metric '${name}': delta must be an integer`);
    this.#record(name, 'gauge', MetricOp.Add, delta);
  }

  record(name: string, value: number): void {
    this.#record(name, 'histogram', MetricOp.Record, checkAmount(name, value));
  }

  #record(name: string, kind: MetricKind, op: NativeMetricOp, value: number): void {
    const slot = this.#slots.get(name);
    if (slot === undefined) {
      throw new TypeError(`filter '${this.#filterName}' declared no metric '${name}'`);
    }
    if (slot.kind !== kind) {
      throw new TypeError(`metric '${name}' is a ${slot.kind}, not a ${kind}`);
    }
    this.#binding.metric(this.#target.slot, this.#target.gen, slot.index, op, value);
  }
}

function checkAmount(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 0) {
    throw new TypeError(`metric '${name}': value must be a non-negative integer, got ${String(value)}`);
  }
  return value;
}

/** Process-wide counters, shared by every worker's environment. */
export class NativeSharedCounters implements SharedCounters {
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
}
