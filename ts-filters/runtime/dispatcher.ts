// The Dispatcher the native side calls. Every entry is wrapped: no exception ever reaches native.

import { ConfigError, CpuBudgetError } from '../api/errors';
import { BufferKind, CloseType, ConfigKind, CrossingFrame, FailurePolicy, HookFlags, HookKind, HookOutcome, LogLevel, NetworkHookKind,
  NetworkOutcome, WaitReport, directionOf, hookBit } from './codes';
import { holdWhilePending, resumeChain, runChain, runCompleteChain, runningHook, settle, startHook } from './chain';
import { largestBudget, type BundleLoader, type HttpConfig } from './config';
import { ConfigStore } from './config-store';
import {
  CONFIG_LOAD_BUDGET_MS, DEFAULT_CPU_BUDGET_MS, RECOVERY_BUDGET_MS, setDefaultBudget, startSection, watchSlotsOf,
} from './cpu-budget';
import { ConnectionState } from './connection';
import { settleFetch, settleFetchStream } from './fetch';
import { CONTINUE_CHAIN, applyFailure, applyNetworkFailure, sendFailureReply } from './failure';
import { RUNTIME_PREFIX, describeError, errorMessage, writeLog } from './log';
import type { ConfigKind as NativeConfigKind, Dispatcher, FetchStreamEvent as NativeFetchStreamEvent,
  HookKind as NativeHookKind,
  HookOutcome as NativeHookOutcome, NativeBinding, NetworkEvent as NativeNetworkEvent,
  NetworkHookKind as NativeNetworkHookKind } from './native';
import { hookNameOf, resumeNetworkChain, runCloseChain, runNetworkChain, runningNetworkHook,
  runWriteChain } from './network-chain';
import type { RouteConfig } from './route-config';
import { mapStackPositions } from './source-positions';
import { StreamState } from './stream';
import { ArrayPrototypeJoin, ArrayPrototypePush, MapPrototypeDelete, MapPrototypeForEach, MapPrototypeGet, MapPrototypeHas,
  MapPrototypeSet, performanceNow } from './primordials';

/** How many failures of the runtime's own code, within RUNTIME_FAILURE_WINDOW_MS, make a worker
 *  take a fresh Node environment. */
export const RUNTIME_FAILURES_TO_REBUILD = 10;
export const RUNTIME_FAILURE_WINDOW_MS = 10_000;

export interface DispatcherOptions {
  /** How bundles are loaded (default: require() from the bundle's path). Tests inject modules. */
  readonly loadBundle?: BundleLoader;
}

/**
 * The runtime's entries with their arguments spelled out (native-dispatcher.ts turns them into the
 * Dispatcher the native side calls), plus hooks for tests to look inside.
 */
export interface Runtime extends Omit<Dispatcher, 'onHook' | 'onResume' | 'onBudgetExceeded' | 'drainTicks'> {
  /** Dispatcher.onHook; `flags`: HookFlags bits. */
  onHook(configId: number, slot: number, gen: number, hook: NativeHookKind, flags: number,
         routeConfigId: number): NativeHookOutcome;
  onResume(slot: number, gen: number): NativeHookOutcome;
  onBudgetExceeded(slot: number, gen: number, budgetMs: number, stack: string,
                   returned?: NativeHookOutcome): NativeHookOutcome;
  /** What a call for HTTP stream (slot, gen) leaves in the crossing frame: the stream's wait
   *  (which direction its pending hook holds: WaitReport) and how many triples of built-in stats
   *  its hooks tallied since the last call, now in the stats buffer. Drops the state of a stream
   *  that completed. */
  leaveReport(slot: number, gen: number, frame: Uint32Array): void;
  /** Live stream states (tests only). */
  readonly streamCount: () => number;
  /** Bundle versions the environment holds (tests only). */
  readonly bundleVersionCount: () => number;
}

export function createDispatcher(binding: NativeBinding, options: DispatcherOptions = {}): Runtime {
  const store = new ConfigStore(binding, options.loadBundle);
  const { configs, routeConfigs } = store;
  // Indexed by slot: slots are small integers indexing the native stream table, which holds HTTP
  // streams and network connections alike.
  const streams: (StreamState | ConnectionState | undefined)[] = [];

  // When the runtime's own code keeps failing (RUNTIME_FAILURES_TO_REBUILD times within
  // RUNTIME_FAILURE_WINDOW_MS) the environment is broken beyond what one stream's failure covers:
  // the worker is given a fresh one, as when its memory ran out.
  let recentFailures: number[] = [];
  const internalError = (where: string, error: unknown): void => {
    writeLog(binding, LogLevel.Error, RUNTIME_PREFIX, `internal error in ${where}: ${describeError(error)}`, []);
    const now = performanceNow();
    recentFailures = recentFailures.filter((at) => now - at < RUNTIME_FAILURE_WINDOW_MS);
    ArrayPrototypePush(recentFailures, now);
    if (recentFailures.length >= RUNTIME_FAILURES_TO_REBUILD && !binding.isMainThread) {
      recentFailures = [];
      binding.environmentBroken();
    }
  };

  const watchSlots = watchSlotsOf(binding);
  // The config being loaded: its bundle's top level and parseConfig run under the config-load
  // budget (nothing resets this if the watchdog stops them).
  let loading: number | undefined;

  // Sections that are not a filter's hook (timers, continuations) get the largest budget in force.
  const updateDefaultBudget = (): void => {
    const budgets: number[] = [];
    MapPrototypeForEach(configs, (config) => ArrayPrototypePush(budgets, config.cpuBudgetMs));
    setDefaultBudget(watchSlots, budgets.length === 0 ? DEFAULT_CPU_BUDGET_MS : largestBudget(budgets));
  };

  // Runs `load` (a config's bundle top level, schemas and parseConfig) under the config-load
  // budget; answers undefined, or the ConfigError's message.
  const loadingConfig = (configId: number, where: string, load: () => void): string | undefined => {
    loading = configId;
    startSection(watchSlots, CONFIG_LOAD_BUDGET_MS);
    try {
      load();
      return undefined;
    } catch (error) {
      if (error instanceof ConfigError) return error.message;
      internalError(where, error);
      return `internal error while loading the config: ${errorMessage(error)}`;
    } finally {
      loading = undefined;
      updateDefaultBudget();
    }
  };

  const loadConfig = (configId: number, json: string, kind: NativeConfigKind, pinnedHash?: string,
                      pinnedSource?: string): string | undefined =>
    loadingConfig(configId, 'loadConfig', () => {
      store.load(configId, json, kind, pinnedHash === undefined || pinnedSource === undefined ? undefined
        : { hash: pinnedHash, source: pinnedSource });
    });

  const reloadConfig = (configId: number): string | undefined =>
    loadingConfig(configId, 'reloadConfig', () => {
      const result = store.reload(configId);
      if (result.outcome === 'unchanged') {
        writeLog(binding, LogLevel.Debug, RUNTIME_PREFIX, `filter config ${configId}: its bundle is unchanged`, []);
      }
    });

  const bundleOf = (configId: number): [string, string, string, number] | undefined => {
    const bundle = store.bundleOf(configId);
    return bundle === undefined ? undefined
      : [bundle.version.path, bundle.version.hash, bundle.version.source, bundle.watch ? 1 : 0];
  };

  const unloadConfig = (configId: number): void => {
    store.unload(configId);
    updateDefaultBudget();
  };

  // The overrides a route's config makes to this chain: only a route config for the chain's own
  // bundle applies (the filter names and configs were validated against that bundle).
  const overridesFor = (config: HttpConfig, routeConfigId: number): RouteConfig['overrides'] | undefined => {
    if (routeConfigId === 0) return undefined;
    const route = MapPrototypeGet(routeConfigs, routeConfigId);
    if (route === undefined || route.bundle !== config.bundle) {
      writeLog(binding, LogLevel.Debug, RUNTIME_PREFIX,
               `per-route config ${routeConfigId} does not apply to the chain of ${config.bundle}`, []);
      return undefined;
    }
    return route.overrides;
  };

  const describeMetrics = (configId: number): string[] => {
    const flat: string[] = [];
    const metrics = MapPrototypeGet(configs, configId)?.metrics ?? [];
    for (let i = 0; i < metrics.length; i++) {
      const { name, kind, labels } = metrics[i] as (typeof metrics)[number];
      ArrayPrototypePush(flat, name, kind, ArrayPrototypeJoin(labels, ','));
    }
    return flat;
  };

  const failOpen = (configId: number): number =>
    (MapPrototypeGet(configs, configId)?.failurePolicy === FailurePolicy.Open ? 1 : 0);

  const hookMask = (configId: number): number => {
    const config = MapPrototypeGet(configs, configId);
    if (config?.kind !== ConfigKind.Http) return 0;
    let mask = config.completeChain.length > 0 ? hookBit(HookKind.StreamComplete) : 0;
    for (let hook = 0; hook < config.chains.length; hook++) {
      if ((config.chains[hook]?.length ?? 0) > 0) mask |= hookBit(hook as NativeHookKind);
    }
    return mask;
  };

  const onHook = (configId: number, slot: number, gen: number, hook: NativeHookKind,
                  flags: number, routeConfigId = 0): NativeHookOutcome => {
    const existing = streams[slot];
    let stream = existing instanceof StreamState ? existing : undefined;
    try {
      if (stream === undefined || stream.gen !== gen) {
        existing?.close();  // a stale stream whose onDestroy never came
        const config = MapPrototypeGet(configs, configId);
        if (config?.kind !== ConfigKind.Http) {
          throw new Error(`onHook for unknown HTTP config ${configId}`);
        }
        stream = new StreamState(binding, config, slot, gen, overridesFor(config, routeConfigId));
        streams[slot] = stream;
      }
      if (hook === HookKind.StreamComplete) {
        // The stream is over: its end-of-stream hooks, then it closes (no onDestroy follows; its
        // state goes once its stats are taken). Without a response-headers hook in the chain its
        // response phase was never entered here.
        try {
          if ((flags & HookFlags.ResponseStarted) !== 0 && !stream.inResponse) stream.phase = HookKind.ResponseHeaders;
          if (!stream.poisoned) runCompleteChain(stream);
          stream.endPending();
          return HookOutcome.Continue;
        } finally {
          stream.close();
        }
      }
      if (stream.poisoned) return HookOutcome.Continue;
      if (stream.config.chains[hook] === undefined) {
        throw new Error(`onHook with unknown hook kind ${String(hook)}`);
      }
      const pending = stream.pending;
      if (pending !== undefined && directionOf(pending.hook) === directionOf(hook) &&
          hook !== HookKind.RequestHeaders && hook !== HookKind.ResponseHeaders) {
        return holdWhilePending(stream, hook, (flags & HookFlags.EndOfStream) !== 0);
      }
      // A hook of the other direction supersedes pending work (e.g. a local reply sent by another
      // Envoy filter while this stream's request hook was pending): its settlement is ignored.
      stream.supersedePending();
      stream.endPending();
      stream.reply = undefined;
      const endOfStream = (flags & HookFlags.EndOfStream) !== 0;
      stream.phase = hook;
      stream.endOfStream = endOfStream;
      return startHook(stream, hook, endOfStream);
    } catch (error) {
      internalError('onHook', error);
      return failStream(stream, slot, gen);
    }
  };

  const onNetworkHook = (configId: number, slot: number, gen: number, hook: NativeNetworkHookKind,
                         endOfStream: boolean): NativeHookOutcome => {
    const existing = streams[slot];
    let state = existing instanceof ConnectionState ? existing : undefined;
    try {
      if (state === undefined || state.gen !== gen) {
        existing?.close();
        const config = MapPrototypeGet(configs, configId);
        if (config?.kind !== ConfigKind.Network) {
          throw new Error(`onNetworkHook for unknown network config ${configId}`);
        }
        state = new ConnectionState(binding, config, slot, gen);
        streams[slot] = state;
      }
      if (state.poisoned) return NetworkOutcome.Continue;
      state.endOfStream = endOfStream;
      if (hook === NetworkHookKind.Write) return runWriteChain(state);
      if (hook !== NetworkHookKind.NewConnection && hook !== NetworkHookKind.Data) {
        throw new Error(`onNetworkHook with unknown hook kind ${String(hook)}`);
      }
      state.pending = undefined;
      return runNetworkChain(state, hook, 0);
    } catch (error) {
      internalError('onNetworkHook', error);
      return failConnection(state, slot, gen);
    }
  };

  const onCalloutDone = (slot: number, gen: number, calloutId: number, result: number, headers: string[],
                         body: Uint8Array): void => {
    const stream = streams[slot];
    if (!(stream instanceof StreamState) || stream.gen !== gen) return;
    try {
      settleFetch(stream, calloutId, result, headers, body);
    } catch (error) {
      internalError('onCalloutDone', error);
    }
  };

  const onFetchStream = (slot: number, gen: number, streamId: number, event: NativeFetchStreamEvent,
                         payload: string[] | Uint8Array | number | undefined, endStream: boolean): void => {
    const stream = streams[slot];
    if (!(stream instanceof StreamState) || stream.gen !== gen) return;
    try {
      settleFetchStream(stream, streamId, event, payload, endStream);
    } catch (error) {
      internalError('onFetchStream', error);
    }
  };

  const onNetworkEvent = (slot: number, gen: number, event: NativeNetworkEvent): void => {
    const state = streams[slot];
    if (!(state instanceof ConnectionState) || state.gen !== gen) return;
    try {
      runCloseChain(state, event);
    } catch (error) {
      internalError('onNetworkEvent', error);
    }
  };

  const onResume = (slot: number, gen: number): NativeHookOutcome => {
    const state = streams[slot];
    if (state === undefined || state.gen !== gen) return HookOutcome.Continue;
    if (state instanceof ConnectionState) {
      try {
        return resumeNetworkChain(state);
      } catch (error) {
        internalError('onResume', error);
        return failConnection(state, slot, gen);
      }
    }
    const stream = state;
    try {
      return resumeChain(stream);
    } catch (error) {
      internalError('onResume', error);
      return failStream(stream, slot, gen);
    }
  };

  const leaveReport = (slot: number, gen: number, frame: Uint32Array): void => {
    const stream = streams[slot];
    if (!(stream instanceof StreamState) || stream.gen !== gen) {
      frame[CrossingFrame.Waiting] = stream instanceof ConnectionState ? WaitReport.Unreported : WaitReport.None;
      frame[CrossingFrame.StatsRecords] = 0;
      return;
    }
    const pending = stream.pending;
    frame[CrossingFrame.Waiting] = pending === undefined ? WaitReport.None
      : directionOf(pending.hook) === BufferKind.Read ? WaitReport.Request : WaitReport.Response;
    if (stream.closed) streams[slot] = undefined;
    frame[CrossingFrame.StatsRecords] = stream.flushStats();
  };

  const onDestroy = (slot: number, gen: number): void => {
    const stream = streams[slot];
    if (stream === undefined || stream.gen !== gen) return;
    streams[slot] = undefined;
    try {
      stream.close();
    } catch (error) {
      // An abort listener threw.
      internalError('onDestroy', error);
    }
  };

  // The watchdog stopped JavaScript that ran past its budget. The stopped call's `finally` blocks
  // did not run: the running-hook records say who ran over.
  const onBudgetExceeded = (slot: number, gen: number, budgetMs: number, stack: string,
                            returned?: NativeHookOutcome): NativeHookOutcome => {
    // Not under the stopped section's budget: mapping the stack alone may take longer than it.
    startSection(watchSlots, RECOVERY_BUDGET_MS);
    const target = gen === 0 ? undefined : streams[slot];
    const current = target !== undefined && target.gen === gen ? target : undefined;
    const http = runningHook.link === undefined ? undefined : { ...runningHook };
    const network = runningNetworkHook.filter === undefined ? undefined : { ...runningNetworkHook };
    runningHook.stream = undefined;
    runningHook.link = undefined;
    runningNetworkHook.state = undefined;
    runningNetworkHook.filter = undefined;
    const mappedStack = mapStackPositions(stack);
    const budgetError = (what: string): CpuBudgetError => {
      const message = `${what} ran past its CPU budget of ${budgetMs} ms and was stopped`;
      const error = new CpuBudgetError(message);
      error.stack = `CpuBudgetError: ${message}${mappedStack}`;
      return error;
    };

    if (http?.stream !== undefined && http.link !== undefined) {
      const { stream, link } = http;
      const error = budgetError(link.hookName);
      if (stream === current && !stream.closed) {
        // Still inside the stream's call from Envoy: the policy applies now.
        const outcome = applyFailure(stream, link, 'was stopped', error);
        return outcome === CONTINUE_CHAIN ? runChain(stream, http.hook, http.position + 1) : outcome;
      }
      if (stream.pending !== undefined) settle(stream, stream.pending, true, error);
      else stream.poisoned = true;
    } else if (network?.state !== undefined && network.filter !== undefined) {
      const { state, filter } = network;
      const outcome = applyNetworkFailure(state, filter, hookNameOf(network.hook), 'was stopped',
                                          budgetError(hookNameOf(network.hook)));
      if (state === current) {
        if (outcome !== CONTINUE_CHAIN) return outcome;
        // "open": the data passes. onWrite has no chain to go on with (the connection is poisoned).
        return network.hook === NetworkHookKind.Write ? NetworkOutcome.Continue
          : runNetworkChain(state, network.hook, network.position + 1);
      }
    } else if (loading !== undefined) {
      writeLog(binding, LogLevel.Error, RUNTIME_PREFIX,
               `loading filter config ${loading} ran past its CPU budget of ${budgetMs} ms and was stopped${mappedStack}`, []);
      loading = undefined;
    } else {
      writeLog(binding, LogLevel.Error, RUNTIME_PREFIX,
               'JavaScript outside any filter hook (a promise continuation, a timer or an I/O callback) ' +
               `ran past the CPU budget of ${budgetMs} ms and was stopped${mappedStack}`, []);
    }
    if (current === undefined) return HookOutcome.Continue;
    if (returned !== undefined) return returned;
    // The stopped call decided nothing for its stream: fail it closed.
    return current instanceof ConnectionState ? failConnection(current, slot, gen) : failStream(current, slot, gen);
  };

  // Something unexpected escaped: fail the stream closed (a security chain must not be skipped
  // silently), whatever its config's policy.
  const failStream = (stream: StreamState | undefined, slot: number, gen: number): NativeHookOutcome => {
    if (stream !== undefined && stream.gen === gen && stream.slot === slot) {
      return sendFailureReply(stream);
    }
    try {
      binding.sendLocalReply(slot, gen, 500, [], 'internal error', 'envoy_ts_filter_failed');
      return HookOutcome.Replied;
    } catch (error) {
      internalError('failStream', error);
      return HookOutcome.Continue;
    }
  };

  // Something unexpected escaped a network hook: close the connection, whatever the policy.
  const failConnection = (state: ConnectionState | undefined, slot: number, gen: number): NativeHookOutcome => {
    if (state !== undefined) state.poisoned = true;
    try {
      binding.closeConnection(slot, gen, CloseType.NoFlush);
    } catch (error) {
      internalError('failConnection', error);
    }
    return NetworkOutcome.Stop;
  };

  return {
    loadConfig,
    reloadConfig,
    bundleOf,
    unloadConfig,
    describeMetrics,
    hookMask,
    failOpen,
    onHook,
    onNetworkHook,
    onNetworkEvent,
    onCalloutDone,
    onFetchStream,
    onResume,
    onDestroy,
    onBudgetExceeded,
    leaveReport,
    streamCount: () => streams.reduce((n, s) => (s === undefined ? n : n + 1), 0),
    bundleVersionCount: () => store.versionCount,
  };
}
