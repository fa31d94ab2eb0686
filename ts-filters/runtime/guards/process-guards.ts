// Process guards (DESIGN §6): the process is Envoy's. A filter that calls process.exit(), kills the
// proxy (its own pid, its parent, its process group or every process it may signal), aborts, changes
// directory or credentials, or sets an uncaught-exception capture callback (which would bypass the
// runtime's error handling) gets a ProcessGuardError in its hook, and the environment is left as it
// was: process.exit() no longer marks it exiting (which would drop every later nextTick callback).
// The guards are read-only, non-configurable properties: a bundle cannot put the originals back.

import { ProcessGuardError } from '../../api/errors';

/** What the guards patch: a `process`. */
export interface GuardedProcess {
  readonly pid: number;
  readonly ppid: number;
  kill: (pid: number, signal?: string | number) => unknown;
}

/** The methods that throw whatever their arguments, with what the error says about each. */
const FORBIDDEN: ReadonlyMap<string, string> = new Map([
  ['exit', 'the process is Envoy\'s: a filter cannot end it (throw, or answer with a Response)'],
  ['reallyExit', 'the process is Envoy\'s: a filter cannot end it'],
  ['abort', 'the process is Envoy\'s: a filter cannot abort it'],
  ['chdir', 'the working directory is Envoy\'s, shared by every filter'],
  ['setuid', 'the credentials are Envoy\'s'],
  ['setgid', 'the credentials are Envoy\'s'],
  ['seteuid', 'the credentials are Envoy\'s'],
  ['setegid', 'the credentials are Envoy\'s'],
  ['setgroups', 'the credentials are Envoy\'s'],
  ['initgroups', 'the credentials are Envoy\'s'],
  ['setUncaughtExceptionCaptureCallback', 'the runtime handles uncaught exceptions; ' +
    'add a process.on(\'uncaughtException\') listener instead'],
]);

/** Every guarded method name (for tests and docs). */
export const GUARDED_METHODS: readonly string[] = [...FORBIDDEN.keys(), 'kill'];

export function processGuardError(method: string, why: string): ProcessGuardError {
  return new ProcessGuardError(`process.${method}() is not available to filters: ${why}`);
}

function lock(target: object, name: string, value: unknown): void {
  const descriptor = Object.getOwnPropertyDescriptor(target, name);
  Object.defineProperty(target, name, {
    value,
    writable: false,
    enumerable: descriptor?.enumerable ?? true,
    configurable: false,
  });
}

/** Whether signalling `pid` reaches the proxy: itself, its parent, 0 (its process group) or a
 *  negative pid (a process group, -1 being every process it may signal). */
export function signalsProxy(proc: Pick<GuardedProcess, 'pid' | 'ppid'>, pid: unknown): boolean {
  const target = Number(pid);
  if (Number.isNaN(target)) return false;  // process.kill rejects it
  return target <= 0 || target === proc.pid || target === proc.ppid;
}

/** Install the guards on `proc` (the environment's `process`; tests pass a stand-in). */
export function installProcessGuards(proc: GuardedProcess): void {
  for (const [method, why] of FORBIDDEN) {
    lock(proc, method, {
      [method](): never {
        throw processGuardError(method, why);
      },
    }[method]);
  }
  const kill = proc.kill;
  const guarded = {
    kill(pid: number, signal?: string | number): unknown {
      // Signal 0 only checks that the process exists: harmless.
      if (signal !== 0 && signalsProxy(proc, pid)) {
        throw processGuardError('kill', `pid ${String(pid)} is the proxy, its parent or a process group ` +
                                '(signal other processes, e.g. a child process\'s pid)');
      }
      // eslint-disable-next-line prefer-rest-params
      return Reflect.apply(kill, proc, arguments);
    },
  };
  lock(proc, 'kill', guarded.kill);
}
