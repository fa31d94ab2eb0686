// Part 9: one header filter three ways, through the host's scripted mode (1 worker): the proxy-wasm
// SDK's add_header example (AssemblyScript, asc 0.14, ABI 0.2.0) as a proxy-wasm chain entry inside
// envoy-ts; its TypeScript twin (the hello-header fixture); and the native baseline
// (bench/baseline/hello_header.cc). Each adds `hello: set` to the response headers, checked every
// run. The module is the SDK's example as it is: it also logs at debug level around every callback
// (formatted in the module, dropped by the host at the bench's log level), as it does under Envoy.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { measureInterleaved, runScenario, summarize } from './scripted.mjs';
import { BenchFailure, fixturesBundle, log, root } from './util.mjs';

export const ADD_HEADER_WASM = path.join(root, 'dist/test/fixtures/proxy-wasm/add-header.wasm');

const chain = (entry) => [{ module: 'envoy_ts', filter_name: 'chain',
  config: JSON.stringify({ bundle: fixturesBundle, chain: [entry] }) }];

export const PROXY_WASM_CONFIGS = [
  { key: 'none', label: 'no filter (host only)', filters: [], adds: false },
  { key: 'baseline', label: 'native baseline (C++)', adds: true,
    filters: [{ module: 'baseline_hello_header', filter_name: 'hello-header', config: '' }] },
  { key: 'ts', label: 'TypeScript (hello-header)', adds: true, filters: chain({ name: 'hello-header' }) },
  { key: 'wasm', label: 'proxy-wasm AssemblyScript (add_header) in envoy-ts', adds: true,
    filters: chain({ name: 'proxy-wasm', config: { module: ADD_HEADER_WASM, rootId: 'add_header', configuration: 'set' } }) },
];

const header = (list, name) => (list ?? []).filter(([k]) => k.toLowerCase() === name).map(([, v]) => v);

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
  if (header(result.response_headers, ':status')[0] !== '200' || result.response_body !== 'ok') fail('expected 200 ok');
  const hello = header(result.response_headers, 'hello');
  if (JSON.stringify(hello) !== JSON.stringify(config.adds ? ['set'] : [])) fail(`hello should be ${config.adds ? 'set' : 'absent'}`);
}

/** Verifies every configuration, then measures them interleaved: ns per stream, and what each
 *  filter adds over the host. */
export async function proxyWasmBench({ streams, runs, warmup }) {
  const dir = mkdtempSync(path.join(tmpdir(), 'envoy-ts-bench-proxy-wasm-'));
  for (const config of PROXY_WASM_CONFIGS) {
    const out = await runScenario(dir, `verify-${config.key}`, scenario(config, 1, 0));
    check(`proxy-wasm ${config.key} (verification)`, config, out.results?.[0] ?? {});
  }
  log(`proxy-wasm: verified ${PROXY_WASM_CONFIGS.map((c) => c.key).join(', ')}; measuring ${runs} runs × ${streams} ` +
      `streams (warmup ${warmup})`);
  const samples = await measureInterleaved({
    part: 'proxy-wasm', configs: PROXY_WASM_CONFIGS, runs, streams,
    runPass: (config) => runScenario(dir, `measure-${config.key}`, scenario(config, streams, warmup)),
    check,
  });
  const configs = Object.fromEntries(PROXY_WASM_CONFIGS.map((c) => [c.key, summarize(c, samples[c.key])]));
  const m = (k) => configs[k].median_ns_per_stream;
  const cost = (k) => m(k) - m('none');
  return {
    streams_per_run: streams,
    warmup_streams: warmup,
    runs,
    host_concurrency: 1,
    module_bytes: (await import('node:fs')).statSync(ADD_HEADER_WASM).size,
    configs,
    baseline_filter_ns_per_stream: cost('baseline'),
    ts_filter_ns_per_stream: cost('ts'),
    wasm_filter_ns_per_stream: cost('wasm'),
    wasm_over_ts_ns_per_stream: m('wasm') - m('ts'),
    wasm_over_ts_ns_per_stream_runs: samples.wasm.map((v, i) => Math.round(v - samples.ts[i])),
  };
}
