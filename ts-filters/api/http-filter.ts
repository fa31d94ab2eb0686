// defineHttpFilter and the definition it makes.

import type { ConfigFromSchema, FilterConfig } from './config-schema';
import { checkFilterOptions } from './filter-options';
import { HTTP_FILTER_BRAND_VERSION, kHttpFilter } from './symbols';
import type { MetricsDeclaration } from './metrics';
import type { HttpBodyHook, HttpHeadersHook, HttpStreamCompleteHook } from './types';

/**
 * What an author passes to `defineHttpFilter`. Every hook is optional.
 *
 * Type parameters: `C`, the config the hooks see (`ctx.config`); `M`, the declared metrics;
 * `S`, the `configSchema`'s literal type; `P`, what `parseConfig` returns (`C` unless
 * `defineHttpFilter` works the config out from the schema).
 */
export interface HttpFilterOptions<C = undefined, M extends MetricsDeclaration = MetricsDeclaration,
                                   S extends object = object, P = C> {
  /** Name used in the chain config (`{"name": ...}`) and in logs. */
  readonly name: string;
  /**
   * JSON Schema (draft 2020-12) of the chain entry's raw `config`, checked when the config loads:
   * Envoy rejects a config that does not match, naming each offending field. `default`s fill in
   * (an absent config of an object schema counts as `{}`), then `parseConfig` (if any) runs.
   * Written inline or as a variable declared `as const`, it also types the config: without
   * `parseConfig`, `ctx.config` is what the schema describes (see `ConfigFromSchema`).
   */
  readonly configSchema?: S;
  /**
   * Validate and convert the chain entry's `config` (undefined when absent; checked against
   * configSchema first when there is one, so `raw` is typed from a literal schema). Throw to reject
   * the config; the message reaches Envoy's log as `filter '<name>': <message>`. What it returns is
   * `ctx.config`. Write it before the hooks: its return type types them.
   */
  readonly parseConfig?: (raw: ConfigFromSchema<S>) => P;
  /** Runs for the request headers, in chain order. */
  readonly onRequestHeaders?: HttpHeadersHook<C, M>;
  /** Runs for the response headers, in reverse chain order (like Envoy's encoder filters). */
  readonly onResponseHeaders?: HttpHeadersHook<C, M>;
  /**
   * Runs for each chunk of the request body as it streams through, in chain order (zero-copy views;
   * see `BodyChunk`). To read the whole body instead, `await ctx.requestBody.bytes()` in
   * `onRequestHeaders`.
   */
  readonly onRequestBody?: HttpBodyHook<C, M>;
  /** Runs for each chunk of the response body, in reverse chain order. */
  readonly onResponseBody?: HttpBodyHook<C, M>;
  /** Runs for the request trailers (when the request has any), in chain order. */
  readonly onRequestTrailers?: HttpHeadersHook<C, M>;
  /** Runs for the response trailers (when the response has any), in reverse chain order. */
  readonly onResponseTrailers?: HttpHeadersHook<C, M>;
  /**
   * Runs when the stream is complete, in chain order, for end-of-stream work (e.g. access-log-like
   * records). Synchronous; headers are still readable.
   */
  readonly onStreamComplete?: HttpStreamCompleteHook<C, M>;
  /**
   * Metrics this filter uses, with optional labels; a function of the parsed config when their
   * set depends on it. Envoy defines them when the config loads. Their names, kinds and labels
   * type `ctx.metrics` (see `DeclaredMetrics`).
   */
  readonly metrics?: M | ((config: C) => M);
}

/** A branded HTTP filter definition, as exported from a filter bundle. */
export interface HttpFilter<C = undefined, M extends MetricsDeclaration = MetricsDeclaration>
  extends HttpFilterOptions<C, M> {
  /** @internal */
  readonly [kHttpFilter]: typeof HTTP_FILTER_BRAND_VERSION;
}

const HOOK_KEYS = ['parseConfig', 'onRequestHeaders', 'onResponseHeaders', 'onRequestBody', 'onResponseBody',
                   'onRequestTrailers', 'onResponseTrailers', 'onStreamComplete'] as const;

/**
 * Define an HTTP filter. Export the result from your bundle; the chain config refers to it by name.
 * Throws a `TypeError` for an empty name or a hook that is not a function.
 *
 * The types follow from the options: `ctx.config` is what `parseConfig` returns, or without it
 * what a literal `configSchema` describes; `ctx.metrics` takes the declared metric names, the
 * operations of their kinds and their labels. `defineHttpFilter<MyConfig>(...)` sets the config
 * type instead (add the metrics type, `defineHttpFilter<MyConfig, typeof metrics>`, to keep
 * `ctx.metrics` typed).
 *
 * @example
 * export const apiKey = defineHttpFilter({
 *   name: 'api-key',
 *   configSchema: {
 *     type: 'object',
 *     properties: { header: { type: 'string', default: 'x-api-key' }, keys: { type: 'array', items: { type: 'string' } } },
 *     required: ['keys'],
 *   },
 *   metrics: { denied: { kind: 'counter', labels: ['reason'] } },
 *   onRequestHeaders(headers, ctx) {
 *     const key = headers.get(ctx.config.header);  // header: string (defaulted), keys: string[]
 *     if (key !== null && ctx.config.keys.includes(key)) return;
 *     ctx.metrics.increment('denied', 1, { reason: key === null ? 'missing' : 'unknown' });
 *     return new Response('forbidden', { status: 403 });
 *   },
 * });
 */
export function defineHttpFilter<P = never, const M extends MetricsDeclaration = MetricsDeclaration,
                                 const S extends object = object>(
  options: HttpFilterOptions<FilterConfig<P, S>, M, S, P>,
): HttpFilter<FilterConfig<P, S>, M> {
  checkFilterOptions('defineHttpFilter', options, HOOK_KEYS);
  // The runtime checks the config against configSchema before parseConfig sees it: the definition
  // it keeps takes the raw config as `unknown`.
  return Object.freeze({ ...options, [kHttpFilter]: HTTP_FILTER_BRAND_VERSION }) as HttpFilter<FilterConfig<P, S>, M>;
}

/**
 * Whether a value is an HttpFilter made by any bundle's copy of `defineHttpFilter`.
 * @internal
 */
export function isHttpFilter(value: unknown): value is HttpFilter<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { [kHttpFilter]?: unknown })[kHttpFilter] === HTTP_FILTER_BRAND_VERSION
  );
}
