// filter_config: parse and validate the JSON, load the bundle, resolve the chain, run each
// filter's parseConfig, collect declared metrics. Hooks are looked up here once, so the hot path
// never searches for them. HTTP configs (DynamicModuleFilter) name HTTP filters; network configs
// (DynamicModuleNetworkFilter) name network filters.

import { resolve } from 'path';

import { ConfigError } from '../api/errors';
import { isHttpFilter, type HttpFilter } from '../api/http-filter';
import type { MetricKind, MetricsDeclaration } from '../api/metrics';
import { isNetworkFilter, type NetworkFilter } from '../api/network-filter';
import type { HttpBodyHook, HttpHeadersHook, HttpStreamCompleteHook, Logger } from '../api/types';
import { resolveHttpFilter } from './builtin-filters';
import { BufferKind, ConfigKind, FailurePolicy, HookKind, directionOf } from './codes';
import { checkConfigSchema } from './config-schema';
import { DEFAULT_CPU_BUDGET_MS, watchSlotsOf } from './cpu-budget';
import { disposeConfigValue } from './dispose';
import { environmentGrants } from './guards/capability-grants';
import { parseCapabilities, type Capabilities } from './guards/capabilities';
import { createLogger, errorMessage, filterPrefix } from './log';
import type { ConfigKind as NativeConfigKind, HookKind as NativeHookKind, NativeBinding } from './native';

/** One filter of a loaded chain. */
export interface LoadedFilter {
  /** Position in the chain config. */
  readonly index: number;
  readonly name: string;
  /** What parseConfig returned, or the raw config. */
  readonly config: unknown;
  readonly log: Logger;
  /** Index in LoadedConfig.metrics of each metric the filter declared, by name. */
  readonly metrics: ReadonlyMap<string, MetricSlot>;
  /** The built-in counter of this filter's failures (throws, rejections, stopped hooks, timeouts). */
  readonly failures: MetricSlot;
  /** Built-in counters of its hooks the CPU watchdog stopped, and of its promises that timed out. */
  readonly cpuBudgetExceeded: MetricSlot;
  readonly asyncTimeouts: MetricSlot;
  /** CPU time one of its hooks may run before the watchdog stops it (0: no budget). */
  readonly cpuBudgetMs: number;
  /** How long its hooks' promises may stay pending (0: no limit). */
  readonly asyncTimeoutMs: number;
}

export interface LoadedHttpFilter extends LoadedFilter {
  readonly definition: HttpFilter<unknown>;
  /** The built-in hook stats: envoy_ts.<filter>.hook_invocations (counter),
   *  envoy_ts.<filter>.hook_time_us (histogram), envoy_ts.<filter>.hooks_pending (gauge). */
  readonly hookStats: { readonly invocations: MetricSlot; readonly duration: MetricSlot; readonly pending: MetricSlot };
}

export interface LoadedNetworkFilter extends LoadedFilter {
  readonly definition: NetworkFilter<unknown>;
}

/** A filter's built-in failure counters. */
type FailureMetrics = Pick<LoadedFilter, 'failures' | 'cpuBudgetExceeded' | 'asyncTimeouts'>;

/** A declared metric: its position in the config's list (what the binding addresses), kind and
 *  label names. */
export interface MetricSlot {
  readonly index: number;
  readonly kind: MetricKind;
  readonly labels: readonly string[];
}

/** Which hooks an HTTP chain runs, by name. */
export type HttpHookName = 'onRequestHeaders' | 'onResponseHeaders' | 'onRequestTrailers' | 'onResponseTrailers' |
  'onRequestBody' | 'onResponseBody';

/** A filter that has a hook for the chain being run. */
export interface ChainLink {
  readonly filter: LoadedHttpFilter;
  /** Called with the hook's headers map or body chunk, and the filter's context. */
  readonly hook: HttpHeadersHook<unknown> | HttpBodyHook<unknown>;
  readonly hookName: HttpHookName;
}

/** The worker pool behind ctx.offload (filter_config `offload`). */
export interface OffloadSettings {
  /** Pool threads per Envoy worker. */
  readonly threads: number;
  /** An idle pool thread exits after this long. */
  readonly idleTimeoutMs: number;
}

interface ConfigBase {
  readonly id: number;
  readonly bundle: string;
  /** filter_config `watch`: the module reloads the bundle when its file changes. */
  readonly watch: boolean;
  readonly failurePolicy: FailurePolicy;
  /** The largest CPU budget of its filters: what the environment's other sections get. */
  readonly cpuBudgetMs: number;
  /** The environment's watch slots (the CPU watchdog reads the budget in force there). */
  readonly watchSlots: Int32Array;
  readonly offload: OffloadSettings;
  /** What the config grants its environment (guards/capabilities.ts). */
  readonly capabilities: Capabilities;
  /** Every declared metric as `<filter>.<metric>`, its kind and labels, in index order. */
  readonly metrics: readonly MetricDeclaration[];
}

/** A validated HTTP filter_config. */
export interface HttpConfig extends ConfigBase {
  readonly kind: typeof ConfigKind.Http;
  readonly filters: readonly LoadedHttpFilter[];

  /** Per HookKind (headers, body and trailers of both directions; none for StreamComplete): the
   *  filters with that hook, request hooks in chain order, response hooks in reverse order. */
  readonly chains: readonly (readonly ChainLink[])[];
  /** Filters with onStreamComplete, in chain order. */
  readonly completeChain: readonly { readonly filter: LoadedHttpFilter; readonly hook: HttpStreamCompleteHook<unknown> }[];
}

/** A validated network filter_config. Each list holds the filters that have that hook. */
export interface NetworkConfig extends ConfigBase {
  readonly kind: typeof ConfigKind.Network;
  readonly filters: readonly LoadedNetworkFilter[];
  /** onNewConnection and onData run in chain order. */
  readonly connectChain: readonly LoadedNetworkFilter[];
  readonly dataChain: readonly LoadedNetworkFilter[];
  /** onWrite runs in reverse chain order (like Envoy's write filters). */
  readonly writeChain: readonly LoadedNetworkFilter[];
  readonly closeChain: readonly LoadedNetworkFilter[];
}

export type LoadedConfig = HttpConfig | NetworkConfig;

/** What a definition declares about its config. */
interface FilterConfigHandling {
  readonly configSchema?: object;
  readonly parseConfig?: (raw: unknown) => unknown;
}

/** Loads a bundle and returns its exports; throws ConfigError with a message for Envoy's log. */
export type BundleLoader = (path: string) => unknown;

const TOP_LEVEL_KEYS = ['bundle', 'chain', 'failurePolicy', 'offload', 'cpuBudgetMs', 'asyncTimeoutMs',
                        'capabilities', 'watch'];
const OFFLOAD_KEYS = ['threads', 'idleTimeoutMs'];
const ENTRY_KEYS = ['name', 'config', 'cpuBudgetMs', 'asyncTimeoutMs'];
/** Default `asyncTimeoutMs`: a hook's promise pending this long fails the stream. */
export const DEFAULT_ASYNC_TIMEOUT_MS = 30_000;
/** Largest `cpuBudgetMs` (a minute) and `asyncTimeoutMs` (a day). */
const MAX_CPU_BUDGET_MS = 60_000;
const MAX_ASYNC_TIMEOUT_MS = 86_400_000;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function quoteList(names: readonly string[]): string {
  return names.map((name) => `'${name}'`).join(', ');
}

/** A filter_config's JSON object, with no key outside `allowed`. Throws ConfigError. */
export function parseConfigObject(json: string, allowed: readonly string[]): Record<string, unknown> {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (error) {
    throw new ConfigError(`filter_config is not valid JSON: ${errorMessage(error)}`);
  }
  if (!isPlainObject(raw)) throw new ConfigError('filter_config must be a JSON object');
  const unknownKeys = Object.keys(raw).filter((key) => !allowed.includes(key));
  if (unknownKeys.length > 0) {
    throw new ConfigError(`filter_config has unknown key(s) ${quoteList(unknownKeys)} ` +
                          `(allowed: ${quoteList(allowed)})`);
  }
  return raw;
}

/** The HTTP filters a config's `bundle` exports, by name, and the bundle's resolved path (built-in
 *  filters are resolved with resolveHttpFilter). */
export function loadHttpFilters(bundlePath: unknown, loadBundle: BundleLoader):
    { bundle: string; available: Map<string, HttpFilter<unknown>> } {
  const bundle = resolveBundlePath(bundlePath);
  return { bundle, available: collectFilters(loadBundle(bundle), bundle, isHttpFilter) };
}

function resolveBundlePath(bundlePath: unknown): string {
  if (typeof bundlePath !== 'string' || bundlePath === '') {
    throw new ConfigError(`'bundle' is required and must be a string (path of a filter bundle)`);
  }
  // A relative path is resolved against the proxy's working directory.
  return resolve(bundlePath);
}

/** A filter's `config` checked against its configSchema, then through its parseConfig (each step
 *  is skipped when the filter does not declare it). */
export function parseFilterConfig(name: string, definition: FilterConfigHandling, rawConfig: unknown): unknown {
  const checked = definition.configSchema === undefined
    ? rawConfig
    : checkConfigSchema(name, definition.configSchema, rawConfig);
  if (definition.parseConfig === undefined) return checked;
  try {
    return definition.parseConfig(checked);
  } catch (error) {
    throw new ConfigError(`filter '${name}': ${errorMessage(error)}`);
  }
}

/** A metric as the native side defined it in Envoy: `<filter>.<metric>`, kind and label names. */
export interface MetricDeclaration {
  readonly name: string;
  readonly kind: MetricKind;
  readonly labels: readonly string[];
}

/**
 * Parse, validate and load a filter_config. Throws ConfigError naming the problem.
 * `defined`: the metrics Envoy defined for this config when it first loaded (a reload of its
 * bundle in watch mode): the chain must record into those, with the same indexes, because Envoy
 * lets a filter config define metrics only while it loads.
 */
export function loadFilterConfig(binding: NativeBinding, id: number, json: string,
                                 kind: NativeConfigKind, loadBundle: BundleLoader,
                                 defined?: readonly MetricDeclaration[]): LoadedConfig {
  const raw = parseConfigObject(json, TOP_LEVEL_KEYS);
  const watch = raw['watch'] ?? false;
  if (typeof watch !== 'boolean') {
    throw new ConfigError(`'watch' must be true or false, got ${JSON.stringify(watch)}`);
  }

  const policy = raw['failurePolicy'] ?? FailurePolicy.Closed;
  if (policy !== FailurePolicy.Closed && policy !== FailurePolicy.Open) {
    throw new ConfigError(`'failurePolicy' must be "closed" or "open", got ${JSON.stringify(policy)}`);
  }

  const offload = parseOffload(raw['offload']);
  const chainBudgetMs = parseMilliseconds(raw['cpuBudgetMs'], 'cpuBudgetMs', DEFAULT_CPU_BUDGET_MS, MAX_CPU_BUDGET_MS);
  const chainTimeoutMs = parseMilliseconds(raw['asyncTimeoutMs'], 'asyncTimeoutMs', DEFAULT_ASYNC_TIMEOUT_MS,
                                           MAX_ASYNC_TIMEOUT_MS);
  const capabilities = parseCapabilities(raw['capabilities']);

  const chain = raw['chain'];
  if (!Array.isArray(chain) || chain.length === 0) {
    throw new ConfigError(`'chain' must be a non-empty array of {"name": ..., "config": ...} entries`);
  }
  const entries: { name: string; config: unknown; cpuBudgetMs: number; asyncTimeoutMs: number }[] = [];
  for (let i = 0; i < chain.length; i++) {
    const entry: unknown = chain[i];
    if (!isPlainObject(entry) || typeof entry['name'] !== 'string' || entry['name'] === '') {
      throw new ConfigError(`chain[${i}] must be an object with a non-empty string 'name'`);
    }
    const extra = Object.keys(entry).filter((key) => !ENTRY_KEYS.includes(key));
    if (extra.length > 0) {
      throw new ConfigError(`chain[${i}] ('${entry['name']}') has unknown key(s) ${quoteList(extra)} ` +
                            `(allowed: ${quoteList(ENTRY_KEYS)})`);
    }
    entries.push({
      name: entry['name'], config: entry['config'],
      cpuBudgetMs: parseMilliseconds(entry['cpuBudgetMs'], `chain[${i}].cpuBudgetMs`, chainBudgetMs, MAX_CPU_BUDGET_MS),
      asyncTimeoutMs: parseMilliseconds(entry['asyncTimeoutMs'], `chain[${i}].asyncTimeoutMs`, chainTimeoutMs,
                                        MAX_ASYNC_TIMEOUT_MS),
    });
  }

  const bundle = resolveBundlePath(raw['bundle']);
  const kindName = kind === ConfigKind.Network ? 'network' : 'HTTP';
  environmentGrants.grant(id, capabilities);  // in force while the bundle loads (the dispatcher revokes)
  const moduleExports = loadBundle(bundle);
  const available: Map<string, HttpFilter<unknown> | NetworkFilter<unknown>> = kind === ConfigKind.Network
    ? collectFilters(moduleExports, bundle, isNetworkFilter)
    : collectFilters(moduleExports, bundle, isHttpFilter);

  const filters: (LoadedHttpFilter | LoadedNetworkFilter)[] = [];
  const metrics = new MetricList(bundle, defined);
  // Parsed configs that hold resources (dispose.ts) are released if the chain fails to load.
  const parsed: unknown[] = [];
  try {
    for (let i = 0; i < entries.length; i++) {
      const { name, config: rawConfig, cpuBudgetMs, asyncTimeoutMs } = entries[i] as (typeof entries)[number];
      const definition = kind === ConfigKind.Network ? available.get(name)
        : resolveHttpFilter(available as Map<string, HttpFilter<unknown>>, name, binding, bundle);
      if (definition === undefined) {
        const names = [...available.keys()];
        throw new ConfigError(`chain[${i}]: ${kindName} filter '${name}' is not exported by ${bundle} ` +
                              `(available: ${names.length > 0 ? quoteList(names) : 'none'})`);
      }
      const config = parseFilterConfig(name, definition, rawConfig);
      parsed.push(config);
      const declared = declaredMetrics(name, definition.metrics as MetricsOption, config,
                                       kind === ConfigKind.Http);
      filters.push({
        index: i, name, definition, config, log: createLogger(binding, filterPrefix(name)), cpuBudgetMs, asyncTimeoutMs,
        metrics: assignMetrics(name, declared, metrics),
        ...failureMetrics(name, kind, metrics),
        ...(kind === ConfigKind.Http ? { hookStats: hookStatMetrics(name, metrics) } : {}),
      } as LoadedHttpFilter | LoadedNetworkFilter);
    }
  } catch (error) {
    parsed.forEach(disposeConfigValue);
    throw error;
  }
  const cpuBudgetMs = largestBudget(entries.map((entry) => entry.cpuBudgetMs));
  const base = { id, bundle, watch, failurePolicy: policy, offload, capabilities, metrics: metrics.all, cpuBudgetMs,
                 watchSlots: watchSlotsOf(binding) };
  return kind === ConfigKind.Network
    ? networkConfig(base, filters as LoadedNetworkFilter[])
    : httpConfig(base, filters as LoadedHttpFilter[]);
}

/** The largest of some CPU budgets, where 0 (no budget) is the largest. */
export function largestBudget(budgets: readonly number[]): number {
  return budgets.includes(0) ? 0 : Math.max(0, ...budgets);
}

/** A duration in whole milliseconds, 0 to `max` (0 turns the limit off); `fallback` when absent. */
function parseMilliseconds(raw: unknown, field: string, fallback: number, max: number): number {
  if (raw === undefined) return fallback;
  if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < 0 || raw > max) {
    throw new ConfigError(`'${field}' must be an integer number of milliseconds from 0 (no limit) to ${max}, ` +
                          `got ${JSON.stringify(raw)}`);
  }
  return raw;
}

function parseOffload(raw: unknown): OffloadSettings {
  if (raw === undefined) return { threads: 1, idleTimeoutMs: 30_000 };
  if (!isPlainObject(raw)) throw new ConfigError(`'offload' must be an object like {"threads": 2}`);
  const extra = Object.keys(raw).filter((key) => !OFFLOAD_KEYS.includes(key));
  if (extra.length > 0) {
    throw new ConfigError(`'offload' has unknown key(s) ${quoteList(extra)} (allowed: ${quoteList(OFFLOAD_KEYS)})`);
  }
  const threads = raw['threads'] ?? 1;
  if (typeof threads !== 'number' || !Number.isInteger(threads) || threads < 1 || threads > 64) {
    throw new ConfigError(`'offload.threads' must be an integer in 1-64, got ${JSON.stringify(threads)}`);
  }
  const idleTimeoutMs = raw['idleTimeoutMs'] ?? 30_000;
  if (typeof idleTimeoutMs !== 'number' || !Number.isInteger(idleTimeoutMs) || idleTimeoutMs < 0) {
    throw new ConfigError(`'offload.idleTimeoutMs' must be a non-negative integer, got ${JSON.stringify(idleTimeoutMs)}`);
  }
  return { threads, idleTimeoutMs };
}

const METRIC_NAME = /^[a-zA-Z_][a-zA-Z0-9_.]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const METRIC_KINDS: readonly string[] = ['counter', 'gauge', 'histogram'];

type MetricsOption = MetricsDeclaration | ((config: unknown) => MetricsDeclaration) | undefined;

/** A metric as declared, normalised. */
interface Declared {
  readonly kind: MetricKind;
  readonly labels: readonly string[];
}

function declaredMetrics(filterName: string, metrics: MetricsOption, config: unknown,
                         labelsAllowed: boolean): Map<string, Declared> {
  let declared: unknown;
  try {
    declared = typeof metrics === 'function' ? metrics(config) : metrics ?? {};
  } catch (error) {
    throw new ConfigError(`filter '${filterName}': metrics: ${errorMessage(error)}`);
  }
  if (!isPlainObject(declared)) {
    throw new ConfigError(`filter '${filterName}': metrics must be an object of name → 'counter' | 'gauge' | 'histogram'`);
  }
  const result = new Map<string, Declared>();
  for (const [metric, value] of Object.entries(declared)) {
    if (!METRIC_NAME.test(metric)) {
      throw new ConfigError(`filter '${filterName}': invalid metric name '${metric}' (letters, digits, '_' and '.')`);
    }
    const kind: unknown = isPlainObject(value) ? value['kind'] : value;
    const labels: unknown = isPlainObject(value) ? value['labels'] ?? [] : [];
    if (typeof kind !== 'string' || !METRIC_KINDS.includes(kind)) {
      throw new ConfigError(`filter '${filterName}': metric '${metric}' must be 'counter', 'gauge' or 'histogram'`);
    }
    if (!Array.isArray(labels) || !labels.every((label) => typeof label === 'string' && LABEL_NAME.test(label)) ||
        new Set(labels).size !== labels.length) {
      throw new ConfigError(`filter '${filterName}': metric '${metric}': labels must be distinct names ` +
                            `matching ${String(LABEL_NAME)}`);
    }
    if (labels.length > 0 && !labelsAllowed) {
      throw new ConfigError(`filter '${filterName}': metric '${metric}': network filter metrics cannot have ` +
                            `labels (Envoy's network filter metrics have none)`);
    }
    result.set(metric, { kind: kind as MetricKind, labels: labels as string[] });
  }
  return result;
}

/**
 * The metrics of a config being loaded, in index order (what the native side addresses). A filter
 * that appears twice in a chain shares its metrics: one Envoy stat per full name. When Envoy
 * already defined the config's metrics (`defined`: a watch-mode reload), the list is fixed: a
 * metric must be one of them, with its kind and labels.
 */
class MetricList {
  readonly all: MetricDeclaration[];
  readonly #bundle: string;
  readonly #fixed: boolean;

  constructor(bundle: string, defined: readonly MetricDeclaration[] | undefined) {
    this.#bundle = bundle;
    this.#fixed = defined !== undefined;
    this.all = defined === undefined ? [] : [...defined];
  }

  /** The slot of metric `name`: an existing one (which must match), or a new one. */
  slot(name: string, kind: MetricKind, labels: readonly string[], what: string): MetricSlot {
    let index = this.all.findIndex((m) => m.name === name);
    if (index >= 0) {
      const existing = this.all[index] as MetricDeclaration;
      if (existing.kind !== kind || existing.labels.join() !== labels.join()) {
        throw new ConfigError(this.#fixed
          ? `${what} '${name}' is now a ${kind}${labelText(labels)}, was a ${existing.kind}${labelText(existing.labels)}: ` +
            `${RELOAD_METRICS_RULE}`
          : `${what} '${name}' is declared twice, differently`);
      }
    } else if (this.#fixed) {
      throw new ConfigError(`this version of ${this.#bundle} declares the new ${kind} '${name}': ${RELOAD_METRICS_RULE}`);
    } else {
      index = this.all.length;
      this.all.push({ name, kind, labels });
    }
    return { index, kind, labels };
  }
}

/** Why a reload cannot add or change a metric, and what to do. */
const RELOAD_METRICS_RULE = 'Envoy defines a filter config\'s metrics only when it loads the config, so a reload ' +
  'cannot add or change one (the running version keeps serving); restart Envoy, or push the filter config again, ' +
  'to load this version';

function labelText(labels: readonly string[]): string {
  return labels.length === 0 ? '' : ` labelled ${labels.join(', ')}`;
}

function assignMetrics(filterName: string, declared: ReadonlyMap<string, Declared>, all: MetricList): Map<string, MetricSlot> {
  const slots = new Map<string, MetricSlot>();
  for (const [metric, { kind, labels }] of declared) {
    slots.set(metric, all.slot(`${filterName}.${metric}`, kind, labels, 'metric'));
  }
  return slots;
}

// The filter hook each HookKind runs (StreamComplete has its own list, completeChain).
const HTTP_HOOKS: readonly [NativeHookKind, HttpHookName][] = [
  [HookKind.RequestHeaders, 'onRequestHeaders'],
  [HookKind.RequestTrailers, 'onRequestTrailers'],
  [HookKind.ResponseHeaders, 'onResponseHeaders'],
  [HookKind.ResponseTrailers, 'onResponseTrailers'],
  [HookKind.RequestBody, 'onRequestBody'],
  [HookKind.ResponseBody, 'onResponseBody'],
];

/**
 * Every config counts its filters' failures (DESIGN §6), and among them the hooks the CPU watchdog
 * stopped and the promises that timed out: HTTP configs in counters labelled by filter
 * (`envoy_ts.filter_failures`, `envoy_ts.cpu_budget_exceeded`, `envoy_ts.async_timeouts`);
 * network configs (whose metrics have no labels) in counters per filter
 * (`envoy_ts.<filter>.failures`, `.cpu_budget_exceeded`, `.async_timeouts`). Names under
 * `envoy_ts.` are reserved.
 */
function failureMetrics(filterName: string, kind: NativeConfigKind, all: MetricList): FailureMetrics {
  const counter = (http: string, network: string): MetricSlot => kind === ConfigKind.Http
    ? all.slot(`envoy_ts.${http}`, 'counter', ['filter'], 'built-in metric')
    : all.slot(`envoy_ts.${filterName}.${network}`, 'counter', [], 'built-in metric');
  return {
    failures: counter('filter_failures', 'failures'),
    cpuBudgetExceeded: counter('cpu_budget_exceeded', 'cpu_budget_exceeded'),
    asyncTimeouts: counter('async_timeouts', 'async_timeouts'),
  };
}

/**
 * Every HTTP filter's hooks are counted, timed and their pending promises gauged. The names carry
 * the filter (no labels: Envoy records a labelled metric by building its name per call, too slow
 * for every stream): `hook_time_us` gets one sample per stream, the µs the filter's hooks took
 * (each from its call until it returned or its promise settled).
 */
function hookStatMetrics(filterName: string, all: MetricList): LoadedHttpFilter['hookStats'] {
  return {
    invocations: all.slot(`envoy_ts.${filterName}.hook_invocations`, 'counter', [], 'built-in metric'),
    duration: all.slot(`envoy_ts.${filterName}.hook_time_us`, 'histogram', [], 'built-in metric'),
    pending: all.slot(`envoy_ts.${filterName}.hooks_pending`, 'gauge', [], 'built-in metric'),
  };
}

function httpConfig(base: Omit<ConfigBase, never>, filters: LoadedHttpFilter[]): HttpConfig {
  // Indexed by HookKind: request hooks in chain order, response hooks reversed.
  const chains: ChainLink[][] = [];
  chains[HookKind.StreamComplete] = [];
  for (const [kind, hookName] of HTTP_HOOKS) {
    const links: ChainLink[] = [];
    const ordered = directionOf(kind) === BufferKind.Read ? filters : [...filters].reverse();
    for (const filter of ordered) {
      const hook = filter.definition[hookName];
      if (hook !== undefined) links.push({ filter, hook, hookName });
    }
    chains[kind] = links;
  }
  const completeChain = [];
  for (const filter of filters) {
    const hook = filter.definition.onStreamComplete;
    if (hook !== undefined) completeChain.push({ filter, hook });
  }
  return { ...base, kind: ConfigKind.Http, filters, chains, completeChain };
}

function networkConfig(base: Omit<ConfigBase, never>, filters: LoadedNetworkFilter[]): NetworkConfig {
  const withHook = (hook: 'onNewConnection' | 'onData' | 'onWrite' | 'onClose') =>
    filters.filter((filter) => filter.definition[hook] !== undefined);
  return {
    ...base,
    kind: ConfigKind.Network,
    filters,
    connectChain: withHook('onNewConnection'),
    dataChain: withHook('onData'),
    writeChain: withHook('onWrite').reverse(),
    closeChain: withHook('onClose'),
  };
}

/**
 * The filter definitions of one kind a bundle exports, by name: the module itself, its named
 * exports, its default export, and arrays or plain objects of them (one level).
 */
export function collectFilters<F extends { readonly name: string }>(
  moduleExports: unknown, bundle: string, isKind: (value: unknown) => value is F): Map<string, F> {
  const found = new Map<string, F>();
  const add = (value: unknown): boolean => {
    if (!isKind(value)) return false;
    const existing = found.get(value.name);
    if (existing !== undefined && existing !== value) {
      throw new ConfigError(`bundle ${bundle} exports two different filters named '${value.name}'`);
    }
    found.set(value.name, value);
    return true;
  };
  const addGroup = (value: unknown, depth: number): void => {
    if (add(value)) return;
    if (Array.isArray(value)) {
      for (const item of value) add(item);
    } else if (depth > 0 && typeof value === 'object' && value !== null) {
      for (const key of Object.keys(value)) addGroup((value as Record<string, unknown>)[key], depth - 1);
    }
  };
  addGroup(moduleExports, 2);
  return found;
}
