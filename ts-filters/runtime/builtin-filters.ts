// Filters a chain can name without a bundle exporting them: `proxy-wasm` and `proxy-wasm.<label>`
// (a proxy-wasm module run by the host in proxy-wasm/; the label tells modules of one chain apart
// in logs, stats and per-route configs). Their names are reserved: a bundle exporting one is
// refused.

import { ConfigError } from '../api/errors';
import type { HttpFilter } from '../api/http-filter';
import type { NativeBinding } from './native';
import { isProxyWasmName, proxyWasmFilter } from './proxy-wasm/filter';

/** The HTTP filter `name` names: the bundle's, or a built-in one; undefined for neither. */
export function resolveHttpFilter(available: ReadonlyMap<string, HttpFilter<unknown>>, name: string,
                                  binding: NativeBinding, bundle: string): HttpFilter<unknown> | undefined {
  for (const exported of available.keys()) {
    if (isProxyWasmName(exported)) {
      throw new ConfigError(`bundle ${bundle} exports a filter named '${exported}': names 'proxy-wasm' and ` +
                            "'proxy-wasm.<label>' are reserved for proxy-wasm modules");
    }
  }
  if (isProxyWasmName(name)) return proxyWasmFilter(binding, name);
  return available.get(name);
}
