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
 * State shared by every Envoy worker of the process (module-level JavaScript state is per worker):
 * counters, and token buckets for rate limits that hold across workers.
 */
export interface SharedState {
  /** Atomically add `delta` to the counter `key` and return the new value. A key's value starts
   *  at 0 and the key disappears when it returns to 0. */
  add(key: string, delta: number): number;
  /** The current value of counter `key` (0 when absent). */
  get(key: string): number;
  /**
   * Take `cost` (default 1) tokens from the token bucket `key`, which refills at `ratePerSecond`
   * and holds at most `burst` (a new bucket starts full). `allowed` false leaves the bucket as
   * it was; `retryAfterMs` says when the tokens would be there.
   */
  take(key: string, bucket: TokenBucket): { readonly allowed: boolean; readonly retryAfterMs: number };
}

/** A token bucket's shape for `SharedState.take`. */
export interface TokenBucket {
  readonly ratePerSecond: number;
  readonly burst: number;
  readonly cost?: number;
}
