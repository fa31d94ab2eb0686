// The capability gate on file system writes (fsWrite): without the grant, filters see the file
// system read-only. The mutating functions of `fs` (callback and sync forms) and of `fs/promises`
// (the same object as fs.promises) are wrapped; open() is gated by its flags, so reads still open
// files. Writes through a descriptor opened before, or through process.binding('fs'), are not
// seen. The wrappers stay writable, like the originals: libraries that patch fs (graceful-fs)
// patch around them.

import type { CapabilityGrants } from './capability-grants';

/** Mutating functions of `fs` (each also has a *Sync form, wrapped alongside). */
const FS_WRITES = ['appendFile', 'chmod', 'chown', 'copyFile', 'cp', 'fchmod', 'fchown', 'ftruncate',
  'futimes', 'lchmod', 'lchown', 'link', 'lutimes', 'mkdir', 'mkdtemp', 'rename', 'rm', 'rmdir', 'symlink',
  'truncate', 'unlink', 'utimes', 'writeFile'];

/** Mutating functions of `fs/promises`. */
const PROMISES_WRITES = ['appendFile', 'chmod', 'chown', 'copyFile', 'cp', 'lchmod', 'lchown', 'link',
  'lutimes', 'mkdir', 'mkdtemp', 'rename', 'rm', 'rmdir', 'symlink', 'truncate', 'unlink', 'utimes',
  'writeFile'];

type AnyFunction = (...args: unknown[]) => unknown;
type FunctionTable = Record<string, unknown>;

/** The O_* bits that make an open() write, create or truncate. */
interface OpenConstants {
  readonly O_WRONLY: number;
  readonly O_RDWR: number;
  readonly O_CREAT: number;
  readonly O_TRUNC: number;
  readonly O_APPEND: number;
}

/** Whether open()'s `flags` argument asks for more than reading ('w', 'a', 'r+', O_WRONLY...). */
export function opensForWriting(flags: unknown, constants: OpenConstants): boolean {
  if (typeof flags === 'string') return /[wa+]/.test(flags);
  if (typeof flags === 'number') {
    const { O_WRONLY, O_RDWR, O_CREAT, O_TRUNC, O_APPEND } = constants;
    return (flags & (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND)) !== 0;
  }
  return false;  // absent ('r'), a callback in its place, or a value fs itself rejects
}

function wrap(table: FunctionTable, name: string, make: (original: AnyFunction) => AnyFunction): void {
  const original = table[name];
  if (typeof original !== 'function') return;  // e.g. lchmod exists on macOS only
  const wrapper = make(original as AnyFunction);
  Object.defineProperty(wrapper, 'name', { value: name });
  const descriptor = Object.getOwnPropertyDescriptor(table, name);
  Object.defineProperty(table, name, {
    value: wrapper,
    writable: true,
    enumerable: descriptor?.enumerable ?? true,
    configurable: true,
  });
}

/**
 * Gate `fs` (the module object) and `promises` (fs/promises) on the fsWrite grant. A denied call
 * throws CapabilityError (callback and sync forms) or returns a promise rejected with it.
 */
export function installFsGate(fs: FunctionTable & { constants: OpenConstants }, promises: FunctionTable,
                              grants: CapabilityGrants): void {
  const denied = (what: string): void => grants.check('fsWrite', `${what} (the file system is read-only)`);
  for (const base of FS_WRITES) {
    for (const name of [base, `${base}Sync`]) {
      wrap(fs, name, (original) => function (this: unknown, ...args: unknown[]): unknown {
        denied(`fs.${name}()`);
        return Reflect.apply(original, this, args);
      });
    }
  }
  wrap(fs, 'createWriteStream', (original) => function (this: unknown, ...args: unknown[]): unknown {
    denied('fs.createWriteStream()');
    return Reflect.apply(original, this, args);
  });
  for (const name of ['open', 'openSync']) {
    wrap(fs, name, (original) => function (this: unknown, ...args: unknown[]): unknown {
      if (opensForWriting(args[1], fs.constants)) denied(`fs.${name}() for writing`);
      return Reflect.apply(original, this, args);
    });
  }
  const rejecting = (what: string, run: () => unknown): unknown => {
    try {
      denied(what);
    } catch (error) {
      return Promise.reject(error);
    }
    return run();
  };
  for (const name of PROMISES_WRITES) {
    wrap(promises, name, (original) => function (this: unknown, ...args: unknown[]): unknown {
      return rejecting(`fs.promises.${name}()`, () => Reflect.apply(original, this, args));
    });
  }
  wrap(promises, 'open', (original) => function (this: unknown, ...args: unknown[]): unknown {
    if (!opensForWriting(args[1], fs.constants)) return Reflect.apply(original, this, args);
    return rejecting('fs.promises.open() for writing', () => Reflect.apply(original, this, args));
  });
}
