// console.* in a filter writes to Envoy's log, at the matching level and with the filter's prefix
// when one of its hooks is running (Node's console would write to the proxy's stdout, with no
// level and no timestamp). Formatting is Node's (util.format), done only when the level is on.

import { LogLevel } from './codes';
import { RUNTIME_PREFIX, filterPrefix, writeLog } from './log';
import type { NativeBinding, NativeLogLevel } from './native';
import { ArrayPrototypeConcat } from './primordials';

/** The console methods routed, and their levels. */
const LEVELS: readonly (readonly [string, NativeLogLevel])[] = [
  ['trace', LogLevel.Trace], ['debug', LogLevel.Debug], ['log', LogLevel.Info], ['info', LogLevel.Info],
  ['warn', LogLevel.Warn], ['error', LogLevel.Error],
];

/** Point `target`'s methods (the environment's console) at Envoy's log. `runningFilter` names the
 *  filter whose hook runs now, if any. */
export function routeConsole(target: Record<string, unknown>, binding: NativeBinding,
                             runningFilter: () => string | undefined): void {
  for (const [method, level] of LEVELS) {
    target[method] = (message?: unknown, ...args: unknown[]): void => {
      const filter = runningFilter();
      writeLog(binding, level, filter === undefined ? RUNTIME_PREFIX : filterPrefix(filter),
               typeof message === 'string' ? message : '%O',
               typeof message === 'string' ? args : ArrayPrototypeConcat([message], args));
    };
  }
}
