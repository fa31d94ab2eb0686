// Runs a ctx.offload task on a pool thread: piscina runs this script for every offload of a
// worker's environment (offload.ts), which names the task module. As the task ends, the runner
// wakes the stream that waits for it from this thread:
// process._linkedBinding('envoy_ts_offload').wake commits the event on the newest waiting stream's
// scheduler (native/bridge/offload_binding.cc), and piscina posts the result right after, as
// always: the worker runs its loop in that event and usually finds the result there, with no waker
// thread in between (when it gets there first, the waker thread sees the result arrive). What the
// task returns or throws goes back untouched, piscina's way (transfers, Piscina.move(), errors).
// Shipped next to libenvoy_ts.so as envoy-ts-offload-runner.js.

import { pathToFileURL } from 'url';

import type { RunnerTask } from './offload-protocol';

type Handler = (input: unknown) => unknown;

interface PoolBinding {
  wake(): void;
}

const handlers = new Map<string, Handler>();
let binding: PoolBinding | undefined;

// import() kept as it is (the bundler would turn it into require()), for task modules that are
// ES modules.
// eslint-disable-next-line @typescript-eslint/no-implied-eval
const importModule = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<unknown>;

/** The environment's binding, absent outside an envoy-ts worker environment's pool (where the
 *  runtime does not use this script). */
function poolBinding(): PoolBinding | undefined {
  try {
    binding ??= (process as unknown as { _linkedBinding(name: string): PoolBinding })._linkedBinding('envoy_ts_offload');
  } catch {
    // Plain Node: there is no stream to wake.
  }
  return binding;
}

function asHandler(value: unknown): Handler | undefined {
  return typeof value === 'function' ? value as Handler : undefined;
}

/** Export `name` of a CommonJS module as piscina's interop sees it: `default` is the module itself
 *  unless it was compiled from an ES module. */
function requiredExport(module: unknown, name: string): Handler | undefined {
  const exports = module as Record<string, unknown> | null | undefined;
  return asHandler(name === 'default' && exports?.['__esModule'] !== true ? module : exports?.[name]);
}

/** The task's function as piscina finds it: export `name` ('default' unless the offload named
 *  one) of the module, loaded with require(), or with import() when that gives none. */
async function handlerOf(filename: string, name: string): Promise<Handler> {
  const key = `${filename}\0${name}`;
  let handler = handlers.get(key);
  if (handler !== undefined) return handler;
  try {
    handler = requiredExport(require(filename), name);
  } catch {
    handler = undefined;
  }
  handler ??= asHandler((await importModule(pathToFileURL(filename).href) as Record<string, unknown>)[name]);
  if (handler === undefined) throw new Error(`No handler function exported from ${filename}`);
  handlers.set(key, handler);
  return handler;
}

export default async function runOffloadTask(task: RunnerTask): Promise<unknown> {
  try {
    return await (await handlerOf(task.filename, task.name))(task.input);
  } finally {
    // Piscina posts the result a few promise jobs from here (once the task's output drained, if it
    // printed): the worker, woken now, usually finds it on its loop. When it gets there first, the
    // waker thread sees the result arrive, as before.
    poolBinding()?.wake();
  }
}
