// Inspect mode (ENVOY_TS_INSPECT; native/runtime/inspector.h): this worker environment opens Node's
// inspector on the port the native side chose, and says where in one log line that tools parse:
//
//   [envoy-ts] inspector for worker environment <N>: ws://<host>:<port>/<uuid>
//
// In inspect mode the environment's event loop also runs on the waker thread while the worker is
// idle (native/runtime/idle_turns.cc), so the inspector answers then. Binding calls that reach
// Envoy (or the worker's table of streams) are only valid on the worker: while the loop runs on
// the waker thread they throw ETS_ERR_WRONG_THREAD instead.

import inspector from 'inspector';

import { LogLevel, WatchSlot } from './codes';
import { watchSlotsOf } from './cpu-budget';
import { RUNTIME_PREFIX, writeLog } from './log';
import type { NativeBinding } from './native';
import { ReflectApply } from './primordials';

/** Binding functions safe from any thread: they reach nothing of a worker (Envoy's log is
 *  thread-safe; the shared counters, token buckets, data and queues are process-wide and locked;
 *  the stats clock writes only its cell; the offload runner's path and counts are constant or
 *  locked). */
const ANY_THREAD = new Set(['log', 'logEnabled', 'sharedCounterAdd', 'sharedCounterGet', 'sharedTokensTake',
                            'sharedDataGet', 'sharedDataSet', 'sharedQueueRegister', 'sharedQueueResolve',
                            'sharedQueueEnqueue', 'sharedQueueDequeue', 'sharedQueueLength', 'stampClock',
                            'offloadRunner', 'offloadCounts']);

interface InspectorSettings { number: number; host: string; port: number }

const SETTINGS_KEY = Symbol.for('envoy-ts.inspector');

/** What the native side handed over for inspect mode (read once, then removed: bundles never see
 *  it), or undefined outside inspect mode and in the main-thread environment. */
export function takeInspectorSettings(proc: NodeJS.Process): InspectorSettings | undefined {
  const holder = proc as unknown as Record<symbol, InspectorSettings | undefined>;
  const settings = holder[SETTINGS_KEY];
  if (settings !== undefined) delete holder[SETTINGS_KEY];
  return settings;
}

/**
 * The binding the runtime uses in inspect mode: the same functions, but those that need the worker
 * thread throw while the loop runs on the waker thread. `process._linkedBinding('envoy_ts')` gives
 * this one too, so code typed in DevTools' console cannot reach Envoy from the wrong thread.
 */
export function guardWorkerOnlyCalls(raw: NativeBinding, proc: NodeJS.Process): NativeBinding {
  const guarded: Record<string, unknown> = {};
  let slots: Int32Array | undefined;
  const rawRecord = raw as unknown as Record<string, unknown>;
  // The binding's functions are not enumerable.
  for (const name of Object.getOwnPropertyNames(rawRecord)) {
    const value = rawRecord[name];
    if (typeof value !== 'function' || ANY_THREAD.has(name)) {
      guarded[name] = value;
      continue;
    }
    const fn = value as (...args: unknown[]) => unknown;
    guarded[name] = (...args: unknown[]): unknown => {
      if (slots !== undefined && slots[WatchSlot.OffThread] !== 0) throw wrongThread(name);
      return ReflectApply(fn, raw, args);
    };
  }
  const binding = guarded as unknown as NativeBinding;
  slots = watchSlotsOf(binding);
  const linkedBinding = (proc as unknown as { _linkedBinding(name: string): unknown })._linkedBinding;
  Object.defineProperty(proc, '_linkedBinding', {
    value: (name: string): unknown => (name === 'envoy_ts' ? binding : ReflectApply(linkedBinding, proc, [name])),
    writable: true, configurable: true, enumerable: false,
  });
  return binding;
}

function wrongThread(name: string): Error {
  const error = new Error(
    `${name}() needs the worker thread, but this JavaScript runs while the worker is idle (in inspect mode ` +
    'the event loop, timers and DevTools\' console run on a helper thread then). Call it from a filter hook, ' +
    'or from work a hook awaits.');
  (error as { code?: string }).code = 'ETS_ERR_WRONG_THREAD';
  return error;
}

/** Where the native side finds how to close the inspector before it tears the environment down
 *  (native/runtime/inspector.h closeInspector). */
const CLOSE_KEY = Symbol.for('envoy-ts.inspector.close');

/** Opens the inspector and writes the line tools look for. Never throws: a proxy whose inspector
 *  cannot listen still serves. */
export function openInspector(proc: NodeJS.Process, binding: NativeBinding, settings: InspectorSettings): void {
  const where = `${settings.host}:${settings.port}`;
  try {
    inspector.open(settings.port, settings.host, false);
  } catch (error) {
    writeLog(binding, LogLevel.Error, RUNTIME_PREFIX,
             `inspector for worker environment ${settings.number} could not listen on ${where}: ${String(error)}`, []);
    return;
  }
  const url = inspector.url();
  if (url === undefined) {
    writeLog(binding, LogLevel.Error, RUNTIME_PREFIX,
             `inspector for worker environment ${settings.number} could not listen on ${where} (port in use?)`, []);
    return;
  }
  // Node waits for attached debuggers to disconnect when an environment is freed, which would hold
  // up Envoy's shutdown (or a retired environment's teardown) while DevTools stays open: closing
  // the inspector first ends its sessions.
  Object.defineProperty(proc, CLOSE_KEY, { value: () => inspector.close(), configurable: true });
  // A warning: whoever reaches this address can run code in the proxy.
  writeLog(binding, LogLevel.Warn, RUNTIME_PREFIX, `inspector for worker environment ${settings.number}: ${url}`, []);
}
