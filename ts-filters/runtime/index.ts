// The runtime's bootstrap. The native side evaluates this bundle (build/runtime/runtime.js) as the
// main script of every Node environment it embeds, with `process` and a builtin-only `require`.

import fs from 'fs';
import Module from 'module';

import { LogLevel } from './codes';
import { asyncIdStackClearer } from './async-context';
import { runningHook } from './chain';
import { routeConsole } from './console';
import { createDispatcher } from './dispatcher';
import { environmentGrants } from './guards/capability-grants';
import { installEnvGate } from './guards/env-gate';
import { installErrorHandlers } from './guards/error-handlers';
import { installFsGate } from './guards/fs-gate';
import { installModuleGate, type ModuleLoader } from './guards/module-gate';
import { installProcessGuards } from './guards/process-guards';
import { guardWorkerOnlyCalls, openInspector, takeInspectorSettings } from './inspector';
import { RUNTIME_PREFIX, describeError, writeLog } from './log';
import { nativeDispatcher, type EntryGuard } from './native-dispatcher';
import { runningNetworkHook } from './network-chain';
import type { HookOutcome as NativeHookOutcome, NativeBinding } from './native';
import { ReflectApply } from './primordials';
import { warmLazyBuiltins } from './warm-up';

interface LinkedBindingProcess {
  _linkedBinding(name: string): unknown;
}

const rawBinding = (process as unknown as LinkedBindingProcess)._linkedBinding('envoy_ts') as NativeBinding;
// Inspect mode (ENVOY_TS_INSPECT) in a worker environment: binding calls that need the worker
// thread fail cleanly while the loop runs on the waker thread (inspector.ts).
const inspectorSettings = takeInspectorSettings(process);
const binding = inspectorSettings === undefined ? rawBinding : guardWorkerOnlyCalls(rawBinding, process);

// Guards first (DESIGN §6), before any bundle runs. An exception escaping a timer or an abort
// listener, or an unhandled rejection, must not take the process (Envoy) down: Node's default
// would exit. Log it instead; bundle code can neither remove this nor make it throw.
installErrorHandlers(process, {
  uncaughtException: (error) => {
    writeLog(binding, LogLevel.Error, RUNTIME_PREFIX, `uncaught exception: ${describeError(error)}`, []);
  },
  unhandledRejection: (reason) => {
    writeLog(binding, LogLevel.Error, RUNTIME_PREFIX, `unhandled rejection: ${describeError(reason)}`, []);
  },
  listenerThrew: (event, error) => {
    writeLog(binding, LogLevel.Error, RUNTIME_PREFIX, `a '${event}' listener threw: ${describeError(error)}`, []);
  },
});
// The process is Envoy's: exit, kill, abort, chdir, credentials. worker_threads is loaded before:
// when it first loads, Node's worker_threads wraps process.chdir (so workers see a directory
// change) by assigning it, which would throw once chdir is locked.
require('worker_threads');
installProcessGuards(process);
// Child processes, worker threads, env writes and file writes need a config's `capabilities`.
installModuleGate(Module as unknown as ModuleLoader, environmentGrants);
installFsGate(fs as unknown as Parameters<typeof installFsGate>[0],
              fs.promises as unknown as Parameters<typeof installFsGate>[1], environmentGrants);
installEnvGate(process, environmentGrants);

// Native calls the dispatcher with a plain function call (no Node callback scope: it cost more
// than the rest of a crossing). So each entry does on its way out what that scope did when it
// closed: run process.nextTick callbacks and microtasks, and report unhandled rejections — once
// the outermost entry returns, never while a nested one (a hook Envoy runs from inside a binding
// call, e.g. a local reply) returns to JavaScript that is still running.
const runTicksAndRejections = (process as unknown as { _tickCallback(): void })._tickCallback;
const clearAsyncIdStack = asyncIdStackClearer(process as unknown as Parameters<typeof asyncIdStackClearer>[0]);
// The guarded process.emit (installErrorHandlers): the runtime's logging, then bundle listeners.
const emitProcessEvent = process.emit;
let depth = 0;

// A nextTick callback that throws is an uncaught exception, as under Node's callback scope: it is
// reported (never the entry's failure: the hook's decision stands) and the queue goes on.
function drainTicks(): void {
  for (;;) {
    try {
      runTicksAndRejections();
      return;
    } catch (error) {
      clearAsyncIdStack();
      ReflectApply(emitProcessEvent, process, ['uncaughtException', error, 'uncaughtException']);
    }
  }
}
// What the running outermost entry returned, once it has: the drain after it may still be stopped
// by the CPU watchdog, and the stream must then get what was decided.
const NOT_RETURNED = Symbol('not returned');
let returned: unknown = NOT_RETURNED;
const entries: EntryGuard = {
  wrap: <A extends unknown[], R>(fn: (...args: A) => R) => (...args: A): R => {
    if (depth++ === 0) returned = NOT_RETURNED;
    try {
      const result = ReflectApply(fn, undefined, args);
      if (depth === 1) returned = result;
      return result;
    } finally {
      if (--depth === 0) drainTicks();
    }
  },
  // The stopped entries' `finally` blocks never ran: start counting afresh.
  stopped: () => {
    const outcome = depth > 0 && returned !== NOT_RETURNED ? returned as NativeHookOutcome : undefined;
    depth = 0;
    clearAsyncIdStack();
    return outcome;
  },
};

// console.* writes to Envoy's log, prefixed with the filter whose hook is running.
routeConsole(console as unknown as Record<string, unknown>, binding,
             () => runningHook.link?.filter.name ?? runningNetworkHook.filter?.name);

binding.setDispatcher(nativeDispatcher(createDispatcher(binding), binding, entries));

if (inspectorSettings !== undefined) openInspector(process, binding, inspectorSettings);

// A worker environment loads now what Node would load on a request's first use of Response,
// TextDecoder, AbortController and the like (warm-up.ts). The main thread's only loads configs.
if (!binding.isMainThread) void warmLazyBuiltins();
