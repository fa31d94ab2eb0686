// Metrics a filter declares and records, and counters shared across Envoy workers.

/** Kinds of metric a filter may declare. */
export type MetricKind = 'counter' | 'gauge' | 'histogram';

/**
 * One declared metric: its kind, or its kind and label names (HTTP filters only: Envoy's network
 * filter metrics have no labels). Label names are `[a-zA-Z_][a-zA-Z0-9_]*`.
 */
export type MetricDeclaration = MetricKind | { readonly kind: MetricKind; readonly labels: readonly string[] };

/** A filter's metrics by name, e.g. `{ blocked: 'counter', requests: { kind: 'counter', labels: ['method'] } }`. */
export type MetricsDeclaration = Readonly<Record<string, MetricDeclaration>>;

/** Label values of one recording, by label name (every declared label, nothing else). */
export type MetricLabels = Readonly<Record<string, string>>;

/**
 * The filter's declared metrics, defined in Envoy when the config loads (Envoy allows no later
 * definition) and named `<filter name>.<metric name>` in Envoy's stats. Using an undeclared name,
 * or a name with an operation its kind does not have, throws a TypeError.
 */
export interface Metrics {
  /** Add `value` (default 1) to a counter. */
  increment(name: string, value?: number, labels?: MetricLabels): void;
  /** Set a gauge. */
  set(name: string, value: number, labels?: MetricLabels): void;
  /** Add `delta` (negative to subtract) to a gauge. */
  add(name: string, delta: number, labels?: MetricLabels): void;
  /** Record a histogram sample. */
  record(name: string, value: number, labels?: MetricLabels): void;
}

/**
 * Counters shared by every Envoy worker of the process (module-level JavaScript state is per
 * worker). A key's value starts at 0 and the key disappears when it returns to 0.
 */
export interface SharedCounters {
  /** Atomically add `delta` to the counter `key` and return the new value. */
  add(key: string, delta: number): number;
  /** The current value of `key` (0 when absent). */
  get(key: string): number;
}
