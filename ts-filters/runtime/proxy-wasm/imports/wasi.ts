// The WASI functions the specification lists for modules built for wasm32-wasi (and
// AssemblyScript's proc_exit, in `wasi_unstable` and `wasi_snapshot_preview1`): logging through
// fd_write, clocks, randomness, an empty environment and argument list. proc_exit ends the
// instance (the call into it fails; the VM is replaced).

import { randomFillSync } from 'crypto';

import { LogLevel } from '../../codes';
import { RUNTIME_PREFIX, writeLog } from '../../log';
import { WasiErrno } from '../abi';
import type { ProxyWasmHost } from '../host';
import { MemoryAccessError } from '../memory';
import type { WasmVm } from '../vm';
import { nowNanoseconds } from './context';

/** What proc_exit throws through the module. */
export class ProcExit extends Error {
  override readonly name = 'ProcExit';
}

type WasiCall = (...args: never[]) => number | undefined;

function withErrno(call: (...args: never[]) => number): WasiCall {
  return (...args: never[]): number => {
    try {
      return call(...args);
    } catch (error) {
      if (error instanceof MemoryAccessError) return WasiErrno.Fault;
      throw error;
    }
  };
}

export function wasiImports(host: ProxyWasmHost, vm: WasmVm): Record<string, WasiCall> {
  const zeroPair = (first: number, second: number): number => {
    vm.memory.writeU32(first, 0);
    vm.memory.writeU32(second, 0);
    return WasiErrno.Success;
  };
  return {
    proc_exit: (code: number): undefined => {
      throw new ProcExit(`the module called proc_exit(${code >>> 0})`);
    },
    fd_write: withErrno((fd: number, iovecs: number, count: number, writtenOut: number): number => {
      if (fd !== 1 && fd !== 2) return WasiErrno.BadF;
      let text = '';
      let written = 0;
      for (let i = 0; i < count >>> 0; i++) {
        const pointer = vm.memory.readU32(iovecs + 8 * i);
        const length = vm.memory.readU32(iovecs + 8 * i + 4);
        text += vm.memory.text(pointer, length);
        written += length;
      }
      vm.memory.writeU32(writtenOut, written);
      writeLog(host.binding, fd === 1 ? LogLevel.Info : LogLevel.Error, vm.effective?.plugin.logPrefix ?? RUNTIME_PREFIX,
               text.replace(/\n$/, ''), []);
      return WasiErrno.Success;
    }),
    clock_time_get: withErrno((clock: number, _precision: bigint, timeOut: number): number => {
      if (clock === 0) vm.memory.writeU64(timeOut, nowNanoseconds());
      else if (clock === 1) vm.memory.writeU64(timeOut, process.hrtime.bigint());
      else return WasiErrno.NotSup;
      return WasiErrno.Success;
    }),
    random_get: withErrno((pointer: number, size: number): number => {
      if (size >>> 0 > 65536) return WasiErrno.Inval;
      randomFillSync(vm.memory.view(pointer, size));
      return WasiErrno.Success;
    }),
    environ_sizes_get: withErrno(zeroPair),
    environ_get: (): number => WasiErrno.Success,
    args_sizes_get: withErrno(zeroPair),
    args_get: (): number => WasiErrno.Success,
  };
}
