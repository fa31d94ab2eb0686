// Contexts, logging, time and timers: proxy_set_effective_context, proxy_done, proxy_log,
// proxy_get_log_level (v0.2.1), proxy_get_current_time_nanoseconds,
// proxy_set_tick_period_milliseconds, proxy_get_status, proxy_call_foreign_function.

import { RUNTIME_PREFIX, writeLog } from '../../log';
import type { NativeLogLevel } from '../../native';
import { LogLevel, Status } from '../abi';
import type { ProxyWasmHost } from '../host';
import type { WasmVm } from '../vm';
import type { HostCalls } from './index';

/** Nanoseconds since the epoch, from the process's monotonic clock anchored once. */
export function nowNanoseconds(): bigint {
  return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
}

export function contextImports(host: ProxyWasmHost, vm: WasmVm): HostCalls {
  return {
    proxy_set_effective_context: (contextId: number): number => {
      const record = vm.contexts.get(contextId >>> 0);
      if (record === undefined) return Status.BadArgument;
      vm.effective = record;
      return Status.Ok;
    },
    // Every context is finalized once proxy_on_done returns: none waits for proxy_done.
    proxy_done: (): number => Status.NotFound,
    proxy_log: (level: number, pointer: number, size: number): number => {
      if (level < LogLevel.Trace || level > LogLevel.Critical) return Status.BadArgument;
      if (!host.binding.logEnabled(level as NativeLogLevel)) return Status.Ok;
      writeLog(host.binding, level as NativeLogLevel, vm.effective?.plugin.logPrefix ?? RUNTIME_PREFIX,
               vm.memory.text(pointer, size), []);
      return Status.Ok;
    },
    proxy_get_log_level: (levelOut: number): number => {
      let level: number = LogLevel.Trace;
      while (level < LogLevel.Critical && !host.binding.logEnabled(level as NativeLogLevel)) level++;
      vm.memory.writeU32(levelOut, level);
      return Status.Ok;
    },
    proxy_get_current_time_nanoseconds: (timeOut: number): number => {
      vm.memory.writeU64(timeOut, nowNanoseconds());
      return Status.Ok;
    },
    proxy_set_tick_period_milliseconds: (periodMs: number): number => {
      const plugin = vm.effective?.plugin;
      if (plugin === undefined) return Status.BadArgument;
      plugin.setTickPeriod(periodMs >>> 0);
      return Status.Ok;
    },
    // The status of an HTTP call's answer, while proxy_on_http_call_response runs: 0 when it came.
    proxy_get_status: (codeOut: number, messageOut: number, messageSizeOut: number): number => {
      const response = vm.callResponse;
      if (response === undefined) return Status.NotFound;
      vm.memory.writeU32(codeOut, response.headers.length > 0 ? 0 : 14);
      vm.memory.giveText(response.headers.length > 0 ? '' : 'the HTTP call failed', messageOut, messageSizeOut);
      return Status.Ok;
    },
    // No foreign functions are registered.
    proxy_call_foreign_function: (): number => Status.NotFound,
  };
}
