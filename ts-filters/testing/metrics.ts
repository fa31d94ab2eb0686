// Metric values by name and labels, from the records the chain made (in-process) or from the
// proxy's /stats (host engine).

import type { MetricsView } from './types';

/** A declared metric: full name (`<filter>.<metric>` or `envoy_ts.*`), kind and label names. */
export interface DeclaredMetric {
  readonly name: string;
  readonly kind: 'counter' | 'gauge' | 'histogram';
  readonly labels: readonly string[];
}

/** The key of one labelled series: its label values in declaration order. */
function seriesKey(metric: DeclaredMetric, labels: Readonly<Record<string, string>> | undefined): string {
  const given = Object.keys(labels ?? {});
  const missing = metric.labels.filter((label) => !given.includes(label));
  const extra = given.filter((label) => !metric.labels.includes(label));
  if (missing.length > 0 || extra.length > 0) {
    throw new TypeError(`envoy-ts/testing: metric '${metric.name}' has labels [${metric.labels.join(', ')}]` +
                        `, got {${given.join(', ')}}`);
  }
  return metric.labels.map((label) => `${label}=${labels?.[label] ?? ''}`).join(',');
}

/** Values recorded per metric and series. */
export class MetricStore implements MetricsView {
  #declared: readonly DeclaredMetric[] = [];
  readonly #values = new Map<string, number>();
  readonly #samples = new Map<string, number[]>();

  /** The config's metrics, in index order (Dispatcher.describeMetrics, unflattened). */
  declare(flat: readonly string[]): void {
    const declared: DeclaredMetric[] = [];
    for (let i = 0; i + 2 < flat.length; i += 3) {
      declared.push({ name: flat[i] as string, kind: flat[i + 1] as DeclaredMetric['kind'],
                      labels: flat[i + 2] === '' ? [] : (flat[i + 2] as string).split(',') });
    }
    this.#declared = declared;
  }

  get declared(): readonly DeclaredMetric[] {
    return this.#declared;
  }

  /** A record by metric index: op 0 increment, 1 set, 2 add, 3 histogram sample. */
  record(index: number, op: number, value: number, labelValues: readonly string[]): void {
    const metric = this.#declared[index];
    if (metric === undefined) throw new Error(`envoy-ts/testing: a record for unknown metric index ${index}`);
    const key = MetricStore.keyOf(metric, labelValues);
    if (op === 3) {
      const samples = this.#samples.get(key) ?? [];
      samples.push(value);
      this.#samples.set(key, samples);
      return;
    }
    this.#values.set(key, op === 1 ? value : (this.#values.get(key) ?? 0) + value);
  }

  /** Replace every value (the host engine's /stats snapshot), keyed as `record` keys them. */
  replaceValues(values: ReadonlyMap<string, number>): void {
    this.#values.clear();
    for (const [key, value] of values) this.#values.set(key, value);
  }

  /** The key `record` uses for a series of `metric` with label values in declaration order. */
  static keyOf(metric: DeclaredMetric, labelValues: readonly string[]): string {
    return `${metric.name}|${metric.labels.map((label, i) => `${label}=${labelValues[i] ?? ''}`).join(',')}`;
  }

  get(name: string, labels?: Readonly<Record<string, string>>): number {
    const metric = this.#metric(name);
    if (metric.kind === 'histogram') {
      throw new TypeError(`envoy-ts/testing: '${name}' is a histogram: read it with metrics.samples()`);
    }
    return this.#values.get(`${name}|${seriesKey(metric, labels)}`) ?? 0;
  }

  samples(name: string, labels?: Readonly<Record<string, string>>): number[] {
    const metric = this.#metric(name);
    if (metric.kind !== 'histogram') throw new TypeError(`envoy-ts/testing: '${name}' is a ${metric.kind}, not a histogram`);
    return [...(this.#samples.get(`${name}|${seriesKey(metric, labels)}`) ?? [])];
  }

  #metric(name: string): DeclaredMetric {
    const metric = this.#declared.find((m) => m.name === name);
    if (metric === undefined) {
      throw new TypeError(`envoy-ts/testing: the chain declares no metric '${name}' ` +
                          `(declared: ${this.#declared.map((m) => m.name).join(', ') || 'none'})`);
    }
    return metric;
  }
}
