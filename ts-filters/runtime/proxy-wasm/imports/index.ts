// The functions a proxy-wasm module imports, grouped by area (one file each), for one VM. A host
// call never throws into the module: what goes wrong becomes the ABI's status (an address outside
// memory → INVALID_MEMORY_ACCESS, a malformed argument → BAD_ARGUMENT, a map or buffer not there
// now → NOT_FOUND). A `proxy_*` function the host does not implement answers UNIMPLEMENTED and is
// logged once; any other import the host lacks rejects the config, naming it.

import { ConfigError, InvalidStateError, NotInHookError, StreamClosedError } from '../../../api/errors';
import { LogLevel } from '../../codes';
import { RUNTIME_PREFIX, describeError, writeLog } from '../../log';
import { Status } from '../abi';
import type { ProxyWasmHost } from '../host';
import { MemoryAccessError } from '../memory';
import type { CompiledModule } from '../module-cache';
import { PairsFormatError } from '../pairs';
import type { WasmVm } from '../vm';
import { bufferImports } from './buffers';
import { contextImports } from './context';
import { headerImports } from './headers';
import { metricImports } from './metrics';
import { propertyImports } from './properties';
import { sharedStateImports } from './shared-state';
import { streamImports } from './stream';
import { unimplemented, UNIMPLEMENTED_CALLS } from './unimplemented';
import { ProcExit, wasiImports } from './wasi';

/** A host call as written here: numbers (and bigints for i64) in, a status out. */
export type HostCall = (...args: never[]) => number;
export type HostCalls = Record<string, HostCall>;

export function buildImports(host: ProxyWasmHost, vm: WasmVm, compiled: CompiledModule): WebAssembly.Imports {
  const env: HostCalls = {
    ...contextImports(host, vm),
    ...headerImports(vm),
    ...bufferImports(vm),
    ...streamImports(host, vm),
    ...sharedStateImports(host, vm),
    ...metricImports(vm),
    ...propertyImports(vm),
  };
  const wasi = wasiImports(host, vm);
  const imports: Record<string, Record<string, unknown>> = {};
  const missing: string[] = [];
  for (const { module, name, kind } of WebAssembly.Module.imports(compiled.module)) {
    let fn: unknown;
    if (kind !== 'function') {
      fn = undefined;
    } else if (module === 'env' && env[name] !== undefined) {
      fn = withStatus(host, vm, name, env[name] as HostCall);
    } else if ((module === 'wasi_snapshot_preview1' || module === 'wasi_unstable') && wasi[name] !== undefined) {
      fn = wasi[name];
    } else if (module === 'env' && (name.startsWith('proxy_') || UNIMPLEMENTED_CALLS.includes(name))) {
      fn = unimplemented(host, vm, name);
    }
    if (fn === undefined) missing.push(`${module}.${name} (${kind})`);
    else (imports[module] ??= {})[name] = fn;
  }
  if (missing.length > 0) {
    throw new ConfigError(`proxy-wasm module ${compiled.path} imports what envoy-ts does not provide: ` +
                          missing.join(', '));
  }
  return imports as WebAssembly.Imports;
}

function withStatus(host: ProxyWasmHost, vm: WasmVm, name: string, call: HostCall): (...args: never[]) => number {
  return (...args: never[]): number => {
    try {
      return call(...args);
    } catch (error) {
      return statusOf(host, vm, name, error);
    }
  };
}

function statusOf(host: ProxyWasmHost, vm: WasmVm, name: string, error: unknown): number {
  if (error instanceof ProcExit) throw error;  // ends the instance
  if (error instanceof MemoryAccessError) return Status.InvalidMemoryAccess;
  if (error instanceof PairsFormatError || error instanceof TypeError || error instanceof RangeError) {
    return Status.BadArgument;
  }
  if (error instanceof StreamClosedError || error instanceof InvalidStateError || error instanceof NotInHookError) {
    return Status.NotFound;
  }
  const prefix = vm.effective?.plugin.logPrefix ?? RUNTIME_PREFIX;
  writeLog(host.binding, LogLevel.Debug, prefix, `${name} failed: ${describeError(error)}`, []);
  return Status.InternalFailure;
}
