// Part 4: request-body inspection through the host's scripted mode. Each configuration counts the
// newlines of a 1 KiB, 64 KiB and 1 MiB body as it streams through in 16 KiB chunks: the TS
// body-inspect filter through zero-copy views (indexOf), its native twin
// (bench/baseline/body_inspect.cc) with memchr over Envoy's slices, and no filter. A TS filter that
// only takes the views' sizes shows what handing a body to JS costs without the scan.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { measureInterleaved, runScenario, summarize } from './scripted.mjs';
import { BenchFailure, fixturesBundle, log } from './util.mjs';

const LINE = `${'x'.repeat(63)}\n`;
const CHUNK_BYTES = 16 * 1024;

const tsFilter = (name) => [{ module: 'envoy_ts', filter_name: 'chain',
  config: JSON.stringify({ bundle: fixturesBundle, chain: [{ name }] }) }];

/** `reports`: the response header the filter sets, and its expected value for a body of `bytes`. */
export const BODY_CONFIGS = [
  { key: 'none', label: 'no filter (host only)', filters: [], reports: null },
  { key: 'baseline', label: 'native baseline (C++)', reports: ['x-body-newlines', (bytes) => bytes / LINE.length],
    filters: [{ module: 'baseline_body_inspect', filter_name: 'body-inspect', config: '' }] },
  { key: 'ts', label: 'TS body-inspect', reports: ['x-body-newlines', (bytes) => bytes / LINE.length],
    filters: tsFilter('body-inspect') },
  { key: 'ts_views', label: 'TS views only (no scan)', reports: ['x-body-bytes', (bytes) => bytes],
    filters: tsFilter('body-views') },
];

const header = (list, name) => (list ?? []).find(([k]) => k.toLowerCase() === name)?.[1];

function scenario(config, bytes, repeat, warmup) {
  return {
    filters: config.filters,
    requests: [{
      headers: { ':method': 'POST', ':path': '/upload', ':authority': 'bench.local', 'content-length': String(bytes) },
      body: LINE.repeat(bytes / LINE.length),
      body_chunk_bytes: CHUNK_BYTES,
    }],
    upstream_response: { headers: { ':status': '200', 'content-type': 'text/plain' }, body: 'ok' },
    repeat,
    warmup,
  };
}

function check(where, config, result, bytes) {
  const fail = (what) => { throw new BenchFailure(`${where}: ${what}: ${JSON.stringify(result).slice(0, 500)}`); };
  if (result.local_reply || result.reset) fail('expected the upstream to answer');
  if (header(result.response_headers, ':status') !== '200') fail('expected :status 200');
  for (const name of ['x-body-newlines', 'x-body-bytes']) {
    const expected = config.reports?.[0] === name ? String(config.reports[1](bytes)) : undefined;
    const got = header(result.response_headers, name);
    if (got !== expected) fail(`${name} should be ${expected ?? 'absent'}, got ${got}`);
  }
}

/**
 * Verifies every configuration at every size, then measures them interleaved. Returns
 * { sizes: [{ bytes, streams_per_run, configs: {key: {label, runs_ns_per_stream, median_ns_per_stream}},
 *   ts_over_baseline, filter_cost_ratio }], ... }.
 */
export async function bodyBench({ sizes, runs, warmup }) {
  const dir = mkdtempSync(path.join(tmpdir(), 'envoy-ts-bench-body-'));
  for (const { bytes } of sizes) {
    for (const config of BODY_CONFIGS) {
      const out = await runScenario(dir, `verify-${config.key}-${bytes}`, scenario(config, bytes, 1, 0));
      check(`body ${config.key} ${bytes} B (verification)`, config, out.results?.[0] ?? {}, bytes);
    }
  }
  log(`body: verified ${BODY_CONFIGS.map((c) => c.key).join(', ')} at ${sizes.map((s) => s.bytes).join(', ')} bytes; ` +
      `measuring ${runs} runs`);

  const results = [];
  for (const { bytes, streams } of sizes) {
    const samples = await measureInterleaved({
      part: `body ${bytes} B`, configs: BODY_CONFIGS, runs, streams,
      runPass: (config) => runScenario(dir, `measure-${config.key}-${bytes}`, scenario(config, bytes, streams, warmup)),
      check: (where, config, result) => check(where, config, result, bytes),
    });
    const configs = Object.fromEntries(BODY_CONFIGS.map((c) => [c.key, summarize(c, samples[c.key])]));
    const m = (k) => configs[k].median_ns_per_stream;
    results.push({
      bytes,
      chunks: Math.ceil(bytes / CHUNK_BYTES),
      streams_per_run: streams,
      configs,
      ts_over_baseline: m('ts') / m('baseline'),
      // What the filter itself adds over the host, TS vs native.
      filter_cost_ratio: (m('ts') - m('none')) / (m('baseline') - m('none')),
      // Handing the chunks to JS as views, per chunk.
      views_ns_per_chunk: (m('ts_views') - m('none')) / Math.ceil(bytes / CHUNK_BYTES),
    });
  }
  return { runs, warmup_streams: warmup, chunk_bytes: CHUNK_BYTES, host_concurrency: 1, sizes: results };
}
