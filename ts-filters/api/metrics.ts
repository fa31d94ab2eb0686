// Metrics a filter declares and records, and counters shared across Envoy workers.

/** Kinds of metric a filter may declare. */
export type MetricKind = 'counter' | 'gauge' | 'histogram';

/**
 * One declared metric: its kind, or its kind and label names (HTTP filters only: Envoy's network
 * filter metrics have no labels). Label names are `[a-zA-Z_][a-zA-Z0-9_]*`.
 */
export type MetricDeclaration = MetricKind | { readonly kind: MetricKind; readonly labels?: readonly string[] };

/** A filter's metrics by name, e.g. `{ blocked: 'counter', requests: { kind: 'counter', labels: ['method'] } }`. */
export type MetricsDeclaration = Readonly<Record<string, MetricDeclaration>>;

/**
 * A network filter's metrics by name, e.g. `{ rejected: 'counter', active: 'gauge' }`: no labels,
 * since Envoy's network filter metrics have none.
 */
export type NetworkMetricsDeclaration =
  Readonly<Record<string, MetricKind | { readonly kind: MetricKind; readonly labels?: never }>>;

/** Label values of one recording, by label name (every declared label, nothing else). */
export type MetricLabels = Readonly<Record<string, string>>;

/**
 * The filter's declared metrics, defined in Envoy when the config loads (Envoy allows no later
 * definition) and named `<filter name>.<metric name>` in Envoy's stats. Using an undeclared name,
 * or a name with an operation its kind does not have, throws a TypeError.
 *
 * This is `ctx.metrics` when the metric names are not known to the compiler (declared under a
 * string index, or the filter's metrics type left out of explicit type arguments); otherwise it
 * is a {@link DeclaredMetrics}.
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

/** The kind of one declared metric. */
type KindOf<D> = D extends MetricKind ? D : D extends { readonly kind: infer K } ? K : never;

/** The names of the metrics of kind `K` in the declaration `M`. */
export type MetricNames<M, K extends MetricKind> =
  { [N in keyof M]: KindOf<M[N]> extends K ? N : never }[keyof M] & string;

/** The label names of one declared metric (never when it has none). */
type LabelNamesOf<D> = D extends { readonly labels: readonly (infer L extends string)[] } ? L : never;

/** The label values of one recording of the declared metric `D`, by label name. */
type LabelValues<D> = { readonly [L in LabelNamesOf<D>]: string };

/**
 * A recording's `name` parameter: the name given (`N`) when it is one of `Names`, else `Names`, so
 * that a typo or a metric of another kind is reported against the names the operation takes.
 */
type NameOf<N, Names> = N extends Names ? N : Names;

/** The declaration of metric `N` when it is one of `Names`; never otherwise (no labels to report). */
type DeclarationOf<M, N, Names> = N extends Names & keyof M ? M[N] : never;

/** `increment`'s arguments after the name: the value may be left out only when there are no labels. */
type IncrementArguments<D> = [LabelNamesOf<D>] extends [never]
  ? [value?: number]
  : [value: number, labels: LabelValues<D>];

/** `set`'s, `add`'s and `record`'s arguments after the name: the value, then the labels if any. */
type ValueArguments<D> = [LabelNamesOf<D>] extends [never]
  ? [value: number]
  : [value: number, labels: LabelValues<D>];

/**
 * `ctx.metrics` of a filter whose metrics the compiler knows (declared as a literal, or returned
 * by a `metrics` function): only declared names, only the operations of their kind, and exactly
 * their labels. With `metrics: { denied: { kind: 'counter', labels: ['reason'] }, inflight: 'gauge' }`:
 * `increment('denied', 1, { reason: 'bad-key' })` and `add('inflight', -1)` compile;
 * `increment('inflight')`, `increment('denid')`, `increment('denied')` and
 * `add('inflight', 1, { reason: 'x' })` do not.
 */
export interface DeclaredMetrics<M> {
  /** Add `value` (default 1) to a counter; a labelled counter takes the value, then its labels. */
  increment<N extends string>(name: NameOf<N, MetricNames<M, 'counter'>>,
                              ...args: IncrementArguments<DeclarationOf<M, N, MetricNames<M, 'counter'>>>): void;
  /** Set a gauge. */
  set<N extends string>(name: NameOf<N, MetricNames<M, 'gauge'>>,
                        ...args: ValueArguments<DeclarationOf<M, N, MetricNames<M, 'gauge'>>>): void;
  /** Add `value` (negative to subtract) to a gauge. */
  add<N extends string>(name: NameOf<N, MetricNames<M, 'gauge'>>,
                        ...args: ValueArguments<DeclarationOf<M, N, MetricNames<M, 'gauge'>>>): void;
  /** Record a histogram sample. */
  record<N extends string>(name: NameOf<N, MetricNames<M, 'histogram'>>,
                           ...args: ValueArguments<DeclarationOf<M, N, MetricNames<M, 'histogram'>>>): void;
}

/**
 * `ctx.metrics` of a filter whose metrics are declared as `M`: {@link DeclaredMetrics} when the
 * names are known, {@link Metrics} when `M` has a string index. For names chosen at run time, type
 * the declaration (or the `metrics` function's return) as `MetricsDeclaration` or
 * `NetworkMetricsDeclaration`: spreading a record into an object literal drops its index, which
 * would leave only the literal's own names.
 */
export type MetricsOf<M> = string extends keyof M ? Metrics : DeclaredMetrics<M>;

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
