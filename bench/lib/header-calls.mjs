// Part: the cost of one header call from a TypeScript filter (get, has, set) through the host's
// scripted mode (1 worker, no sockets). The header-calls fixture filter
// (test/e2e/fixtures/header-calls.ts) makes `calls` calls of one kind in its request-headers hook;
// the same filter making none is the baseline, so ns per call = (stream(op) − stream(none)) / calls:
// the runtime's HeaderMap method (name check, stream check), the binding call, and the host's
// header map (Envoy's own lookup in a real proxy), plus the string a get returns.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { REQUEST_ID, measureInterleaved, runScenario, summarize } from './scripted.mjs';
import { BenchFailure, fixturesBundle, log, median } from './util.mjs';

const config = (op, calls) => ({ key: op, label: op === 'none' ? 'no header call (baseline)' : `${calls} × headers.${op}()`,
  op, calls, filters: [{ module: 'envoy_ts', filter_name: 'chain',
    config: JSON.stringify({ bundle: fixturesBundle, chain: [{ name: 'header-calls', config: { op, calls } }] }) }] });

/** The configurations: no call (the baseline), then `calls` gets, has and sets per stream. */
export const headerCallConfigs = (calls) => ['none', 'get', 'has', 'set'].map((op) => config(op, calls));

const header = (list, name) => (list ?? []).find(([k]) => k.toLowerCase() === name)?.[1];

export function scenario(c, repeat, warmup) {
  return {
    filters: c.filters,
    requests: [{ headers: { ':method': 'GET', ':path': '/bench', ':authority': 'bench.local', 'x-request-id': REQUEST_ID },
                 body: '' }],
    upstream_response: { headers: { ':status': '200', 'content-type': 'text/plain' }, body: 'ok' },
    repeat,
    warmup,
  };
}

/** The filter made its calls (it says how many), and the upstream saw what a set set. */
export function check(where, c, result) {
  const ran = header(result.response_headers, 'x-header-calls');
  const expected = c.op === 'none' ? 0 : c.calls;
  if (ran !== String(expected)) throw new BenchFailure(`${where}: expected ${expected} calls, the filter made ${ran}`);
  if (c.op === 'set' && header(result.upstream_request_headers, 'x-bench-set') !== 'bench-0123456789abcdef') {
    throw new BenchFailure(`${where}: the upstream did not see the header the filter set`);
  }
}

/** Returns { configs, ns_per_call: {get, has, set}, ns_per_call_runs, calls_per_stream, ... }. */
export async function headerCallsBench({ streams, warmup, runs, calls }) {
  const dir = mkdtempSync(path.join(tmpdir(), 'envoy-ts-bench-headers-'));
  const configs = headerCallConfigs(calls);
  log(`header calls: ${runs} runs × ${streams} streams (warmup ${warmup}), ${calls} calls per stream`);
  const samples = await measureInterleaved({
    part: 'header calls', configs, runs, streams,
    runPass: (c) => runScenario(dir, `headers-${c.key}`, scenario(c, streams, warmup)),
    check,
  });
  const perCall = (op) => samples[op].map((ns, i) => (ns - samples.none[i]) / calls);
  const ops = ['get', 'has', 'set'];
  return {
    streams_per_run: streams,
    warmup_streams: warmup,
    runs,
    calls_per_stream: calls,
    configs: Object.fromEntries(configs.map((c) => [c.key, summarize(c, samples[c.key])])),
    ns_per_call: Object.fromEntries(ops.map((op) => [op, median(perCall(op))])),
    ns_per_call_runs: Object.fromEntries(ops.map((op) => [op, perCall(op).map((v) => Math.round(v * 10) / 10)])),
  };
}
