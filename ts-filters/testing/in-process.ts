// The in-process engine: the real runtime (dispatcher, config loading, chain, failure policy,
// bodies, replies, metrics) in the test's own Node, with Envoy played by http-exchange.ts.

import { performance } from 'node:perf_hooks';

import { createDispatcher, type Runtime } from '../runtime/dispatcher';
import { PLAIN_ENTRIES, nativeDispatcher } from '../runtime/native-dispatcher';
import type { NativeLogLevel } from '../runtime/native';
import { EnvoyBinding, HttpExchange, type EnvoySide } from './http-exchange';
import { ManualClock } from './manual-clock';
import { MetricStore } from './metrics';
import type { ChainSetup } from './options';
import type { TestResponse } from './response';
import type { LogEntry, LogLevelName, TestChain, TestRequest } from './types';

const LEVELS: readonly LogLevelName[] = ['trace', 'debug', 'info', 'warn', 'error', 'critical'];
/** The config id of the chain (each chain has its own dispatcher); route configs follow it. */
const CHAIN_CONFIG_ID = 1;

/** What both in-process engines (HTTP and network) share: runtime, binding, clock, logs, metrics. */
export class InProcessRuntime {
  readonly binding: EnvoyBinding;
  readonly runtime: Runtime;
  readonly metrics = new MetricStore();
  readonly logs: LogEntry[] = [];
  readonly #clock: ManualClock | undefined;
  readonly #routes: { prefix: string; id: number }[] = [];

  constructor(setup: ChainSetup, kind: 0 | 1) {
    const manual = setup.timers === 'manual' ? new ManualClock() : undefined;
    this.#clock = manual;
    const side: EnvoySide = {
      configId: CHAIN_CONFIG_ID,
      upstream: setup.upstream,
      clusters: setup.clusters,
      bufferLimitBytes: setup.bufferLimitBytes,
      metrics: this.metrics,
      clock: () => manual?.now ?? performance.now(),
      routeConfigFor: (path) => this.#routes.find((route) => path.startsWith(route.prefix))?.id ?? 0,
      hookMask: () => this.runtime.hookMask(CHAIN_CONFIG_ID),
    };
    this.binding = new EnvoyBinding(side);
    this.binding.logLevel = LEVELS.indexOf(setup.logLevel) as NativeLogLevel;
    const logs = this.logs;
    const log = this.binding.log.bind(this.binding);
    this.binding.log = (level, message) => {
      log(level, message);
      logs.push({ level: LEVELS[level] ?? 'info', message });
    };
    // Given module exports stand for the bundle; otherwise the bundle file is required.
    const { filters } = setup;
    this.runtime = createDispatcher(this.binding, filters === undefined ? {} : { loadBundle: () => filters });
    this.binding.setDispatcher(nativeDispatcher(this.runtime, this.binding, PLAIN_ENTRIES));

    const error = this.runtime.loadConfig(CHAIN_CONFIG_ID, JSON.stringify(setup.filterConfig), kind);
    if (error !== undefined) throw new Error(`envoy-ts/testing: the chain's config was rejected: ${error}`);
    this.metrics.declare(this.runtime.describeMetrics(CHAIN_CONFIG_ID));
    // Longest prefix first: the first match is the request's route.
    const prefixes = Object.keys(setup.routes).sort((a, b) => b.length - a.length);
    prefixes.forEach((prefix, i) => {
      const id = CHAIN_CONFIG_ID + 1 + i;
      const routeError = this.runtime.loadConfig(id, JSON.stringify({ bundle: setup.filterConfig.bundle,
                                                                      filters: setup.routes[prefix] }), 2);
      if (routeError !== undefined) {
        throw new Error(`envoy-ts/testing: the per-route config of '${prefix}' was rejected: ${routeError}`);
      }
      this.#routes.push({ prefix, id });
    });
    manual?.install();
  }

  get now(): number {
    return this.#clock?.now ?? 0;
  }

  async advanceTime(ms: number): Promise<void> {
    if (this.#clock === undefined) {
      throw new Error("envoy-ts/testing: advanceTime() needs the chain created with timers: 'manual'");
    }
    await this.#clock.advance(ms);
  }

  close(): void {
    this.#clock?.uninstall();
    this.runtime.unloadConfig(CHAIN_CONFIG_ID);
    for (const { id } of this.#routes) this.runtime.unloadConfig(id);
  }
}

/** A TestChain on the in-process engine. */
export function createInProcessChain(setup: ChainSetup): TestChain {
  const inProcess = new InProcessRuntime(setup, 0);
  return {
    engine: 'in-process',
    request: (request: TestRequest = {}): Promise<TestResponse> =>
      new HttpExchange(inProcess.binding, request).run(request),
    metrics: inProcess.metrics,
    get logs() {
      return inProcess.logs;
    },
    get now() {
      return inProcess.now;
    },
    advanceTime: (ms) => inProcess.advanceTime(ms),
    close: async () => inProcess.close(),
  };
}
