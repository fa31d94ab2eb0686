// Part 5: leak check. Each HTTP example runs a short and a long pass of streams through the host's
// scripted mode (one worker); a filter that keeps something per stream makes the long pass peak
// higher. The short pass is long enough for V8 to have settled its heap size. Reported: peak RSS
// of each pass and the growth scaled to 10⁵ streams, next to the same figure with no filter (what
// the host itself does, and the noise floor).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { runScenario } from './scripted.mjs';
import { BenchFailure, examplesBundle, log } from './util.mjs';

const get = (path, headers = {}) => ({
  headers: { ':method': 'GET', ':path': path, ':authority': 'soak.local', ...headers }, body: '',
});
const chain = (entries) => JSON.stringify({ bundle: examplesBundle, chain: entries });

/** Each example with requests that take its main paths (e.g. allowed and refused). */
export const SOAK_CONFIGS = [
  { key: 'none', label: 'no filter (host only)', config: null, requests: [get('/')] },
  { key: 'request-id', label: 'request-id', config: chain([{ name: 'request-id' }]),
    requests: [get('/'), get('/', { 'x-request-id': 'soak-id' })] },
  { key: 'header-auth', label: 'header-auth (allowed, refused)',
    config: chain([{ name: 'header-auth', config: { tokens: ['soak-token'], prefix: 'Bearer ' } }]),
    requests: [get('/', { authorization: 'Bearer soak-token' }), get('/')] },
  { key: 'rate-limit', label: 'rate-limit (allowed, limited)',
    config: chain([{ name: 'rate-limit', config: { ratePerSecond: 1, burst: 1, key: 'header:x-client' } }]),
    requests: [get('/', { 'x-client': 'a' }), get('/', { 'x-client': 'a' })] },
  { key: 'async-delay', label: 'async-delay (ms 0: a timer per stream)',
    config: chain([{ name: 'async-delay', config: { ms: 0 } }]), requests: [get('/')] },
  { key: 'body-rewrite', label: 'body-rewrite (a JSON response redacted)',
    config: chain([{ name: 'body-rewrite', config: { fields: ['token'] } }]), requests: [get('/')],
    upstream: { headers: { ':status': '200', 'content-type': 'application/json' },
                body: JSON.stringify({ user: 'ann', token: 'abc', items: [1, 2, 3] }) } },
];

const TEXT_RESPONSE = { headers: { ':status': '200', 'content-type': 'text/plain' }, body: 'ok' };

async function pass(dir, config, streams) {
  const filters = config.config === null ? [] : [{ module: 'envoy_ts', filter_name: 'chain', config: config.config }];
  const repeat = Math.ceil(streams / config.requests.length);
  const { timing, peak_rss_kib: peak } = await runScenario(dir, `soak-${config.key}-${streams}`, {
    filters, requests: config.requests, repeat, warmup: 0, upstream_response: config.upstream ?? TEXT_RESPONSE,
  }, { timeoutMs: 600000 });
  const where = `soak ${config.key} (${streams} streams)`;
  if (timing?.streams !== repeat * config.requests.length) throw new BenchFailure(`${where}: bad timing ${JSON.stringify(timing)}`);
  if (!(peak > 0)) throw new BenchFailure(`${where}: no peak_rss_kib in the host's output`);
  return { streams: timing.streams, peak_rss_kib: peak, seconds: timing.total_ns / 1e9 };
}

/** Returns { short_streams, long_streams, configs: {key: {label, short, long, growth_kib_per_1e5}} }. */
export async function soakBench({ shortStreams, longStreams }) {
  const dir = mkdtempSync(path.join(tmpdir(), 'envoy-ts-bench-soak-'));
  const configs = {};
  for (const config of SOAK_CONFIGS) {
    const short = await pass(dir, config, shortStreams);
    const long = await pass(dir, config, longStreams);
    const growth = (long.peak_rss_kib - short.peak_rss_kib) * 1e5 / (long.streams - short.streams);
    configs[config.key] = { label: config.label, short, long, growth_kib_per_1e5: growth };
    log(`soak ${config.key}: peak RSS ${short.peak_rss_kib} KiB after ${short.streams} streams, ` +
        `${long.peak_rss_kib} KiB after ${long.streams} (${long.seconds.toFixed(1)} s)`);
  }
  return { short_streams: shortStreams, long_streams: longStreams, configs };
}
