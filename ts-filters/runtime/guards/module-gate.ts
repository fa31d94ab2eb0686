// The capability gate on require(): child_process and cluster (childProcess) and worker_threads
// (workerThreads), with or without the `node:` prefix, load only when a config of the environment
// grants them. Requires made by piscina's own files pass (ctx.offload's pool is built on
// worker_threads), and the runtime's own requires never reach Module._load.
//
// Not gated: `import()` of these modules (ESM loading does not go through Module._load) and
// process.binding(). Module._load stays writable, so instrumentation that wraps it (APM agents)
// keeps working; the wrapper it wraps is this one.

import type { CapabilityGrants } from './capability-grants';
import { capabilityError, type Capability } from './capabilities';

/** What the gate patches: the CommonJS loader (`require('module')`). */
export interface ModuleLoader {
  _load: (request: unknown, parent: unknown, isMain: unknown) => unknown;
}

const GATED_MODULES: ReadonlyMap<string, Capability> = new Map([
  ['child_process', 'childProcess'],
  ['cluster', 'childProcess'],
  ['worker_threads', 'workerThreads'],
]);

// A module inside an installed piscina package (its worker pool needs worker_threads).
const PISCINA_DIR = /[\\/]node_modules[\\/]piscina[\\/]/;

/** The builtin a require() request names, or undefined when it names no gated module. */
export function gatedCapability(request: unknown): Capability | undefined {
  if (typeof request !== 'string') return undefined;
  return GATED_MODULES.get(request.startsWith('node:') ? request.slice(5) : request);
}

function requiredByPiscina(parent: unknown): boolean {
  const filename: unknown = typeof parent === 'object' && parent !== null
    ? (parent as { filename?: unknown }).filename : undefined;
  return typeof filename === 'string' && PISCINA_DIR.test(filename);
}

/** Wrap `loader._load` so a gated module loads only when granted (or for piscina). */
export function installModuleGate(loader: ModuleLoader, grants: CapabilityGrants): void {
  const load = loader._load;
  loader._load = function gatedLoad(this: unknown, request: unknown, parent: unknown, isMain: unknown): unknown {
    const capability = gatedCapability(request);
    if (capability !== undefined && !grants.has(capability) && !requiredByPiscina(parent)) {
      throw capabilityError(String(request).replace(/^node:/, ''), capability);
    }
    // eslint-disable-next-line prefer-rest-params
    return Reflect.apply(load, this, arguments);
  };
}
