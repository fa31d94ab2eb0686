// Part 7: async resume through the host's scripted mode. Each filter stops the request in
// onRequestHeaders and lets it go on later; every stream carries x-resumed: 1 on its response once
// that happened. The native baseline (bench/baseline/async_resume.cc) commits an event on the
// stream's scheduler and continues decoding from on_http_filter_scheduled: one dispatcher round trip
// on the worker. The TS filters (test/e2e/fixtures/bench-filters.ts) wait in three ways:
//   - resume-in-hook (`await null`) and resume-immediate (one setImmediate) settle before the hook
//     returns (microtasks, and the loop turn the runtime pumps after each hook): the decision is
//     applied in the hook, with no scheduler event;
//   - async-resume (an immediate queued by an immediate: the next loop turn) settles after the hook
//     returned with the request stopped: as the hook's call returns, the worker sees the loop has
//     work due now and commits an event on the stream's scheduler itself (no thread hand-off); it
//     runs the loop inside on_http_filter_scheduled, JS settles, and the decision is applied in that
//     same event.
// resume-offload waits for a no-op task on the worker pool (ctx.offload, one pool thread): as the
// task ends, the pool thread commits the stream's event itself, then the pool posts the result to
// the worker's loop; then the scheduler path. Its twin runs the same build with the module alone
// in a folder, without the runner script that ships beside it: the waker thread sees the result
// arrive on the loop and commits the event (a thread hand-off more). The response's
// x-offload-pool-wakes says which way it went, checked every run. resume-sync (no wait) is the
// crossing baseline. The in-hook, scheduler and offload paths run once more with the host pinned
// to one CPU, which separates what a path does from what the machine's cross-CPU wake-ups cost.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { TASKSET, measureInterleaved, runScenario, summarize } from './scripted.mjs';
import { BenchFailure, fixturesBundle, log, releaseDir } from './util.mjs';

const tsFilter = (name, settings = {}) => [{ module: 'envoy_ts', filter_name: 'chain',
  config: JSON.stringify({ bundle: fixturesBundle, chain: [{ name }], ...settings }) }];
const ONE_POOL_THREAD = { offload: { threads: 1 } };

/** `path`: how the stream goes on after the wait (checked once with uprobes; see bench/README.md). */
export const ASYNC_CONFIGS = [
  { key: 'none', label: 'no filter (host only)', filters: [], resumes: false, path: '—' },
  { key: 'baseline', label: 'native baseline (C++): scheduler round trip', resumes: true, path: 'scheduler (worker)',
    filters: [{ module: 'baseline_async_resume', filter_name: 'async-resume', config: '' }] },
  { key: 'ts_sync', label: 'TS resume-sync (no wait)', resumes: true, path: '— (continues)',
    filters: tsFilter('resume-sync') },
  { key: 'ts_in_hook', label: 'TS resume-in-hook (await null)', resumes: true, path: 'in the hook',
    filters: tsFilter('resume-in-hook') },
  { key: 'ts_immediate', label: 'TS resume-immediate (setImmediate)', resumes: true, path: 'in the hook (loop pump)',
    filters: tsFilter('resume-immediate') },
  { key: 'ts_scheduled', label: 'TS async-resume (next loop turn)', resumes: true, path: 'scheduler (worker)',
    filters: tsFilter('async-resume') },
  { key: 'ts_in_hook_1cpu', label: 'TS resume-in-hook, host on 1 CPU', resumes: true, path: 'in the hook', pinned: true,
    filters: tsFilter('resume-in-hook') },
  { key: 'ts_scheduled_1cpu', label: 'TS async-resume, host on 1 CPU', resumes: true, path: 'scheduler (worker)',
    pinned: true, filters: tsFilter('async-resume') },
  { key: 'ts_offload', label: 'TS resume-offload (a no-op ctx.offload task)', resumes: true, offload: 'pool',
    path: 'pool thread + scheduler', filters: tsFilter('resume-offload', ONE_POOL_THREAD) },
  { key: 'ts_offload_1cpu', label: 'TS resume-offload, host on 1 CPU', resumes: true, offload: 'pool',
    path: 'pool thread + scheduler', pinned: true, filters: tsFilter('resume-offload', ONE_POOL_THREAD) },
  { key: 'ts_offload_waker', label: 'TS resume-offload, module without its runner (the waker thread wakes the stream)',
    resumes: true, offload: 'waker', path: 'pool thread + waker + scheduler',
    filters: tsFilter('resume-offload', ONE_POOL_THREAD) },
];

// The module alone in a folder beside build/Release (its RUNPATH still finds the checkout's
// libnode), without the offload runner script: the resume-offload twin loads it from there.
const moduleAloneDir = path.join(releaseDir, '..', 'bench-module-alone');

/** runScenario's options for `config`: pinned to `cpu`, or with the module alone. */
function hostOptions(config, cpu) {
  if (config.offload === 'waker') {
    return { wrapper: { argv: ['/usr/bin/env', `ENVOY_DYNAMIC_MODULES_SEARCH_PATH=${moduleAloneDir}`],
                        label: 'the module without its offload runner' } };
  }
  return config.pinned ? { cpu } : {};
}

const header = (list, name) => (list ?? []).find(([k]) => k.toLowerCase() === name)?.[1];

export function scenario(config, repeat, warmup) {
  return {
    filters: config.filters,
    requests: [{ headers: { ':method': 'GET', ':path': '/bench', ':authority': 'bench.local' }, body: '' }],
    upstream_response: { headers: { ':status': '200', 'content-type': 'text/plain' }, body: 'ok' },
    repeat,
    warmup,
  };
}

export function check(where, config, result) {
  const fail = (what) => { throw new BenchFailure(`${where}: ${what}: ${JSON.stringify(result).slice(0, 500)}`); };
  if (result.local_reply || result.reset) fail('expected the upstream to answer');
  if (result.upstream_request_headers == null) fail('the request never reached the upstream');
  if (header(result.response_headers, ':status') !== '200' || result.response_body !== 'ok') fail('expected 200 ok');
  const expected = config.resumes ? '1' : undefined;
  const got = header(result.response_headers, 'x-resumed');
  if (got !== expected) fail(`x-resumed should be ${expected ?? 'absent'}, got ${got}`);
  // How many wake-ups pool threads asked for (resume-offload).
  const poolWakes = Number(header(result.response_headers, 'x-offload-pool-wakes'));
  if (config.offload === 'pool' && !(poolWakes >= 1)) fail('the pool thread should wake the stream');
  if (config.offload === 'waker' && poolWakes !== 0) fail('the waker thread should wake the stream');
}

/** The first CPU this process may run on (the pinned configurations' CPU). */
function firstAllowedCpu() {
  const match = /^Cpus_allowed_list:\s*(\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return match ? Number(match[1]) : 0;
}

/**
 * Verifies every configuration, then measures them interleaved. Returns { configs: {key: {label,
 * path, runs_ns_per_stream, median_ns_per_stream}}, derived figures (ns/stream, and ratios), ... }.
 */
export async function asyncBench({ streams, runs, warmup }) {
  const dir = mkdtempSync(path.join(tmpdir(), 'envoy-ts-bench-async-'));
  const cpu = firstAllowedCpu();
  const configs = ASYNC_CONFIGS.filter((c) => !c.pinned || existsSync(TASKSET));
  if (configs.length < ASYNC_CONFIGS.length) log(`async: ${TASKSET} is missing: no runs on one CPU`);
  const runOne = (config, name, body) => runScenario(dir, name, body, hostOptions(config, cpu));
  if (configs.some((c) => c.offload === 'waker')) {
    rmSync(moduleAloneDir, { recursive: true, force: true });
    mkdirSync(moduleAloneDir, { recursive: true });
    copyFileSync(path.join(releaseDir, 'libenvoy_ts.so'), path.join(moduleAloneDir, 'libenvoy_ts.so'));
  }

  for (const config of configs) {
    const out = await runOne(config, `verify-${config.key}`, scenario(config, 1, 0));
    check(`async ${config.key} (verification)`, config, out.results?.[0] ?? {});
  }
  log(`async: verified ${configs.map((c) => c.key).join(', ')}; measuring ${runs} runs × ${streams} streams ` +
      `(warmup ${warmup})`);

  const samples = await measureInterleaved({
    part: 'async', configs, runs, streams,
    runPass: (config) => runOne(config, `measure-${config.key}`, scenario(config, streams, warmup)),
    check,
  });
  const result = Object.fromEntries(configs.map((c) => [c.key, {
    ...summarize(c, samples[c.key]), path: c.path, ...(c.pinned ? { cpu } : {}),
  }]));
  const m = (k) => result[k]?.median_ns_per_stream ?? NaN;
  // Per-run differences: consecutive runs share the machine's state, so their spread is honest.
  const perRun = (a, b) => (samples[a] && samples[b] ? samples[a].map((v, i) => Math.round(v - samples[b][i])) : []);
  return {
    streams_per_run: streams,
    warmup_streams: warmup,
    runs,
    host_concurrency: 1,
    configs: result,
    // What each filter adds over the host, per stream.
    baseline_filter_ns_per_stream: m('baseline') - m('none'),
    ts_scheduled_filter_ns_per_stream: m('ts_scheduled') - m('none'),
    ts_in_hook_filter_ns_per_stream: m('ts_in_hook') - m('none'),
    // Resume cost, TS vs native: stream time, and what the filter adds over the host.
    ts_scheduled_over_baseline: m('ts_scheduled') / m('baseline'),
    filter_cost_ratio_scheduled: (m('ts_scheduled') - m('none')) / (m('baseline') - m('none')),
    filter_cost_ratio_in_hook: (m('ts_in_hook') - m('none')) / (m('baseline') - m('none')),
    // What a promise settled in the hook adds to a sync hook (async bookkeeping, no scheduler).
    in_hook_over_sync_ns: m('ts_in_hook') - m('ts_sync'),
    // What the scheduler path adds per stream over settling in the hook.
    scheduler_over_in_hook_ns: m('ts_scheduled') - m('ts_in_hook'),
    scheduler_over_in_hook_ns_runs: perRun('ts_scheduled', 'ts_in_hook'),
    scheduler_over_in_hook_1cpu_ns: m('ts_scheduled_1cpu') - m('ts_in_hook_1cpu'),
    scheduler_over_in_hook_1cpu_ns_runs: perRun('ts_scheduled_1cpu', 'ts_in_hook_1cpu'),
    // What a round trip to the offload pool adds over resuming through the scheduler.
    offload_over_scheduler_ns: m('ts_offload') - m('ts_scheduled'),
    offload_over_scheduler_1cpu_ns: m('ts_offload_1cpu') - m('ts_scheduled_1cpu'),
    // The same round trip with the waker thread seeing the result arrive (no runner script).
    offload_waker_over_scheduler_ns: m('ts_offload_waker') - m('ts_scheduled'),
    offload_pool_over_waker: m('ts_offload') / m('ts_offload_waker'),
    offload_pool_minus_waker_ns_runs: perRun('ts_offload', 'ts_offload_waker'),
  };
}
