// defineHttpFilter and the definition it makes.

import { checkFilterOptions } from './filter-options';
import { HTTP_FILTER_BRAND_VERSION, kHttpFilter } from './symbols';
import type { MetricsDeclaration } from './metrics';
import type { HttpBodyHook, HttpHeadersHook, HttpStreamCompleteHook } from './types';

/** What an author passes to `defineHttpFilter`. Every hook is optional. */
export interface HttpFilterOptions<C = undefined> {
  /** Name used in the chain config (`{"name": ...}`) and in logs. */
  readonly name: string;
  /**
   * JSON Schema (draft 2020-12) of the chain entry's raw `config`, checked when the config loads:
   * Envoy rejects a config that does not match, naming each offending field. `default`s fill in
   * (an absent config of an object schema counts as `{}`), then `parseConfig` (if any) runs.
   */
  readonly configSchema?: object;
  /**
   * Validate and convert the chain entry's `config` (undefined when absent; checked against
   * configSchema first when there is one). Throw to reject
   * the config; the message reaches Envoy's log as `filter '<name>': <message>`.
   */
  readonly parseConfig?: (raw: unknown) => C;
  /** Runs for the request headers, in chain order. */
  readonly onRequestHeaders?: HttpHeadersHook<C>;
  /** Runs for the response headers, in reverse chain order (like Envoy's encoder filters). */
  readonly onResponseHeaders?: HttpHeadersHook<C>;
  /**
   * Runs for each chunk of the request body as it streams through, in chain order (zero-copy views;
   * see `BodyChunk`). To read the whole body instead, `await ctx.requestBody.bytes()` in
   * `onRequestHeaders`.
   */
  readonly onRequestBody?: HttpBodyHook<C>;
  /** Runs for each chunk of the response body, in reverse chain order. */
  readonly onResponseBody?: HttpBodyHook<C>;
  /** Runs for the request trailers (when the request has any), in chain order. */
  readonly onRequestTrailers?: HttpHeadersHook<C>;
  /** Runs for the response trailers (when the response has any), in reverse chain order. */
  readonly onResponseTrailers?: HttpHeadersHook<C>;
  /**
   * Runs when the stream is complete, in chain order, for end-of-stream work (e.g. access-log-like
   * records). Synchronous; headers are still readable.
   */
  readonly onStreamComplete?: HttpStreamCompleteHook<C>;
  /**
   * Metrics this filter uses, with optional labels; a function of the parsed config when their
   * set depends on it. Envoy defines them when the config loads.
   */
  readonly metrics?: MetricsDeclaration | ((config: C) => MetricsDeclaration);
}

/** A branded HTTP filter definition, as exported from a filter bundle. */
export interface HttpFilter<C = undefined> extends HttpFilterOptions<C> {
  /** @internal */
  readonly [kHttpFilter]: typeof HTTP_FILTER_BRAND_VERSION;
}

const HOOK_KEYS = ['parseConfig', 'onRequestHeaders', 'onResponseHeaders', 'onRequestBody', 'onResponseBody',
                   'onRequestTrailers', 'onResponseTrailers', 'onStreamComplete'] as const;

/**
 * Define an HTTP filter. Export the result from your bundle; the chain config refers to it by name.
 * Throws a `TypeError` for an empty name or a hook that is not a function.
 */
export function defineHttpFilter<C = undefined>(options: HttpFilterOptions<C>): HttpFilter<C> {
  checkFilterOptions('defineHttpFilter', options, HOOK_KEYS);
  return Object.freeze({ ...options, [kHttpFilter]: HTTP_FILTER_BRAND_VERSION });
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
