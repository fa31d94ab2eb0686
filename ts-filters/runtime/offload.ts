// ctx.offload: CPU-heavy work on a piscina pool owned by this worker's Node environment (DESIGN
// §3). The pool starts with the first offload and its threads exit when idle. piscina is loaded
// from beside the bundle that asks (its worker script must be a file on disk, so it cannot be
// bundled into the runtime); its completion settles the promise on this environment's loop,
// which resumes the stream like any other async work. In a worker environment each task runs
// through the runner script the module ships (offload-runner.ts), whose pool thread wakes the
// waiting stream itself as the task ends; without it (inspect mode, or a module installed without
// the script) the waker thread sees the result arrive on the loop.

import { existsSync } from 'fs';
import { createRequire } from 'module';
import { dirname, isAbsolute, resolve } from 'path';

import type { TransferListItem } from 'worker_threads';

import type { OffloadOptions } from '../api/types';
import type { OffloadSettings } from './config';
import type { RunnerTask } from './offload-protocol';

/** What the runtime uses of a piscina 4 pool. */
interface Pool {
  run(task: unknown, options: { filename: string; name?: string; signal?: AbortSignal;
    transferList?: readonly TransferListItem[] }): Promise<unknown>;
}
type PiscinaConstructor = new (options: { maxThreads: number; minThreads: number; idleTimeout: number;
  recordTiming: boolean }) => Pool;

// One pool per piscina copy (bundles in different folders may resolve different ones), found
// once per bundle: resolving it walks the file system.
const pools = new Map<string, Pool>();
const bundlePools = new Map<string, Pool>();
const taskPaths = new Map<string, string>();

// Where the runner script is, asked once (binding.offloadRunner; undefined: tasks run as they are).
let findRunner: () => string | undefined = () => undefined;
let runner: { readonly path: string | undefined } | undefined;

/** How to find the runner script, asked on the first offload. */
export function useOffloadRunner(find: () => string | undefined): void {
  findRunner = find;
  runner = undefined;
}

/** Run `task`'s export (default, or `options.name`) with `input` on the pool. */
export function offloadTask(bundle: string, settings: OffloadSettings, task: string | URL, input: unknown,
                            options: OffloadOptions | undefined, signal: AbortSignal): Promise<unknown> {
  const filename = taskPath(bundle, task);
  const pool = poolFor(bundle, settings);
  const transfer = options?.transferList === undefined ? {} : { transferList: options.transferList };
  runner ??= { path: findRunner() };
  if (runner.path === undefined) {
    return pool.run(input, { filename, ...(options?.name === undefined ? {} : { name: options.name }), ...transfer, signal });
  }
  const runnerTask: RunnerTask = { filename, name: options?.name ?? 'default', input };
  return pool.run(runnerTask, { filename: runner.path, ...transfer, signal });
}

// A relative task path is resolved against the bundle's folder.
function taskPath(bundle: string, task: string | URL): string {
  const key = `${bundle}\0${String(task)}`;
  let path = taskPaths.get(key);
  if (path === undefined) {
    if (task instanceof URL || (typeof task === 'string' && task.startsWith('file:'))) {
      const url = new URL(String(task));
      if (url.protocol !== 'file:') throw new TypeError(`offload(): ${String(task)} is not a file: URL`);
      path = decodeURIComponent(url.pathname);
    } else if (typeof task === 'string' && task !== '') {
      path = isAbsolute(task) ? task : resolve(dirname(bundle), task);
    } else {
      throw new TypeError('offload(): the task must be a module path (relative to the bundle) or a file: URL');
    }
    if (!existsSync(path)) throw new TypeError(`offload(): task module ${path} does not exist`);
    taskPaths.set(key, path);
  }
  return path;
}

function poolFor(bundle: string, settings: OffloadSettings): Pool {
  const known = bundlePools.get(bundle);
  if (known !== undefined) return known;
  const require = createRequire(bundle);
  let piscinaPath: string;
  try {
    piscinaPath = require.resolve('piscina');
  } catch (error) {
    throw new Error(`offload() needs piscina 4 installed where the bundle ${bundle} can require it ` +
                    `(npm install piscina@4): ${(error as Error).message}`);
  }
  let pool = pools.get(piscinaPath);
  if (pool === undefined) {
    const loaded = require(piscinaPath) as { Piscina?: PiscinaConstructor } & PiscinaConstructor;
    const Piscina = loaded.Piscina ?? loaded;
    // recordTiming off: nothing reads piscina's run/wait histograms.
    pool = new Piscina({ maxThreads: settings.threads, minThreads: 0, idleTimeout: settings.idleTimeoutMs,
                         recordTiming: false });
    pools.set(piscinaPath, pool);
  }
  bundlePools.set(bundle, pool);
  return pool;
}
