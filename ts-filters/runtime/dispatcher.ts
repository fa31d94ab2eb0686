// The Dispatcher the native side calls. Every entry is wrapped: no exception ever reaches native.

import { ConfigError } from '../api/errors';
import { HookKind, HookOutcome, LogLevel } from './codes';
import { resumeChain, runChain } from './chain';
import { requireBundle, loadFilterConfig, type BundleLoader, type LoadedConfig } from './config';
import { sendFailureReply } from './failure';
import { RUNTIME_PREFIX, describeError, errorMessage, writeLog } from './log';
import type { Dispatcher, HookKind as NativeHookKind, HookOutcome as NativeHookOutcome,
  NativeBinding } from './native';
import { StreamState } from './stream';

export interface DispatcherOptions {
  /** How bundles are loaded (default: require() from the bundle's path). Tests inject modules. */
  readonly loadBundle?: BundleLoader;
}

/** The dispatcher plus hooks for tests to look inside. */
export interface Runtime extends Dispatcher {
  /** Live stream states (tests only). */
  readonly streamCount: () => number;
}

export function createDispatcher(binding: NativeBinding, options: DispatcherOptions = {}): Runtime {
  const loadBundle = options.loadBundle ?? requireBundle;
  const configs = new Map<number, LoadedConfig>();
  // Indexed by slot: slots are small integers indexing the native stream table.
  const streams: (StreamState | undefined)[] = [];

  const internalError = (where: string, error: unknown): void => {
    writeLog(binding, LogLevel.Error, RUNTIME_PREFIX, `internal error in ${where}: ${describeError(error)}`, []);
  };

  const loadConfig = (configId: number, json: string): string | undefined => {
    try {
      if (configs.has(configId)) {
        writeLog(binding, LogLevel.Debug, RUNTIME_PREFIX, `config ${configId} loaded again: replacing it`, []);
      }
      configs.set(configId, loadFilterConfig(binding, configId, json, loadBundle));
      return undefined;
    } catch (error) {
      configs.delete(configId);
      if (error instanceof ConfigError) return error.message;
      internalError('loadConfig', error);
      return `internal error while loading the config: ${errorMessage(error)}`;
    }
  };

  const unloadConfig = (configId: number): void => {
    configs.delete(configId);
  };

  const onHook = (configId: number, slot: number, gen: number, hook: NativeHookKind,
                  endOfStream: boolean): NativeHookOutcome => {
    let stream = streams[slot];
    try {
      if (stream === undefined || stream.gen !== gen) {
        stream?.close();  // a stale stream whose onDestroy never came
        const config = configs.get(configId);
        if (config === undefined) {
          throw new Error(`onHook for unknown config ${configId}`);
        }
        stream = new StreamState(binding, config, slot, gen);
        streams[slot] = stream;
      }
      if (stream.poisoned) return HookOutcome.Continue;
      if (hook !== HookKind.RequestHeaders && hook !== HookKind.ResponseHeaders) {
        throw new Error(`onHook with unknown hook kind ${String(hook)}`);
      }
      // A new hook supersedes pending work (e.g. a local reply sent by another Envoy filter while
      // this stream's request hook was pending): its settlement is ignored.
      stream.pending = undefined;
      stream.reply = undefined;
      stream.phase = hook;
      stream.endOfStream = endOfStream;
      stream.inHook = true;
      try {
        return runChain(stream, hook, 0);
      } finally {
        stream.inHook = false;
      }
    } catch (error) {
      internalError('onHook', error);
      return failStream(stream, slot, gen);
    }
  };

  const onResume = (slot: number, gen: number): NativeHookOutcome => {
    const stream = streams[slot];
    if (stream === undefined || stream.gen !== gen) return HookOutcome.Continue;
    try {
      stream.inHook = true;
      try {
        return resumeChain(stream);
      } finally {
        stream.inHook = false;
      }
    } catch (error) {
      internalError('onResume', error);
      return failStream(stream, slot, gen);
    }
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

  return {
    loadConfig,
    unloadConfig,
    onHook,
    onResume,
    onDestroy,
    streamCount: () => streams.reduce((n, s) => (s === undefined ? n : n + 1), 0),
  };
}
