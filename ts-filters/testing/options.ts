// createTestChain's options, checked once: a mistake in a test gets an error naming the option.

import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

import type { ChainEntry, Engine, LogLevelName, RequestHandler, RouteOverride, TestChainOptions } from './types';

/** The options, checked and defaulted, as the engines use them. */
export interface ChainSetup {
  readonly engine: Engine;
  /** Module exports standing for the bundle (in-process), or undefined to require `bundle`. */
  readonly filters: unknown;
  /** The filter_config Envoy would get. */
  readonly filterConfig: { readonly bundle: string; readonly chain: readonly ChainEntry[] } & Record<string, unknown>;
  readonly routes: Readonly<Record<string, Readonly<Record<string, RouteOverride>>>>;
  readonly upstream: RequestHandler;
  readonly clusters: Readonly<Record<string, RequestHandler>>;
  readonly timers: 'real' | 'manual';
  readonly logLevel: LogLevelName;
  readonly bufferLimitBytes: number;
  /** Host engine: where libenvoy_ts.so and envoy-ts-host are. */
  readonly moduleDir: string;
}

/** Where a bundle given as module exports appears to be (nothing is read from it). */
const IN_MEMORY_BUNDLE = '/envoy-ts-testing/filters.js';
const LOG_LEVELS: readonly string[] = ['trace', 'debug', 'info', 'warn', 'error', 'critical'];
const OPTION_KEYS = ['filters', 'bundle', 'chain', 'failurePolicy', 'settings', 'routes', 'upstream', 'clusters',
                     'timers', 'logLevel', 'engine', 'moduleDir', 'bufferLimitBytes'];
const SETTING_KEYS = ['cpuBudgetMs', 'asyncTimeoutMs', 'offload', 'capabilities'];

function fail(message: string): never {
  throw new TypeError(`envoy-ts/testing: ${message}`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The upstream when a test gives none: 200 with a JSON echo of what it received (method, path,
 * headers as a record, body as text), like the e2e suite's upstream.
 */
export const echoUpstream: RequestHandler = (request) => ({
  status: 200,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ method: request.method, path: request.path, headers: request.headers.toObject(),
                         body: request.text() }),
});

/**
 * The package's build/Release: the kit is dist/testing/index.js in the package, so two folders
 * up; from the sources (ts-filters/testing) also two folders up.
 */
function defaultModuleDir(): string {
  return join(dirname(dirname(__dirname)), 'build', 'Release');
}

function handlers(value: unknown, what: string): Record<string, RequestHandler> {
  if (value === undefined) return {};
  if (!isRecord(value)) fail(`${what} must be an object of cluster name → handler function`);
  for (const [name, handler] of Object.entries(value)) {
    if (typeof handler !== 'function') fail(`${what}.${name} must be a function (request) => reply`);
    if (name === 'upstream') fail(`${what}: the name 'upstream' is the test's upstream (the route's cluster)`);
  }
  return value as Record<string, RequestHandler>;
}

function routes(value: unknown): ChainSetup['routes'] {
  if (value === undefined) return {};
  if (!isRecord(value)) fail(`routes must be an object of path prefix → { <filter>: { config } | { disabled: true } }`);
  for (const [prefix, overrides] of Object.entries(value)) {
    if (!prefix.startsWith('/')) fail(`routes: the prefix '${prefix}' must start with '/'`);
    if (!isRecord(overrides)) fail(`routes['${prefix}'] must be an object of filter name → override`);
  }
  return value as ChainSetup['routes'];
}

/** Check and default createTestChain's options. */
export function chainSetup(options: TestChainOptions): ChainSetup {
  if (!isRecord(options)) fail('createTestChain needs an options object ({ filters | bundle, chain, ... })');
  const unknown = Object.keys(options).filter((key) => !OPTION_KEYS.includes(key));
  if (unknown.length > 0) fail(`unknown option(s) ${unknown.join(', ')} (known: ${OPTION_KEYS.join(', ')})`);

  const envEngine = process.env['ENVOY_TS_TEST_ENGINE'];
  const engine = options.engine ?? (envEngine === undefined || envEngine === '' ? 'in-process' : envEngine);
  if (engine !== 'in-process' && engine !== 'host') {
    fail(`engine must be 'in-process' or 'host' (option or ENVOY_TS_TEST_ENGINE), got ${JSON.stringify(engine)}`);
  }
  const { filters, bundle } = options;
  if (bundle !== undefined && typeof bundle !== 'string') fail('bundle must be the path of a built filter bundle');
  // In-process, `filters` wins: a spec for both engines runs before its bundle is built.
  const loadsBundle = engine === 'host' || filters === undefined;
  if (bundle !== undefined && loadsBundle && !existsSync(bundle)) {
    fail(`bundle: no file at ${JSON.stringify(bundle)} (give the path of a built filter bundle)`);
  }
  if (engine === 'host' && bundle === undefined) {
    fail("the host engine loads a built bundle: give `bundle: '<path to the bundle .js>'`");
  }
  if (engine === 'in-process' && filters === undefined && bundle === undefined) {
    fail('give the filters (`filters: <module exports>`) or a built `bundle` path');
  }
  if (!Array.isArray(options.chain) || options.chain.length === 0) {
    fail("chain must be a non-empty list of { name, config? } entries, e.g. [{ name: 'request-id' }]");
  }
  const settings = options.settings ?? {};
  if (!isRecord(settings)) fail('settings must be an object of filter_config keys');
  const badSettings = Object.keys(settings).filter((key) => !SETTING_KEYS.includes(key));
  if (badSettings.length > 0) fail(`settings: unknown key(s) ${badSettings.join(', ')} (known: ${SETTING_KEYS.join(', ')})`);
  if (options.upstream !== undefined && typeof options.upstream !== 'function') {
    fail('upstream must be a function (request) => ({ status?, headers?, body?, trailers? })');
  }
  const timers = options.timers ?? 'real';
  if (timers !== 'real' && timers !== 'manual') fail(`timers must be 'real' or 'manual', got ${JSON.stringify(timers)}`);
  if (timers === 'manual' && engine === 'host') {
    fail("timers: 'manual' works in-process only: the host's timers run in the proxy");
  }
  const logLevel = options.logLevel ?? 'debug';
  if (!LOG_LEVELS.includes(logLevel)) fail(`logLevel must be one of ${LOG_LEVELS.join(', ')}`);
  const bufferLimitBytes = options.bufferLimitBytes ?? 1024 * 1024;
  if (!Number.isSafeInteger(bufferLimitBytes) || bufferLimitBytes < 0) fail('bufferLimitBytes must be an integer >= 0');

  const bundlePath = engine === 'in-process' && filters !== undefined ? IN_MEMORY_BUNDLE : resolve(bundle as string);
  return {
    engine,
    filters: engine === 'in-process' ? filters : undefined,
    filterConfig: { bundle: bundlePath, chain: options.chain, ...(options.failurePolicy === undefined ? {}
      : { failurePolicy: options.failurePolicy }), ...settings },
    routes: routes(options.routes),
    upstream: options.upstream ?? echoUpstream,
    clusters: handlers(options.clusters, 'clusters'),
    timers,
    logLevel: logLevel as LogLevelName,
    bufferLimitBytes,
    moduleDir: resolve(options.moduleDir ?? defaultModuleDir()),
  };
}
