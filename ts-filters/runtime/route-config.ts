// Per-route configs (DynamicModuleFilterPerRoute): overrides of a chain's filters for the routes
// that carry them — a filter disabled, or given another config. Validated when Envoy loads the
// route configuration, against the filters of the bundle they name.
//
//   {"bundle": "...", "filters": {"header-auth": {"config": {...}}, "async-delay": {"disabled": true}}}

import { ConfigError } from '../api/errors';
import { resolveHttpFilter } from './builtin-filters';
import { loadHttpFilters, parseConfigObject, parseFilterConfig, type BundleLoader } from './config';
import { disposeConfigValue } from './dispose';
import type { NativeBinding } from './native';

/** What a route changes for one filter. */
export interface FilterOverride {
  readonly disabled: boolean;
  /** Present when the route gives the filter its own config (already through parseConfig). */
  readonly config?: { readonly value: unknown };
}

/** A validated per-route config. */
export interface RouteConfig {
  readonly id: number;
  /** The resolved bundle path: the overrides apply to chains loaded from the same bundle. */
  readonly bundle: string;
  readonly overrides: ReadonlyMap<string, FilterOverride>;
}

const ENTRY_KEYS = ['disabled', 'config'];

/** Parse and validate a per-route filter_config. Throws ConfigError naming the problem. */
export function loadRouteConfig(id: number, json: string, loadBundle: BundleLoader, binding: NativeBinding): RouteConfig {
  const raw = parseConfigObject(json, ['bundle', 'filters']);
  const { bundle, available } = loadHttpFilters(raw['bundle'], loadBundle);
  const filters = raw['filters'];
  if (typeof filters !== 'object' || filters === null || Array.isArray(filters) ||
      Object.keys(filters).length === 0) {
    throw new ConfigError(`'filters' must be a non-empty object: {"<filter>": {"disabled": true} | {"config": ...}}`);
  }
  const overrides = new Map<string, FilterOverride>();
  try {
    collectOverrides(filters as Record<string, unknown>, available, binding, bundle, overrides);
  } catch (error) {
    disposeRouteConfig({ id, bundle, overrides });
    throw error;
  }
  return { id, bundle, overrides };
}

/** Release what a route config's parsed filter configs hold (dispose.ts). */
export function disposeRouteConfig(route: RouteConfig): void {
  for (const override of route.overrides.values()) disposeConfigValue(override.config?.value);
}

function collectOverrides(filters: Record<string, unknown>, available: ReturnType<typeof loadHttpFilters>['available'],
                          binding: NativeBinding, bundle: string, overrides: Map<string, FilterOverride>): void {
  for (const [name, entry] of Object.entries(filters)) {
    const definition = resolveHttpFilter(available, name, binding, bundle);
    if (definition === undefined) {
      throw new ConfigError(`filters.${name}: HTTP filter '${name}' is not exported by ${bundle} ` +
                            `(available: ${[...available.keys()].map((n) => `'${n}'`).join(', ') || 'none'})`);
    }
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      throw new ConfigError(`filters.${name} must be {"disabled": true} or {"config": ...}`);
    }
    const fields = entry as Record<string, unknown>;
    const extra = Object.keys(fields).filter((key) => !ENTRY_KEYS.includes(key));
    if (extra.length > 0) {
      throw new ConfigError(`filters.${name} has unknown key(s) ${extra.map((k) => `'${k}'`).join(', ')} ` +
                            `(allowed: 'disabled', 'config')`);
    }
    const disabled = fields['disabled'] ?? false;
    if (typeof disabled !== 'boolean') throw new ConfigError(`filters.${name}.disabled must be a boolean`);
    const hasConfig = 'config' in fields;
    if (disabled && hasConfig) {
      throw new ConfigError(`filters.${name}: a disabled filter takes no config`);
    }
    if (!disabled && !hasConfig) {
      throw new ConfigError(`filters.${name} must set "disabled": true or give a "config"`);
    }
    overrides.set(name, hasConfig
      ? { disabled, config: { value: parseFilterConfig(name, definition, fields['config']) } }
      : { disabled });
  }
}
