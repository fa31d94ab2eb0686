// ctx.offload: CPU-heavy work on a piscina pool owned by this worker's Node environment (DESIGN
// §3). The pool starts with the first offload and its threads exit when idle. piscina is loaded
// from beside the bundle that asks (its worker script must be a file on disk, so it cannot be
// bundled into the runtime). In a worker environment each task runs through the runner script
// shipped with the module (offload-runner.ts), which hands the result straight to this
// environment and wakes a waiting stream from the pool thread; the worker settles the promise when
// it pumps the loop (offloadDone). Without the runner (inspect mode, or a module installed without
// it), or for a result only piscina can carry, piscina's completion settles the promise on this
// environment's loop, which the waker thread sees.

import { existsSync } from 'fs';
import { createRequire } from 'module';
import { dirname, isAbsolute, resolve } from 'path';

import type { TransferListItem } from 'worker_threads';

import type { OffloadOptions } from '../api/types';
import type { OffloadSettings } from './config';
import { DELIVERED, type RunnerTask } from './offload-protocol';

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

// The runner script, asked for once (undefined: results go piscina's way).
let findRunner: () => string | undefined = () => undefined;
let runner: { readonly path: string | undefined } | undefined;
// Tasks run through the runner whose promise is not settled yet, by task id.
interface Waiter {
  resolve(value: unknown): void;
  reject(reason: unknown): void;
}
const waiters = new Map<number, Waiter>();
let lastTaskId = 0;

/** Where the runner script is (binding.offloadRunner), asked on the first offload. */
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
  const runnerPath = runnerScript();
  if (runnerPath === undefined) {
    return pool.run(input, { filename, ...(options?.name === undefined ? {} : { name: options.name }), ...transfer, signal });
  }
  const taskId = ++lastTaskId;
  const runnerTask: RunnerTask = { filename, name: options?.name ?? 'default', input, taskId };
  return new Promise((resolve, reject) => {
    waiters.set(taskId, { resolve, reject });
    // Piscina's answer settles the promise unless the result came directly (or, aborted, first).
    pool.run(runnerTask, { filename: runnerPath, ...transfer, signal }).then(
      (reply) => { if (reply !== DELIVERED) settle(taskId, false, reply); },
      (error: unknown) => settle(taskId, true, error));
  });
}

function runnerScript(): string | undefined {
  runner ??= { path: findRunner() };
  return runner.path;
}

/** NativeEntries.onOffloadDone: a pool thread handed the result of task `taskId` in. */
export function offloadDone(taskId: number, failed: boolean, value: unknown): void {
  settle(taskId, failed, value);
}

// The first of the two answers settles (an aborted task's rejection may come before its result).
function settle(taskId: number, failed: boolean, value: unknown): void {
  const waiter = waiters.get(taskId);
  if (waiter === undefined) return;
  waiters.delete(taskId);
  if (failed) waiter.reject(value);
  else waiter.resolve(value);
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
