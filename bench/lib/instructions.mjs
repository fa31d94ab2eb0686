// Part 10: instruction counts, the noise-free twins of the scripted parts' ns figures. Each
// configuration runs through `envoy-ts-host --script` under `valgrind --tool=callgrind
// --instr-atstart=no`: the host marks its measured streams with valgrind's client requests
// (test/host/measured_window.h), so callgrind counts those streams only — every thread of the
// host, not its start-up, warmup or exit. Instructions per stream = the count / streams. The
// configurations are the scripted part's (host alone, native baseline, TS request-id with and
// without the CPU budget, TS request-only), the async
// part's (its pinned runs aside: valgrind runs one thread at a time anyway), the proxy-wasm
// part's (one header filter three ways) and the header-calls part's (100 calls per stream here),
// plus a ctx.fetch round trip: fetch-json makes one callout per stream to a local HTTP server
// (through a cluster of the scenario, over a kept-alive connection) and reads its status and JSON
// body; its twin without the callout is resume-sync.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { listenLoopback } from '../../test/support/servers.mjs';
import { ASYNC_CONFIGS, check as checkAsync, scenario as asyncScenario } from './async.mjs';
import { check as checkHeaderCalls, headerCallConfigs, scenario as headerCallsScenario } from './header-calls.mjs';
import { OWNERS, instructionsByOwner } from './instruction-owners.mjs';
import { PROXY_WASM_CONFIGS, check as checkProxyWasm, scenario as proxyWasmScenario } from './proxy-wasm.mjs';
import { REQUEST_ID, SCRIPT_CONFIGS, checkResult, request, runScenario, upstreamResponse } from './scripted.mjs';
import { BenchFailure, aptInstall, fixturesBundle, log } from './util.mjs';

const VALGRIND = '/usr/bin/valgrind';
// Under callgrind a hook runs ~100× slower: the CPU budget (when on) becomes the largest allowed,
// so that no hook is stopped; the budget's work per hook is the same whatever its length.
const CALLGRIND_CPU_BUDGET_MS = 60000;
const FETCH_CLUSTER = 'decision';
// Header calls per stream of the header-calls configurations: per call = (op − none) / this.
const HEADER_CALLS_PER_STREAM = 100;
const DECISION = '{"allow":true}';

const fetchConfig = {
  key: 'ts_fetch', label: 'TS fetch-json (one ctx.fetch: status and a JSON body)', resumes: true,
  filters: [{ module: 'envoy_ts', filter_name: 'chain',
              config: JSON.stringify({ bundle: fixturesBundle, chain: [{ name: 'fetch-json' }] }) }],
};

// The scenario's cluster for fetch-json: Envoy's static_resources.clusters form.
const decisionCluster = (port) => ({
  name: FETCH_CLUSTER,
  load_assignment: { cluster_name: FETCH_CLUSTER, endpoints: [{ lb_endpoints: [{ endpoint: { address: {
    socket_address: { address: '127.0.0.1', port_value: port } } } }] }] },
});

/** The groups of configurations, each with its scenario and its check of a stream's result. */
function groups(decisionPort) {
  return [
    { name: 'scripted', configs: SCRIPT_CONFIGS,
      scenario: (config, repeat, warmup) => ({ upstream_response: upstreamResponse, filters: config.filters,
                                               requests: [request(true)], repeat, warmup }),
      check: (where, config, result) => checkResult(where, config, result, REQUEST_ID) },
    // Not the offload twin without the runner: it runs under a wrapper of its own.
    { name: 'async', configs: [...ASYNC_CONFIGS.filter((c) => !c.pinned && c.offload !== 'waker'), fetchConfig],
      scenario: (config, repeat, warmup) => ({ ...asyncScenario(config, repeat, warmup),
                                               clusters: [decisionCluster(decisionPort)] }),
      check: checkAsync },
    { name: 'proxyWasm', configs: PROXY_WASM_CONFIGS, scenario: proxyWasmScenario, check: checkProxyWasm },
    { name: 'headerCalls', configs: headerCallConfigs(HEADER_CALLS_PER_STREAM), scenario: headerCallsScenario,
      check: checkHeaderCalls },
  ];
}

/** `filters` with every envoy_ts chain's CPU budget, unless off (0), at CALLGRIND_CPU_BUDGET_MS. */
function withCallgrindBudget(filters) {
  return filters.map((filter) => {
    if (filter.module !== 'envoy_ts') return filter;
    const config = JSON.parse(filter.config);
    return config.cpuBudgetMs === 0 ? filter
      : { ...filter, config: JSON.stringify({ ...config, cpuBudgetMs: CALLGRIND_CPU_BUDGET_MS }) };
  });
}

/** valgrind's path, installed (as root, `apt-get install valgrind`) when missing. */
async function ensureValgrind() {
  if (existsSync(VALGRIND)) return VALGRIND;
  await aptInstall('valgrind', 'the instruction counts');
  if (existsSync(VALGRIND)) return VALGRIND;
  throw new BenchFailure(`${VALGRIND} is missing and could not be installed (apt-get install valgrind, as root)`);
}

/** The instructions callgrind counted, from its output file's `totals:` line. */
function countedInstructions(file, where) {
  const match = /^totals:\s+(\d+)/m.exec(readFileSync(file, 'utf8'));
  if (!match) throw new BenchFailure(`${where}: no totals line in ${file}`);
  return Number(match[1]);
}

/** One run of `config` under callgrind: instructions per measured stream, and callgrind's file. */
async function countPerStream(dir, valgrind, group, config, { streams, warmup, run }) {
  const name = `${group.name}-${config.key}-${run}`;
  const where = `instructions ${name}`;
  const outFile = path.join(dir, `${name}.callgrind`);
  const scenario = group.scenario(config, streams, warmup);
  const out = await runScenario(dir, name, { ...scenario, filters: withCallgrindBudget(scenario.filters) }, {
    timeoutMs: 30 * 60 * 1000,
    wrapper: { label: 'under callgrind',
               argv: [valgrind, '--tool=callgrind', '--instr-atstart=no', `--callgrind-out-file=${outFile}`] },
  });
  group.check(where, config, out.results?.[0] ?? {});
  if (out.timing?.streams !== streams) throw new BenchFailure(`${where}: bad timing ${JSON.stringify(out.timing)}`);
  const instructions = countedInstructions(outFile, where);
  if (instructions === 0) {
    throw new BenchFailure(`${where}: callgrind counted no instruction: the host was built without valgrind's ` +
      'client requests (valgrind/callgrind.h was missing when CMake configured it); with valgrind installed, ' +
      'rebuild it: rm build/CMakeCache.txt && bash scripts/setup.sh --build-only');
  }
  log(`instructions: ${name} ${Math.round(instructions / streams)} per stream`);
  return { perStream: instructions / streams, file: outFile };
}

/**
 * Runs every configuration `runs` times under callgrind (interleaved): `streams` measured streams
 * after `warmup` unmeasured ones. A configuration's figure is its lowest run: what the streams
 * themselves execute is the same every run (to ~0.3 %), but now and then V8 optimizes a function
 * again or collects garbage inside the measured window, which only ever adds. Returns
 * { groups: {name: {key: {label, instructions_per_stream, runs_instructions_per_stream}}}, derived
 * figures }.
 */
export async function instructionsBench({ streams, warmup, runs }) {
  const valgrind = await ensureValgrind();
  const version = spawnSync(valgrind, ['--version'], { encoding: 'utf8' }).stdout.trim();
  const dir = mkdtempSync(path.join(tmpdir(), 'envoy-ts-bench-instructions-'));
  const decision = await listenLoopback(http.createServer((req, res) => {
    res.writeHead(req.url === '/decision' ? 200 : 404, { 'content-type': 'application/json' });
    res.end(DECISION);
  }));
  log(`instructions: ${version}, ${runs} runs × ${streams} measured streams per configuration after ${warmup} (warmup)`);
  const counts = {};
  const lowestRunFile = {};  // by "group/key": the callgrind file of its lowest run
  try {
    for (let run = 1; run <= runs; run++) {
      for (const group of groups(decision.port)) {
        counts[group.name] ??= {};
        for (const config of group.configs) {
          const { perStream, file } = await countPerStream(dir, valgrind, group, config, { streams, warmup, run });
          const entry = counts[group.name][config.key] ??= { label: config.label, runs_instructions_per_stream: [] };
          entry.runs_instructions_per_stream.push(Math.round(perStream));
          if (!(perStream >= entry.instructions_per_stream)) {
            entry.instructions_per_stream = Math.round(perStream);
            lowestRunFile[`${group.name}/${config.key}`] = file;
          }
        }
      }
    }
  } finally {
    await decision.close();
  }
  log(`instructions: callgrind's files are in ${dir} (callgrind_annotate <file> shows where they go)`);
  const s = (key) => counts.scripted[key].instructions_per_stream;
  const a = (key) => counts.async[key]?.instructions_per_stream ?? NaN;
  const w = (key) => counts.proxyWasm[key]?.instructions_per_stream ?? NaN;
  // Where the instructions go, by owner, per stream (lowest runs).
  const owners = (key) => instructionsByOwner(lowestRunFile[`scripted/${key}`], streams);
  const [host, baseline, ts, emptyHook] = ['none', 'baseline', 'ts', 'tsEmptyHook'].map(owners);
  const byOwner = OWNERS.map(([owner, label]) => ({
    owner, label,
    empty_hook_over_host: emptyHook[owner] - host[owner],
    crossing_per_hook: (ts[owner] - baseline[owner]) / 2,
  }));
  const perCall = (op) => (counts.headerCalls[op].instructions_per_stream - counts.headerCalls.none.instructions_per_stream) /
    HEADER_CALLS_PER_STREAM;
  return {
    valgrind: version,
    streams_per_configuration: streams,
    warmup_streams: warmup,
    runs,
    groups: counts,
    crossing_per_hook: (s('ts') - s('baseline')) / 2,
    crossing_per_hook_without_budget: (s('tsNoBudget') - s('baseline')) / 2,
    filter_cost_ratio_ts_over_baseline: (s('ts') - s('none')) / (s('baseline') - s('none')),
    filter_cost_ratio_request_only_over_baseline: (s('tsRequestOnly') - s('none')) / (s('baseline') - s('none')),
    empty_hook_filter_cost: s('tsEmptyHook') - s('none'),
    by_owner: byOwner,
    async_filter_cost_ratio_scheduled: (a('ts_scheduled') - a('none')) / (a('baseline') - a('none')),
    async_in_hook_over_sync: a('ts_in_hook') - a('ts_sync'),
    async_scheduler_over_in_hook: a('ts_scheduled') - a('ts_in_hook'),
    async_offload_over_scheduler: a('ts_offload') - a('ts_scheduled'),
    fetch_round_trip: a('ts_fetch') - a('ts_sync'),
    proxy_wasm_filter_cost_ratio_wasm: (w('wasm') - w('none')) / (w('baseline') - w('none')),
    proxy_wasm_filter_cost_ratio_ts: (w('ts') - w('none')) / (w('baseline') - w('none')),
    proxy_wasm_wasm_over_ts: w('wasm') - w('ts'),
    header_calls_per_stream: HEADER_CALLS_PER_STREAM,
    header_call: { get: perCall('get'), has: perCall('has'), set: perCall('set') },
  };
}
