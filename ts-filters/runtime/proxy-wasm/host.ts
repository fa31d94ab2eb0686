// The proxy-wasm host of one Node environment: its compiled modules, its VMs (one per vm id and
// module content, shared by the plugins that name them, as Envoy shares a VM between plugins with
// the same vm_id and code), the readers of shared queues, and what host calls need from the
// environment (the binding, log-once warnings).

import { ConfigError } from '../../api/errors';
import { LogLevel } from '../codes';
import { errorMessage, writeLog } from '../log';
import type { NativeBinding } from '../native';
import { buildImports } from './imports';
import { MetricTable } from './metric-table';
import { ModuleCache, type CompiledModule } from './module-cache';
import type { Plugin } from './plugin';
import { WasmVm, failureText, type VmHost } from './vm';

/** A chain entry's `config`, checked (settings.ts). */
export interface PluginSettings {
  /** The module file (resolved). */
  readonly module: string;
  readonly rootId: string;
  readonly vmId: string;
  /** What PLUGIN_CONFIGURATION and VM_CONFIGURATION hold. */
  readonly configuration: Uint8Array;
  readonly vmConfiguration: Uint8Array;
}

export class ProxyWasmHost implements VmHost {
  readonly binding: NativeBinding;
  /** The main-thread environment only validates configs: its plugins never tick. */
  readonly validatesOnly: boolean;
  readonly modules = new ModuleCache();
  readonly #vms = new Map<string, WasmVm>();
  // Shared queue token → the plugins whose plugin context registered it (proxy_on_queue_ready).
  readonly #queueReaders = new Map<number, Set<Plugin>>();
  #deliveryQueued = false;
  readonly #warned = new Set<string>();

  constructor(binding: NativeBinding) {
    this.binding = binding;
    this.validatesOnly = binding.isMainThread;
  }

  importsFor(vm: WasmVm, compiled: CompiledModule): WebAssembly.Imports {
    return buildImports(this, vm, compiled);
  }

  /** A live VM for the plugin's module and vm id: a shared one, or a new instance. Throws
   *  ConfigError when the module cannot be read, compiled or instantiated. */
  vmFor(settings: PluginSettings): WasmVm {
    const compiled = this.modules.acquire(settings.module);
    const key = `${settings.vmId}\0${compiled.hash}`;
    const existing = this.#vms.get(key);
    if (existing !== undefined && !existing.failed) {
      this.modules.release(compiled);
      existing.holders++;
      return existing;
    }
    return this.#newVm(key, settings.vmId, compiled);
  }

  /** A VM to replace `failed`: one another plugin already started, or a new instance. */
  replaceVm(failed: WasmVm): WasmVm {
    const key = `${failed.vmId}\0${failed.compiled.hash}`;
    const existing = this.#vms.get(key);
    if (existing !== undefined && existing !== failed && !existing.failed) {
      existing.holders++;
      return existing;
    }
    this.modules.hold(failed.compiled);
    return this.#newVm(key, failed.vmId, failed.compiled);
  }

  #newVm(key: string, vmId: string, compiled: CompiledModule): WasmVm {
    let vm: WasmVm;
    try {
      vm = new WasmVm(this, vmId, compiled, new MetricTable());
    } catch (error) {
      this.modules.release(compiled);
      if (error instanceof ConfigError) throw error;
      throw new ConfigError(`proxy-wasm module ${compiled.path} failed to start: ${errorMessage(error)}`);
    }
    vm.holders = 1;
    this.#vms.set(key, vm);
    return vm;
  }

  /** A plugin let go of `vm`; the last one drops it (and its module, when no VM holds that). */
  releaseVm(vm: WasmVm): void {
    if (--vm.holders > 0) return;
    const key = `${vm.vmId}\0${vm.compiled.hash}`;
    if (this.#vms.get(key) === vm) this.#vms.delete(key);
    this.modules.release(vm.compiled);
  }

  /** How many VMs the environment holds (tests). */
  get vmCount(): number {
    return this.#vms.size;
  }

  /** A plugin context registered shared queue `token`: proxy_on_queue_ready reaches it. */
  addQueueReader(token: number, plugin: Plugin): void {
    let readers = this.#queueReaders.get(token);
    if (readers === undefined) {
      readers = new Set();
      this.#queueReaders.set(token, readers);
    }
    readers.add(plugin);
  }

  forgetPlugin(plugin: Plugin): void {
    for (const [token, readers] of this.#queueReaders) {
      readers.delete(plugin);
      if (readers.size === 0) this.#queueReaders.delete(token);
    }
  }

  /** Something was enqueued here: this environment's readers hear of it once the running call
   *  into JavaScript is over (no callback runs inside another). */
  enqueued(token: number): void {
    if (!this.#queueReaders.has(token) || this.#deliveryQueued) return;
    this.#deliveryQueued = true;
    queueMicrotask(() => {
      this.#deliveryQueued = false;
      this.deliverQueues();
    });
  }

  /**
   * proxy_on_queue_ready for every queue this environment reads that holds items. Other workers'
   * enqueues are seen here when this worker next runs a plugin's stream or tick: a Node
   * environment runs only when its Envoy worker calls it.
   */
  deliverQueues(): void {
    if (this.#queueReaders.size === 0) return;
    for (const [token, readers] of this.#queueReaders) {
      if (this.binding.sharedQueueLength(token) <= 0) continue;
      for (const plugin of readers) {
        try {
          const vm = plugin.liveVm();
          vm.call(plugin.root, 'proxy_on_queue_ready', plugin.root.id, token);
        } catch (error) {
          plugin.log.error(`proxy_on_queue_ready failed: ${failureText(error)}`);
        }
      }
    }
  }

  /** Log `message` at warn level the first time `key` comes up in this environment. */
  warnOnce(key: string, prefix: string, message: string): void {
    if (this.#warned.has(key)) return;
    this.#warned.add(key);
    writeLog(this.binding, LogLevel.Warn, prefix, message, []);
  }
}

const hosts = new WeakMap<NativeBinding, ProxyWasmHost>();

/** The host of the environment `binding` belongs to. */
export function hostOf(binding: NativeBinding): ProxyWasmHost {
  let host = hosts.get(binding);
  if (host === undefined) {
    host = new ProxyWasmHost(binding);
    hosts.set(binding, host);
  }
  return host;
}
