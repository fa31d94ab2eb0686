// The metrics a VM defined (proxy_define_metric), by id. Envoy defines a filter config's metrics
// only while the config loads, so the ones a module defines while its plugin starts (the plugin
// context's creation, proxy_on_vm_start, proxy_on_configure) become the filter's declared metrics
// (plugin.ts keeps that list) and are recorded in Envoy through the stream the call runs for. A call from a plugin context
// (a tick, a queue) has no stream: what it records waits for the plugin's next stream. Each VM
// also keeps the values it recorded itself, for proxy_get_metric (Envoy's stats are not readable
// from a module).

import type { MetricKind, Metrics } from '../../api/metrics';
import { MetricType } from './abi';

export interface WasmMetric {
  readonly id: number;
  readonly kind: MetricKind;
  /** The name as envoy-ts declares it: the module's name with characters Envoy's stat names do
   *  not take replaced by '_'. */
  readonly name: string;
  /** What this VM recorded (counter total, gauge value, last histogram sample). */
  value: bigint;
}

/** A recording waiting for a stream. */
interface Pending {
  readonly metric: WasmMetric;
  readonly op: 'add' | 'set' | 'record';
  value: bigint;
}

const KINDS: readonly MetricKind[] = ['counter', 'gauge', 'histogram'];
/** Recordings kept for the next stream at most (histogram samples past it are dropped). */
const MAX_PENDING = 1024;

export class MetricTable {
  readonly #byId: WasmMetric[] = [];
  readonly #byKey = new Map<string, WasmMetric>();
  #pending: Pending[] = [];

  /** The metric of that type and name (defined again: the same id); undefined for an unknown type. */
  define(type: number, rawName: string): WasmMetric | undefined {
    if (type !== MetricType.Counter && type !== MetricType.Gauge && type !== MetricType.Histogram) return undefined;
    const kind = KINDS[type] as MetricKind;
    const name = statName(rawName);
    const key = `${kind}\0${name}`;
    let metric = this.#byKey.get(key);
    if (metric === undefined) {
      metric = { id: this.#byId.length + 1, kind, name, value: 0n };
      this.#byId.push(metric);
      this.#byKey.set(key, metric);
    }
    return metric;
  }

  get(id: number): WasmMetric | undefined {
    return this.#byId[id - 1];
  }

  /**
   * Record through `metrics` (a stream's) or, without a stream, keep it for the next one. Counters
   * and gauges add `value` ('add') or take it ('set'); histograms take a sample ('record').
   */
  record(metric: WasmMetric, op: Pending['op'], value: bigint, metrics: Metrics | undefined): void {
    if (op === 'add') metric.value += value;
    else metric.value = value;
    if (metrics === undefined) {
      this.#keep(metric, op, value);
      return;
    }
    this.flush(metrics);
    apply(metrics, metric, op, value);
  }

  /** Whether recordings from calls without a stream wait for one. */
  get waiting(): boolean {
    return this.#pending.length > 0;
  }

  /** Hand the recordings kept from calls without a stream to a stream's metrics. */
  flush(metrics: Metrics): void {
    if (this.#pending.length === 0) return;
    const pending = this.#pending;
    this.#pending = [];
    for (const { metric, op, value } of pending) apply(metrics, metric, op, value);
  }

  #keep(metric: WasmMetric, op: Pending['op'], value: bigint): void {
    if (op !== 'record') {
      // Additions sum up, a set replaces what was kept for that metric.
      const kept = this.#pending.find((p) => p.metric === metric && p.op === op);
      if (kept !== undefined) {
        kept.value = op === 'add' ? kept.value + value : value;
        return;
      }
    }
    if (this.#pending.length < MAX_PENDING) this.#pending.push({ metric, op, value });
  }
}

function apply(metrics: Metrics, metric: WasmMetric, op: Pending['op'], value: bigint): void {
  const amount = Number(value);
  if (metric.kind === 'counter') {
    if (amount > 0) metrics.increment(metric.name, amount);
  } else if (metric.kind === 'gauge') {
    if (op === 'add') metrics.add(metric.name, amount);
    else metrics.set(metric.name, amount);
  } else {
    metrics.record(metric.name, amount);
  }
}

/** A module's metric name as an envoy-ts metric name (letters, digits, '_' and '.'; not starting
 *  with a digit or a dot). */
export function statName(raw: string): string {
  const name = raw.replace(/[^a-zA-Z0-9_.]/g, '_');
  return /^[a-zA-Z_]/.test(name) ? name : `_${name}`;
}
