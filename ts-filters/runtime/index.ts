// The runtime's bootstrap. The native side evaluates this bundle (build/runtime/runtime.js) as the
// main script of every Node environment it embeds, with `process` and a builtin-only `require`.

import { LogLevel } from './codes';
import { createDispatcher } from './dispatcher';
import { RUNTIME_PREFIX, describeError, writeLog } from './log';
import type { NativeBinding } from './native';

interface LinkedBindingProcess {
  _linkedBinding(name: string): unknown;
}

const binding = (process as unknown as LinkedBindingProcess)._linkedBinding('envoy_ts') as NativeBinding;

// An exception escaping a timer or an abort listener, or an unhandled rejection, must not take the
// process (Envoy) down: Node's default would exit. Log it instead.
process.on('uncaughtException', (error) => {
  writeLog(binding, LogLevel.Error, RUNTIME_PREFIX, `uncaught exception: ${describeError(error)}`, []);
});
process.on('unhandledRejection', (reason) => {
  writeLog(binding, LogLevel.Error, RUNTIME_PREFIX, `unhandled rejection: ${describeError(reason)}`, []);
});

const { loadConfig, unloadConfig, describeMetrics, bodyHooks, onHook, onNetworkHook, onNetworkEvent, onCalloutDone,
  onFetchStream, onResume, onDestroy } = createDispatcher(binding);
binding.setDispatcher({ loadConfig, unloadConfig, describeMetrics, bodyHooks, onHook, onNetworkHook, onNetworkEvent,
                        onCalloutDone, onFetchStream, onResume, onDestroy });
