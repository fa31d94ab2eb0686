// The `proxy-wasm` chain entry: an HTTP filter, made with envoy-ts's own defineHttpFilter, whose
// hooks run a proxy-wasm module's callbacks. Everything envoy-ts does for a filter applies to it
// as to any other: its config is checked when Envoy loads the chain, its hooks run in chain order
// under the CPU budget, a throw (a trap in the module) gets the failure policy, routes can disable
// it, and its metrics are defined in Envoy with the config.

import { defineHttpFilter, type HttpFilter } from '../../api/http-filter';
import type { BodyChunk, HeaderMap, HttpFilterContext } from '../../api/types';
import { kRuntimeFilterState, type FilterContext } from '../context';
import { kDisposeConfig } from '../dispose';
import { kHeaderCount, type HeaderMapView } from '../header-map';
import { filterPrefix } from '../log';
import type { NativeBinding } from '../native';
import { hostOf } from './host';
import { Plugin } from './plugin';
import { SETTINGS_SCHEMA, parseSettings } from './settings';
import { StreamContext, type Direction } from './stream-context';

/** The chain entry name of proxy-wasm modules; `proxy-wasm.<label>` names one apart from others. */
export const PROXY_WASM_FILTER = 'proxy-wasm';
const LABELLED = /^proxy-wasm\.[A-Za-z0-9_-]+$/;

/** Whether a chain entry (or per-route) name designates a proxy-wasm module. */
export function isProxyWasmName(name: string): boolean {
  return name === PROXY_WASM_FILTER || LABELLED.test(name);
}

// Per environment, per name.
const definitions = new WeakMap<NativeBinding, Map<string, HttpFilter<unknown>>>();

/** The proxy-wasm filter named `name` in the environment `binding` belongs to. */
export function proxyWasmFilter(binding: NativeBinding, name: string): HttpFilter<unknown> {
  let byName = definitions.get(binding);
  if (byName === undefined) {
    byName = new Map();
    definitions.set(binding, byName);
  }
  let definition = byName.get(name);
  if (definition === undefined) {
    definition = makeFilter(binding, name);
    byName.set(name, definition);
  }
  return definition;
}

function makeFilter(binding: NativeBinding, name: string): HttpFilter<unknown> {
  const host = hostOf(binding);

  // The stream's stream context, kept on the filter context (one per filter per stream).
  const streamOf = (ctx: HttpFilterContext<unknown>): StreamContext => {
    const state = ctx as FilterContext;
    const existing = state[kRuntimeFilterState];
    if (existing !== undefined) return existing as StreamContext;
    const plugin = ctx.config as Plugin;
    const vm = plugin.liveVm();
    host.deliverQueues();
    if (vm.metrics.waiting) vm.metrics.flush(ctx.metrics);
    const stream = new StreamContext(plugin, vm, ctx);
    state[kRuntimeFilterState] = stream;
    return stream;
  };

  const headers = (direction: Direction, callback: string) =>
    (map: HeaderMap, ctx: HttpFilterContext<unknown>): Promise<void> | undefined => {
      const stream = streamOf(ctx);
      stream.beginCallback(direction);
      const action = stream.vm.call(stream.record, callback, stream.record.id, countEntries(map),
                                    ctx.endOfStream ? 1 : 0);
      return stream.afterHeaders(direction, action, !ctx.endOfStream);
    };

  const body = (direction: Direction, callback: string) =>
    (chunk: BodyChunk, ctx: HttpFilterContext<unknown>): Promise<void> | undefined => {
      const stream = streamOf(ctx);
      if (stream.bodyShown(direction)) return undefined;
      stream.beforeBody(direction, chunk);
      stream.beginCallback(direction);
      const action = stream.vm.call(stream.record, callback, stream.record.id, chunk.length,
                                    chunk.endOfStream ? 1 : 0);
      return stream.afterBody(direction, action, chunk);
    };

  const trailers = (direction: Direction, callback: string) =>
    (map: HeaderMap, ctx: HttpFilterContext<unknown>): Promise<void> | undefined => {
      const stream = streamOf(ctx);
      const held = stream.heldBytes(direction);
      if (held > 0) {
        throw new Error(`${callback}: the module still buffers ${held} body bytes (StopIterationAndBuffer) and ` +
                        'trailers arrived: envoy-ts cannot pass buffered bytes on with trailers');
      }
      stream.trailers[direction] = map;
      stream.beginCallback(direction);
      const action = stream.vm.call(stream.record, callback, stream.record.id, countEntries(map));
      const waiting = stream.afterHeaders(direction, action);
      if (waiting === undefined) stream.trailers[direction] = undefined;
      return waiting;
    };

  return defineHttpFilter({
    name,
    configSchema: SETTINGS_SCHEMA,
    parseConfig: (raw: unknown): unknown => {
      const settings = parseSettings(raw);
      const rootId = settings.rootId === '' ? '' : `[root_id=${settings.rootId}]`;
      const plugin = new Plugin(host, settings, name, `${filterPrefix(name).trimEnd()}${rootId} `);
      return Object.defineProperty(plugin, kDisposeConfig, { value: () => plugin.dispose() });
    },
    metrics: (config: unknown) => (config as Plugin).declaration(),
    onRequestHeaders: headers(0, 'proxy_on_request_headers'),
    onRequestBody: body(0, 'proxy_on_request_body'),
    onRequestTrailers: trailers(0, 'proxy_on_request_trailers'),
    onResponseHeaders: headers(1, 'proxy_on_response_headers'),
    onResponseBody: body(1, 'proxy_on_response_body'),
    onResponseTrailers: trailers(1, 'proxy_on_response_trailers'),
    onStreamComplete: (ctx: HttpFilterContext<unknown>): void => {
      ((ctx as FilterContext)[kRuntimeFilterState] as StreamContext | undefined)?.complete();
    },
  }) as HttpFilter<unknown>;
}

// What the ABI passes headers callbacks: how many entries the map has (the runtime's maps count
// them without copying them).
function countEntries(map: HeaderMap): number {
  return (map as HeaderMapView)[kHeaderCount]();
}
