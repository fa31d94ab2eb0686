// Part 1: per-hook crossing cost through the host's scripted mode (`envoy-ts-host --script`), which
// runs streams through the real module loading, worker dispatcher and filter manager, without
// sockets. Every configuration sees the same request, which already carries x-request-id, so no
// side generates ids: per stream, both filters run 2 hooks and set the header once. A filter with
// only a request hook (one crossing per stream) is measured beside them.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { BenchFailure, errorLines, examplesBundle, fixturesBundle, hostBin, log, median, releaseDir, run } from './util.mjs';

export const REQUEST_ID = 'bench-0123456789abcdef';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const tsConfig = JSON.stringify({ bundle: examplesBundle, chain: [{ name: 'request-id' }], failurePolicy: 'closed' });
// The same chain with the CPU budget off: the watchdog never reads this worker's clock.
const tsNoBudgetConfig = JSON.stringify({ bundle: examplesBundle, chain: [{ name: 'request-id' }], failurePolicy: 'closed',
                                          cpuBudgetMs: 0 });

// A filter with only a request hook: the `request-only` fixture (test/e2e/fixtures/crossing-filters.ts)
// sets x-request-only and reads :path, the same header work as the native baseline (one get, one
// set) in one hook instead of two; the response and the stream's end make no call into JS.
const tsRequestOnlyConfig = JSON.stringify({ bundle: fixturesBundle, chain: [{ name: 'request-only' }],
                                             failurePolicy: 'closed' });
// The same crossing with nothing in it: the `empty-request-hook` fixture's request hook returns at
// once. Its filter cost is what one hook costs before a filter does anything.
const tsEmptyHookConfig = JSON.stringify({ bundle: fixturesBundle, chain: [{ name: 'empty-request-hook' }],
                                           failurePolicy: 'closed' });

/** The configurations, in run order. `filters` is the scenario's "filters" list; `upstreamSees`:
 *  a header the upstream must see, [name, value]. */
export const SCRIPT_CONFIGS = [
  { key: 'none', label: 'no filter (host only)', filters: [], setsId: false },
  { key: 'baseline', label: 'native baseline (C++)', setsId: true,
    filters: [{ module: 'baseline_request_id', filter_name: 'request-id', config: '' }] },
  { key: 'ts', label: 'TS request-id', setsId: true,
    filters: [{ module: 'envoy_ts', filter_name: 'chain', config: tsConfig }] },
  { key: 'tsNoBudget', label: 'TS request-id, cpuBudgetMs 0 (no CPU budget)', setsId: true,
    filters: [{ module: 'envoy_ts', filter_name: 'chain', config: tsNoBudgetConfig }] },
  { key: 'tsRequestOnly', label: 'TS request-only (one request hook: a get and a set)', setsId: false,
    upstreamSees: ['x-request-only', '1'],
    filters: [{ module: 'envoy_ts', filter_name: 'chain', config: tsRequestOnlyConfig }] },
  { key: 'tsEmptyHook', label: 'TS empty hook (one request hook that does nothing)', setsId: false,
    filters: [{ module: 'envoy_ts', filter_name: 'chain', config: tsEmptyHookConfig }] },
];

export const upstreamResponse = { headers: { ':status': '200', 'content-type': 'text/plain' }, body: 'ok' };
export const request = (withId) => ({
  headers: { ':method': 'GET', ':path': '/bench', ':authority': 'bench.local', ...(withId ? { 'x-request-id': REQUEST_ID } : {}) },
  body: '',
});

const header = (list, name) => (list ?? []).find(([k]) => k.toLowerCase() === name)?.[1];

export const TASKSET = '/usr/bin/taskset';

/** Runs one scenario through `envoy-ts-host --script` (1 worker; with `cpu`, the host is pinned
 *  to that CPU by taskset, threads and all; with `wrapper` ({argv, label}), the host runs under
 *  that command); resolves with the host's parsed output. Throws BenchFailure on an unclean exit
 *  or an error line in the host's log. */
export async function runScenario(dir, name, scenario, { timeoutMs, cpu, wrapper } = {}) {
  const file = path.join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(scenario));
  const env = { ...process.env, ENVOY_DYNAMIC_MODULES_SEARCH_PATH: releaseDir };
  const prefix = wrapper ?? (cpu === undefined ? undefined : { argv: [TASKSET, '-c', String(cpu)], label: `taskset -c ${cpu}` });
  const command = [...(prefix?.argv ?? []), hostBin, '--script', file, '--concurrency', '1', '-l', 'warn'];
  const out = await run(command[0], command.slice(1), { env, timeoutMs });
  const where = prefix === undefined ? `scripted ${name}` : `scripted ${name} (${prefix.label})`;
  if (out.code !== 0) {
    throw new BenchFailure(`${where}: host exited ${out.code ?? out.signal}\n${out.stderr.slice(-2000)}`);
  }
  const errors = errorLines(out.stderr);
  if (errors.length > 0) {
    throw new BenchFailure(`${where}: the host logged errors:\n${errors.slice(0, 5).join('\n')}`);
  }
  try {
    return JSON.parse(out.stdout.trim().split('\n').pop());
  } catch {
    throw new BenchFailure(`${where}: unparsable output: ${out.stdout.slice(0, 500)}`);
  }
}

/**
 * Measures `configs` in `runs` interleaved passes (a, b, c, a, b, c, ...): `runPass(config)`
 * resolves with the host's output for `streams` streams, whose first result `check(where, config,
 * result)` verifies. Returns each configuration's ns per stream, per pass, by key.
 */
export async function measureInterleaved({ part, configs, runs, streams, runPass, check }) {
  const samples = Object.fromEntries(configs.map((c) => [c.key, []]));
  for (let i = 0; i < runs; i++) {
    for (const config of configs) {
      const where = `${part} ${config.key} run ${i + 1}`;
      const out = await runPass(config);
      check(where, config, out.results?.[0] ?? {});
      const { streams: n, total_ns: total } = out.timing ?? {};
      if (n !== streams || !(total > 0)) throw new BenchFailure(`${where}: bad timing ${JSON.stringify(out.timing)}`);
      samples[config.key].push(total / n);
    }
  }
  return samples;
}

/** A configuration's report entry from its samples: label, ns/stream per run and their median. */
export function summarize(config, samples) {
  return { label: config.label, runs_ns_per_stream: samples.map((v) => Math.round(v)), median_ns_per_stream: median(samples) };
}

/** Checks one stream result; `sent` is the id the request carried (null: none). */
export function checkResult(where, config, result, sent) {
  const fail = (what) => { throw new BenchFailure(`${where}: ${what}: ${JSON.stringify(result)}`); };
  if (result.local_reply || result.reset) fail('expected the upstream to answer (got a local reply/reset)');
  if (header(result.response_headers, ':status') !== '200') fail('expected :status 200');
  if (config.upstreamSees !== undefined) {
    const [name, value] = config.upstreamSees;
    if (header(result.upstream_request_headers, name) !== value) fail(`upstream should see ${name}: ${value}`);
  }
  const upstreamId = header(result.upstream_request_headers, 'x-request-id');
  const responseId = header(result.response_headers, 'x-request-id');
  if (sent !== null) {
    if (upstreamId !== sent) fail(`upstream should see x-request-id ${sent}`);
    if (config.setsId ? responseId !== sent : responseId !== undefined) fail('wrong response x-request-id');
  } else if (config.setsId) {
    if (!UUID.test(upstreamId ?? '')) fail('upstream should see a generated UUID v4 x-request-id');
    if (responseId !== upstreamId) fail('response should echo the generated x-request-id');
  } else if (upstreamId !== undefined || responseId !== undefined) {
    fail('no filter: x-request-id should be absent');
  }
}

/**
 * Verifies each configuration (with and without an incoming id), then measures them interleaved.
 * Returns { configs: {key: {label, runs_ns_per_stream, median_ns_per_stream}}, crossing_ns_per_hook, ... }.
 */
export async function scriptedBench({ streams, warmup, runs }) {
  const dir = mkdtempSync(path.join(tmpdir(), 'envoy-ts-bench-script-'));
  const base = { upstream_response: upstreamResponse };

  for (const config of SCRIPT_CONFIGS) {
    const where = `scripted ${config.key} (verification)`;
    const out = await runScenario(dir, `verify-${config.key}`,
      { ...base, filters: config.filters, requests: [request(true), request(false)], repeat: 1, warmup: 0 });
    if (out.results?.length !== 2) throw new BenchFailure(`${where}: expected 2 results`);
    checkResult(`${where}, request with x-request-id`, config, out.results[0], REQUEST_ID);
    checkResult(`${where}, request without x-request-id`, config, out.results[1], null);
  }
  log(`scripted: verified ${SCRIPT_CONFIGS.map((c) => c.key).join(', ')}; measuring ${runs} runs × ${streams} streams (warmup ${warmup})`);

  const samples = await measureInterleaved({
    part: 'scripted', configs: SCRIPT_CONFIGS, runs, streams,
    runPass: (config) => runScenario(dir, `measure-${config.key}`,
      { ...base, filters: config.filters, requests: [request(true)], repeat: streams, warmup }),
    check: (where, config, result) => checkResult(where, config, result, REQUEST_ID),
  });
  const configs = Object.fromEntries(SCRIPT_CONFIGS.map((c) => [c.key, summarize(c, samples[c.key])]));
  const m = (k) => configs[k].median_ns_per_stream;
  // Per-run differences too: consecutive runs share the machine's state, so their spread is honest.
  const perRunCrossing = samples.ts.map((ts, i) => (ts - samples.baseline[i]) / 2);
  return {
    streams_per_run: streams,
    warmup_streams: warmup,
    runs,
    host_concurrency: 1,
    request_has_x_request_id: true,
    configs,
    crossing_ns_per_hook: (m('ts') - m('baseline')) / 2,
    crossing_ns_per_hook_runs: perRunCrossing.map((v) => Math.round(v)),
    crossing_ns_per_hook_without_budget: (m('tsNoBudget') - m('baseline')) / 2,
    baseline_filter_ns_per_stream: m('baseline') - m('none'),
    ts_filter_ns_per_stream: m('ts') - m('none'),
    request_only_filter_ns_per_stream: m('tsRequestOnly') - m('none'),
    request_only_filter_cost_ratio: (m('tsRequestOnly') - m('none')) / (m('baseline') - m('none')),
    request_only_filter_cost_ratio_runs: samples.tsRequestOnly.map((v, i) =>
      Math.round(((v - samples.none[i]) / (samples.baseline[i] - samples.none[i])) * 100) / 100),
    empty_hook_filter_ns_per_stream: m('tsEmptyHook') - m('none'),
    empty_hook_filter_ns_per_stream_runs: samples.tsEmptyHook.map((v, i) => Math.round(v - samples.none[i])),
  };
}
