// A plugin: one proxy-wasm chain entry's configuration, loaded in one Node environment, with its
// plugin (root) context in a VM of its module. Starting it runs what Envoy runs when a Wasm filter
// config loads: proxy_on_context_create (parent 0), proxy_on_vm_start, proxy_on_configure; either
// answering false rejects the config. It owns its tick timer, and outlives its config for as long
// as streams started on it run. When its VM fails, the next stream (or tick) starts it again on a
// fresh instance.

import type { MetricKind } from '../../api/metrics';
import type { Logger } from '../../api/types';
import { createLogger } from '../log';
import type { ProxyWasmHost, PluginSettings } from './host';
import type { WasmMetric } from './metric-table';
import { failureText, type ContextRecord, type WasmVm } from './vm';

export class Plugin {
  readonly host: ProxyWasmHost;
  readonly settings: PluginSettings;
  /** The chain entry's name (`proxy-wasm` or `proxy-wasm.<label>`): the plugin_name property. */
  readonly name: string;
  /** Where the module's own log lines and the plugin's events go: `[envoy-ts][filter=<name>][root_id=<id>] `. */
  readonly logPrefix: string;
  readonly log: Logger;
  #vm: WasmVm;
  #root: ContextRecord;
  #tick: ReturnType<typeof setInterval> | undefined = undefined;
  #tickPeriodMs = 0;
  #streams = 0;
  #disposed = false;
  // The metrics the module defined while this plugin started, in that order: what the filter
  // declares to Envoy. Per plugin, not per VM, so every environment declares the same list
  // whatever else shares the VM there.
  readonly #declared = new Map<string, MetricKind>();
  #starting = false;

  /** Starts the plugin; throws (an Error naming what failed) when the module refuses it. */
  constructor(host: ProxyWasmHost, settings: PluginSettings, name: string, logPrefix: string) {
    this.host = host;
    this.settings = settings;
    this.name = name;
    this.logPrefix = logPrefix;
    this.log = createLogger(host.binding, logPrefix);
    this.#vm = host.vmFor(settings);
    try {
      this.#root = this.#start(this.#vm);
    } catch (error) {
      host.releaseVm(this.#vm);
      throw error;
    }
  }

  get vm(): WasmVm {
    return this.#vm;
  }

  get root(): ContextRecord {
    return this.#root;
  }

  #start(vm: WasmVm): ContextRecord {
    const root: ContextRecord = { id: vm.nextContextId(), plugin: this, stream: undefined };
    vm.contexts.set(root.id, root);
    this.#starting = true;
    try {
      vm.call(root, 'proxy_on_context_create', root.id, 0);
      if (vm.has('proxy_on_vm_start') &&
          vm.call(root, 'proxy_on_vm_start', root.id, this.settings.vmConfiguration.length) === 0) {
        throw new Error(`${this.#what()}: proxy_on_vm_start answered false`);
      }
      if (vm.has('proxy_on_configure') &&
          vm.call(root, 'proxy_on_configure', root.id, this.settings.configuration.length) === 0) {
        throw new Error(`${this.#what()}: proxy_on_configure answered false (the configuration was refused)`);
      }
    } catch (error) {
      vm.contexts.delete(root.id);
      throw error;
    } finally {
      this.#starting = false;
    }
    return root;
  }

  /** proxy_define_metric ran in one of the plugin's contexts. */
  metricDefined(metric: WasmMetric): void {
    if (this.#starting && !this.#declared.has(metric.name)) this.#declared.set(metric.name, metric.kind);
  }

  /** The metrics the filter declares (name → kind). */
  declaration(): Record<string, MetricKind> {
    return Object.fromEntries(this.#declared);
  }

  #what(): string {
    return `module ${this.settings.module} (root id ${JSON.stringify(this.settings.rootId)})`;
  }

  /** The VM a new stream runs on: this one, or after it failed, a fresh one the plugin started
   *  again on. Throws when the fresh one refuses to start. */
  liveVm(): WasmVm {
    if (this.#vm.failed) this.#restart();
    return this.#vm;
  }

  #restart(): void {
    const failed = this.#vm;
    this.log.warn(`${this.#what()}: its VM failed (${failureText(failed.failure)}); starting it on a fresh instance`);
    const vm = this.host.replaceVm(failed);
    this.host.releaseVm(failed);
    this.#vm = vm;
    this.#root = this.#start(vm);
  }

  /** proxy_set_tick_period_milliseconds: proxy_on_tick every `periodMs` (0 stops it). The
   *  environment that only validates configs never ticks. */
  setTickPeriod(periodMs: number): void {
    if (periodMs === this.#tickPeriodMs) return;
    this.#tickPeriodMs = periodMs;
    if (this.#tick !== undefined) clearInterval(this.#tick);
    this.#tick = undefined;
    if (periodMs > 0 && !this.#disposed && !this.host.validatesOnly) {
      this.#tick = setInterval(() => this.#onTick(), periodMs);
      this.#tick.unref();
    }
  }

  #onTick(): void {
    try {
      const vm = this.liveVm();
      this.host.deliverQueues();
      vm.call(this.#root, 'proxy_on_tick', this.#root.id);
    } catch (error) {
      this.log.error(`proxy_on_tick failed: ${failureText(error)}`);
    }
  }

  /** A stream started on the plugin / ended. */
  streamStarted(): void {
    this.#streams++;
  }

  streamEnded(): void {
    if (--this.#streams === 0 && this.#disposed) this.#finish();
  }

  /** Its config is gone: no more ticks; the plugin context goes once the last stream ended. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.setTickPeriod(0);
    if (this.#streams === 0) this.#finish();
  }

  #finish(): void {
    const vm = this.#vm;
    const root = this.#root;
    if (!vm.failed) {
      try {
        vm.call(root, 'proxy_on_done', root.id);
        vm.call(root, 'proxy_on_delete', root.id);
      } catch (error) {
        this.log.error(`the plugin context's proxy_on_done/proxy_on_delete failed: ${failureText(error)}`);
      }
    }
    vm.contexts.delete(root.id);
    this.host.forgetPlugin(this);
    this.host.releaseVm(vm);
  }
}
