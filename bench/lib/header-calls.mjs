// Part: the cost of one header call from a TypeScript filter (get, has, set) through the host's
// scripted mode (1 worker, no sockets). The header-calls fixture filter
// (test/e2e/fixtures/header-calls.ts) makes `calls` calls of one kind in its request-headers hook;
// the same filter making none is the baseline, so ns per call = (stream(op) − stream(none)) / calls:
// the runtime's HeaderMap method (name check, stream check), the binding call, and the host's
// header map (Envoy's own lookup in a real proxy), plus the string a get returns. The instruction
// counts part runs the same configurations under callgrind (instructions.mjs).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { REQUEST_ID, measureInterleaved, runScenario, summarize } from './scripted.mjs';
import { BenchFailure, fixturesBundle, log, median } from './util.mjs';

/** Calls per stream. */
export const HEADER_CALLS = 1000;
export const HEADER_CALL_OPS = ['get', 'has', 'set'];

/** The baseline (no call) and one configuration per kind of call. */
export const HEADER_CALL_CONFIGS = ['none', ...HEADER_CALL_OPS].map((op) => ({
  key: op, label: op === 'none' ? 'no header call (baseline)' : `${HEADER_CALLS} × headers.${op}()`, op,
  filters: [{ module: 'envoy_ts', filter_name: 'chain', config: JSON.stringify({ bundle: fixturesBundle,
    chain: [{ name: 'header-calls', config: { op, calls: HEADER_CALLS } }] }) }],
}));

export function scenario(config, repeat, warmup) {
  return {
    filters: config.filters,
    requests: [{ headers: { ':method': 'GET', ':path': '/bench', ':authority': 'bench.local', 'x-request-id': REQUEST_ID },
                 body: '' }],
    upstream_response: { headers: { ':status': '200', 'content-type': 'text/plain' }, body: 'ok' },
    repeat,
    warmup,
  };
}

const header = (list, name) => (list ?? []).find(([k]) => k.toLowerCase() === name)?.[1];

/** Checks one stream's result: the filter made its calls, and a set reached the upstream. */
export function check(where, config, result) {
  const ran = header(result.response_headers, 'x-header-calls');
  const expected = config.op === 'none' ? 0 : HEADER_CALLS;
  if (ran !== String(expected)) throw new BenchFailure(`${where}: expected ${expected} calls, the filter made ${ran}`);
  if (config.op === 'set' && header(result.upstream_request_headers, 'x-bench-set') !== 'bench-0123456789abcdef') {
    throw new BenchFailure(`${where}: the upstream did not see the header the filter set`);
  }
}

/** Returns { configs, ns_per_call: {get, has, set}, ns_per_call_runs, calls_per_stream, ... }. */
export async function headerCallsBench({ streams, warmup, runs }) {
  const dir = mkdtempSync(path.join(tmpdir(), 'envoy-ts-bench-headers-'));
  log(`header calls: ${runs} runs × ${streams} streams (warmup ${warmup}), ${HEADER_CALLS} calls per stream`);
  const samples = await measureInterleaved({
    part: 'header calls', configs: HEADER_CALL_CONFIGS, runs, streams,
    runPass: (c) => runScenario(dir, `headers-${c.key}`, scenario(c, streams, warmup)),
    check,
  });
  const perCall = (op) => samples[op].map((ns, i) => (ns - samples.none[i]) / HEADER_CALLS);
  return {
    streams_per_run: streams,
    warmup_streams: warmup,
    runs,
    calls_per_stream: HEADER_CALLS,
    configs: Object.fromEntries(HEADER_CALL_CONFIGS.map((c) => [c.key, summarize(c, samples[c.key])])),
    ns_per_call: Object.fromEntries(HEADER_CALL_OPS.map((op) => [op, median(perCall(op))])),
    ns_per_call_runs: Object.fromEntries(HEADER_CALL_OPS.map((op) => [op, perCall(op).map((v) => Math.round(v * 10) / 10)])),
  };
}
