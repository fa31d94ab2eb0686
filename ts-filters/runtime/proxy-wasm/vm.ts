/// <reference path="./webassembly.d.ts" />
// One instance of a proxy-wasm module (a "VM" in proxy-wasm's words) in one Node environment: its
// memory, its contexts (plugin contexts and stream contexts, ids unique in the VM), the effective
// context host calls act on, and the calls into it. A call that traps (unreachable, an access
// outside its memory, proc_exit, a stack overflow) or that the CPU watchdog stopped leaves the
// instance in an unknown state: the VM is failed from then on, and its plugins move to a fresh one.

import type { MetricTable } from './metric-table';
import type { CompiledModule } from './module-cache';
import { ModuleMemory } from './memory';
import type { Plugin } from './plugin';
import type { Pairs } from './pairs';
import type { StreamContext } from './stream-context';

/** A context of the VM: a plugin (root) context, or a stream context under one. */
export interface ContextRecord {
  readonly id: number;
  /** The plugin the context belongs to (for a plugin context, itself). */
  readonly plugin: Plugin;
  /** Undefined for a plugin context. */
  readonly stream: StreamContext | undefined;
}

/** The response proxy_on_http_call_response is about, while it runs. */
export interface CallResponse {
  readonly headers: Pairs;
  readonly body: Uint8Array;
  readonly trailers: Pairs;
}

/** What a VM needs from its environment's host (host.ts). */
export interface VmHost {
  /** Import functions for an instance of `compiled`, bound to `vm`. */
  importsFor(vm: WasmVm, compiled: CompiledModule): WebAssembly.Imports;
}

/** A call into a failed VM. */
export class ProxyWasmVmError extends Error {
  override readonly name = 'ProxyWasmVmError';
}

type Export = (...args: (number | bigint)[]) => unknown;

export class WasmVm {
  readonly vmId: string;
  readonly compiled: CompiledModule;
  readonly memory: ModuleMemory;
  readonly metrics: MetricTable;
  readonly contexts = new Map<number, ContextRecord>();
  /** The context host calls act on: the one the running callback was called for, or the one
   *  proxy_set_effective_context chose. */
  effective: ContextRecord | undefined = undefined;
  callResponse: CallResponse | undefined = undefined;
  /** Plugins using the VM (host.ts releases it at 0). */
  holders = 0;
  readonly #exports: Record<string, unknown>;
  #failure: unknown = undefined;
  // Calls into the module in progress: one left over at the start of a call means the previous
  // call never returned (the CPU watchdog terminated it; its `finally` blocks did not run).
  #depth = 0;
  #nextContextId = 1;
  #nextCallToken = 1;

  constructor(host: VmHost, vmId: string, compiled: CompiledModule, metrics: MetricTable) {
    this.vmId = vmId;
    this.compiled = compiled;
    this.metrics = metrics;
    const instance = new WebAssembly.Instance(compiled.module, host.importsFor(this, compiled));
    this.#exports = instance.exports as Record<string, unknown>;
    const allocate = (this.#exports['proxy_on_memory_allocate'] ?? this.#exports['malloc']) as Export;
    this.memory = new ModuleMemory(this.#exports['memory'] as WebAssembly.Memory, (size) => Number(allocate(size)));
    // WASI-style start functions (the spec's "Integration" section).
    this.#depth++;
    try {
      if (typeof this.#exports['_initialize'] === 'function') {
        (this.#exports['_initialize'] as Export)();
        if (typeof this.#exports['main'] === 'function') (this.#exports['main'] as Export)(0, 0);
      } else if (typeof this.#exports['_start'] === 'function') {
        (this.#exports['_start'] as Export)();
      }
    } finally {
      this.#depth--;
    }
  }

  nextContextId(): number {
    return this.#nextContextId++;
  }

  nextCallToken(): number {
    return this.#nextCallToken++;
  }

  /** Whether the module exports callback `name` (every proxy_on_* is optional). */
  has(name: string): boolean {
    return typeof this.#exports[name] === 'function';
  }

  /** The VM can no longer be called (a call trapped, or was stopped and never returned). */
  get failed(): boolean {
    if (this.#depth !== 0 && this.#failure === undefined) {
      this.#failure = new ProxyWasmVmError('a call into the module was stopped (CPU budget) and never returned');
    }
    return this.#failure !== undefined;
  }

  get failure(): unknown {
    return this.failed ? this.#failure : undefined;
  }

  /**
   * Call the module's callback `name` for `record` (the effective context while it runs); a
   * callback the module does not export answers 0. A throw (a trap, or what a host call threw to
   * end the instance) fails the VM and goes on to the caller.
   */
  call(record: ContextRecord, name: string, ...args: (number | bigint)[]): number {
    if (this.failed) {
      throw new ProxyWasmVmError(`the module ${this.compiled.path} failed earlier and cannot be called: ` +
                                 failureText(this.#failure));
    }
    const callback = this.#exports[name];
    if (typeof callback !== 'function') return 0;
    const outer = this.effective;
    this.effective = record;
    this.#depth++;
    let result: unknown;
    try {
      result = (callback as Export)(...args);
    } catch (error) {
      this.#failure = error;
      this.#depth--;
      this.effective = outer;
      throw error;
    }
    this.#depth--;
    this.effective = outer;
    return typeof result === 'number' ? result : 0;
  }
}

/** An error as one line: `RuntimeError: unreachable`. */
export function failureText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
