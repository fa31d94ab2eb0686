// Runs a ctx.offload task on a pool thread: piscina runs this script for every offload of a
// worker's environment (offload.ts), which names the task module. The result goes straight to the
// environment that asked: process._linkedBinding('envoy_ts_offload').deliver serializes it, queues
// it there and commits the event on a waiting stream's scheduler from this thread
// (native/bridge/offload_binding.cc), so the stream goes on without the waker thread. What the
// binding cannot serialize (a SharedArrayBuffer, a MessagePort, a Node object such as a KeyObject)
// and a result moved with Piscina.move() go back piscina's own way, returned or thrown as piscina
// would. Shipped next to libenvoy_ts.so as envoy-ts-offload-runner.js.

import { pathToFileURL } from 'url';

import { DELIVERED, type RunnerTask } from './offload-protocol';

type Handler = (input: unknown) => unknown;

interface PoolBinding {
  deliver(taskId: number, failed: boolean, value: unknown): boolean;
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
    // Plain Node: piscina carries the result.
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

/** A result returned with Piscina.move(): piscina must transfer it. */
function isMoved(value: unknown): boolean {
  return value !== null && typeof value === 'object' && Symbol.for('Piscina.transferable') in value &&
    Symbol.for('Piscina.valueOf') in value;
}

/** What the task printed goes out before its result, as piscina has it. */
async function flushStdio(): Promise<void> {
  for (const stream of [process.stdout, process.stderr]) {
    if (stream.writableLength > 0) await new Promise<void>((resolve) => stream.write('', () => resolve()));
  }
}

export default async function runOffloadTask(task: RunnerTask): Promise<unknown> {
  let result: unknown;
  let failed = false;
  try {
    result = await (await handlerOf(task.filename, task.name))(task.input);
  } catch (error) {
    result = error;
    failed = true;
  }
  await flushStdio();
  const direct = poolBinding();
  if (direct !== undefined && !isMoved(result) && direct.deliver(task.taskId, failed, result)) return DELIVERED;
  if (failed) throw result;
  return result;
}
