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
import { nativeDispatcher } from './native-dispatcher';
import { useOffloadRunner } from './offload';
import { runningNetworkHook } from './network-chain';
import type { NativeBinding } from './native';
import { ReflectApply } from './primordials';
import { tickDrainer, tickInfoOf, type TickProcess } from './tick-queue';
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

// Native calls the dispatcher with a plain call (no Node callback scope: it cost more than the
// rest of a crossing). Once the outermost call from Envoy returned, the native side does what that
// scope did on its way out: it runs the microtasks queued, and calls drainTicks() only when Node's
// tick info says nextTick callbacks or rejections to report are queued (tick-queue.ts) — never
// while a nested call (a hook Envoy runs from inside a binding call, e.g. a local reply) returns
// to JavaScript that is still running.
const clearAsyncIdStack = asyncIdStackClearer(process as unknown as Parameters<typeof asyncIdStackClearer>[0]);
// The guarded process.emit (installErrorHandlers): the runtime's logging, then bundle listeners.
const emitProcessEvent = process.emit;
const drainTicks = tickDrainer(process as unknown as TickProcess, (error) => {
  clearAsyncIdStack();
  ReflectApply(emitProcessEvent, process, ['uncaughtException', error, 'uncaughtException']);
});
const tickInfo = tickInfoOf((id) => require(id));
if (tickInfo !== undefined) {
  binding.setTickInfo(tickInfo);
} else {
  writeLog(binding, LogLevel.Debug, RUNTIME_PREFIX,
           "this Node does not offer its tick info: Node's nextTick queue runs after every call from Envoy", []);
}

// console.* writes to Envoy's log, prefixed with the filter whose hook is running.
routeConsole(console as unknown as Record<string, unknown>, binding,
             () => runningHook.link?.filter.name ?? runningNetworkHook.filter?.name);

binding.setDispatcher(nativeDispatcher(createDispatcher(binding), binding, { drainTicks, afterStop: clearAsyncIdStack }));
// ctx.offload's results come straight from the pool threads where the module ships its runner.
useOffloadRunner(() => binding.offloadRunner());

if (inspectorSettings !== undefined) openInspector(process, binding, inspectorSettings);

// A worker environment loads now what Node would load on a request's first use of Response,
// TextDecoder, AbortController and the like (warm-up.ts). The main thread's only loads configs.
if (!binding.isMainThread) void warmLazyBuiltins();
