// Filters a chain can name without a bundle exporting them: `proxy-wasm` (a proxy-wasm module run
// by the host in proxy-wasm/). Their names are reserved: a bundle exporting one is refused.

import { ConfigError } from '../api/errors';
import type { HttpFilter } from '../api/http-filter';
import type { NativeBinding } from './native';
import { PROXY_WASM_FILTER, proxyWasmFilter } from './proxy-wasm/filter';

/** The HTTP filter `name` names: the bundle's, or a built-in one; undefined for neither. */
export function resolveHttpFilter(available: ReadonlyMap<string, HttpFilter<unknown>>, name: string,
                                  binding: NativeBinding, bundle: string): HttpFilter<unknown> | undefined {
  if (available.has(PROXY_WASM_FILTER)) {
    throw new ConfigError(`bundle ${bundle} exports a filter named '${PROXY_WASM_FILTER}': the name is reserved ` +
                          'for proxy-wasm modules');
  }
  if (name === PROXY_WASM_FILTER) return proxyWasmFilter(binding);
  return available.get(name);
}
