// dev serves the project's envoy.yaml with `"watch": true` in every envoy-ts filter config, so the
// module reloads a rebuilt bundle without Envoy (hot reload: running streams finish on the old
// code, nothing is dropped). The user's file is left as it is; dev runs a copy.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

import { stringify } from 'yaml';

interface ModuleFilterConfig {
  filter_name?: unknown;
  dynamic_module_config?: { name?: unknown };
  filter_config?: { value?: unknown };
}

/** Sets `watch` in each envoy-ts filter config (HTTP and network) under `node`; returns how many. */
function enableWatch(node: unknown): number {
  if (Array.isArray(node)) return node.reduce((n: number, child) => n + enableWatch(child), 0);
  if (typeof node !== 'object' || node === null) return 0;
  const candidate = node as ModuleFilterConfig;
  if (candidate.dynamic_module_config?.name === 'envoy_ts' && candidate.filter_name === 'chain' &&
      typeof candidate.filter_config?.value === 'string') {
    let chain: Record<string, unknown>;
    try {
      chain = JSON.parse(candidate.filter_config.value) as Record<string, unknown>;
    } catch (error) {
      throw new Error(`an envoy_ts filter_config is not JSON: ${(error as Error).message}`);
    }
    candidate.filter_config.value = JSON.stringify({ ...chain, watch: true });
    return 1;
  }
  return Object.values(node).reduce((n: number, child) => n + enableWatch(child), 0);
}

/**
 * Writes a copy of the envoy.yaml at `configPath` (`config`, as parsed; watch is set in it) with
 * watch on, and returns its path; throws when it has no envoy-ts filter.
 */
export function watchingCopy(configPath: string, config: unknown): string {
  if (enableWatch(config) === 0) {
    throw new Error(`${configPath} has no envoy_ts filter with filter_name "chain" to serve`);
  }
  const copy = join(mkdtempSync(join(tmpdir(), 'envoy-ts-dev-')), basename(configPath));
  writeFileSync(copy, stringify(config));
  return copy;
}
