// Part 4: an L4 TypeScript filter's throughput. redis-benchmark → envoy-ts-host (TCP listener →
// [resp-guard] → tcp_proxy) → redis-server, against the same listener without the filter; the same
// redis-server for every run, and redis-benchmark straight to redis for context.
import { spawnSync } from 'node:child_process';

import { connectRaw, haveRedis, redisCli, resp, startRedis } from '../../test/e2e/network-harness.mjs';
import { tcpProxyYaml } from '../../test/support/proxy-config.mjs';
import { launchHost, settledRss, stopCleanly } from './http.mjs';
import { BenchFailure, cpuSeconds, examplesBundle, log, median, rssKiB, run } from './util.mjs';

export const BLOCKED = ['FLUSHALL', 'KEYS'];
const blockedReply = (name) => `-ERR command '${name.toLowerCase()}' is blocked by policy\r\n`;

/** The configurations, in run order. `filter` is the DynamicModuleNetworkFilter, or null; `guards`: FLUSHALL is refused. */
export const NETWORK_CONFIGS = [
  { key: 'none', label: 'no filter (tcp_proxy only)', guards: false, filter: null },
  { key: 'ts', label: 'TS resp-guard', guards: true, filter: {
    module: 'envoy_ts', filterName: 'chain',
    config: JSON.stringify({ bundle: examplesBundle, chain: [{ name: 'resp-guard', config: { blocked: BLOCKED } }] }) } },
];

/** The redis-benchmark runs of each configuration, in order (SET first: GET then reads an existing key). */
export const NETWORK_TESTS = [
  { key: 'set', label: 'SET', command: 'set', pipelined: false },
  { key: 'get', label: 'GET', command: 'get', pipelined: false },
  { key: 'set_pipelined', label: 'SET pipelined', command: 'set', pipelined: true },
  { key: 'get_pipelined', label: 'GET pipelined', command: 'get', pipelined: true },
];

// ---- redis-benchmark ----

/** Parses `redis-benchmark -q --csv`: { SET: { rps, avg_ms, p50_ms, p95_ms, p99_ms, max_ms }, ... }. */
export function parseRedisBenchmarkCsv(text) {
  const rows = text.trim().split('\n').map((line) => line.split(',').map((cell) => cell.replace(/^"|"$/g, '')));
  const [header, ...data] = rows;
  if (header?.[0] !== 'test') return {};
  const column = (row, name) => Number(row[header.indexOf(name)]);
  return Object.fromEntries(data.map((row) => [row[0], {
    rps: column(row, 'rps'), avg_ms: column(row, 'avg_latency_ms'), p50_ms: column(row, 'p50_latency_ms'),
    p95_ms: column(row, 'p95_latency_ms'), p99_ms: column(row, 'p99_latency_ms'), max_ms: column(row, 'max_latency_ms'),
  }]));
}

/** One redis-benchmark run of one test; redis-benchmark (≥ 6) stops with an error on any error reply. */
async function redisBenchmark(port, test, requests, opts, where) {
  const args = ['-h', '127.0.0.1', '-p', String(port), '-t', test.command, '-n', String(requests),
    '-c', String(opts.clients), '-q', '--csv', ...(test.pipelined ? ['-P', String(opts.pipeline)] : [])];
  const out = await run('redis-benchmark', args, { timeoutMs: 120000 });
  const result = parseRedisBenchmarkCsv(out.stdout)[test.command.toUpperCase()];
  if (out.code !== 0 || !(result?.rps > 0)) {
    throw new BenchFailure(`${where}: redis-benchmark ${args.join(' ')} exited ${out.code ?? out.signal}:\n${out.stdout}${out.stderr}`);
  }
  return result;
}

/** Redis' own per-command call counts (INFO commandstats), asked of redis directly. */
async function commandCalls(redis) {
  const out = await redis.cli('INFO', 'commandstats');
  return Object.fromEntries([...out.stdout.matchAll(/^cmdstat_([\w|]+):calls=(\d+)/gm)].map((m) => [m[1], Number(m[2])]));
}

// ---- checks ----

let keySeq = 0;

/** SET/GET round trip through the proxy (and it is in redis); with resp-guard, FLUSHALL and KEYS are refused. */
async function verify(config, port, redis, where) {
  const fail = (what, detail) => { throw new BenchFailure(`${where}: ${what}: ${JSON.stringify(detail)}`); };
  const key = `bench:${config.key}:${process.pid}:${++keySeq}`;
  const value = `value-${keySeq}-${Date.now()}`;
  const set = await redisCli(port, 'SET', key, value);
  if (set.stdout.trim() !== 'OK') fail('SET through the proxy did not answer OK', set);
  const get = await redisCli(port, 'GET', key);
  if (get.stdout.trim() !== value) fail('GET through the proxy did not return the value just SET', get);
  const direct = await redis.cli('GET', key);
  if (direct.stdout.trim() !== value) fail('the key SET through the proxy is not in redis', direct);
  if (config.guards) {
    // Exact bytes on a raw connection: both refusals, in order, then the (surviving) value.
    const expected = `${blockedReply('FLUSHALL')}${blockedReply('KEYS')}$${value.length}\r\n${value}\r\n`;
    const client = await connectRaw(port);
    try {
      await client.write(resp('FLUSHALL') + resp('KEYS', '*') + resp('GET', key));
      // Bounded wait; a short or wrong answer fails just below with what came back.
      await client.readUntil((text) => text.length >= expected.length, 'the replies').catch(() => {});
      if (client.text() !== expected) fail(`FLUSHALL/KEYS should be refused with ${JSON.stringify(expected)}`, client.text());
    } finally {
      client.close();
    }
    const survivor = await redis.cli('GET', key);
    if (survivor.stdout.trim() !== value) fail('the key did not survive FLUSHALL through resp-guard', survivor);
  }
  await redis.cli('DEL', key);
}

// ---- one configuration, one run ----

/** redis-benchmark for every test, with the host's CPU time (all threads) per request around each. */
async function measureTests(port, redis, hostPid, opts, where, requestsFor) {
  const results = {};
  for (const test of NETWORK_TESTS) {
    const requests = requestsFor(test);
    const callsBefore = await commandCalls(redis);
    const cpuBefore = hostPid === null ? null : cpuSeconds(hostPid);
    const result = await redisBenchmark(port, test, requests, opts, `${where} ${test.label}`);
    const cpuAfter = hostPid === null ? null : cpuSeconds(hostPid);
    const reached = ((await commandCalls(redis))[test.command] ?? 0) - (callsBefore[test.command] ?? 0);
    // Every request reached redis (nothing answered or dropped on the way).
    if (reached < requests) throw new BenchFailure(`${where} ${test.label}: redis saw ${reached} ${test.command} calls, expected ≥ ${requests}`);
    if (hostPid !== null) result.host_cpu_us_per_request = ((cpuAfter - cpuBefore) * 1e6) / requests;
    results[test.key] = { ...result, requests };
  }
  return results;
}

async function oneRun(config, redis, opts, index) {
  const where = `network ${config.key} run ${index + 1}`;
  const host = await launchHost(config.key, ({ listenPort, adminPort }) => tcpProxyYaml({
    listenPort, adminPort, clusters: [{ name: 'redis', port: redis.port }],
    filters: config.filter === null ? [] : [config.filter] }), opts.concurrency);
  try {
    const rssIdle = await settledRss(host.pid);
    await verify(config, host.port, redis, `${where} (before load)`);
    for (const test of NETWORK_TESTS) await redisBenchmark(host.port, test, opts.warmupRequests, opts, `${where} warmup ${test.label}`);
    const tests = await measureTests(host.port, redis, host.pid, opts, where,
                                     (test) => (test.pipelined ? opts.pipelinedRequests : opts.requests));
    const rssLoaded = rssKiB(host.pid);
    await verify(config, host.port, redis, `${where} (after load)`);
    await stopCleanly(host, where);
    log(`${where}: ${NETWORK_TESTS.map((t) => `${t.label} ${Math.round(tests[t.key].rps)}/s ` +
      `(${tests[t.key].host_cpu_us_per_request.toFixed(2)} µs)`).join(', ')}; RSS ${rssIdle} → ${rssLoaded} KiB`);
    return { tests, rss_idle_kib: rssIdle, rss_after_load_kib: rssLoaded };
  } finally {
    await host.stop();
  }
}

// ---- all of it ----

/** Both configurations, `runs` times interleaved (a, b, a, b, ...); medians per configuration and test. */
export async function networkBench(opts) {
  if (!haveRedis() || spawnSync('redis-benchmark', ['--version'], { stdio: 'ignore' }).status !== 0) {
    throw new BenchFailure('redis-server, redis-cli and redis-benchmark are needed (bash scripts/setup.sh installs them)');
  }
  const version = /v=([\d.]+)/.exec(spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).stdout)?.[1] ?? null;
  const redis = await startRedis();
  log(`network: redis-server ${version ?? ''} on 127.0.0.1:${redis.port} (pid ${redis.child.pid})`);
  const samples = Object.fromEntries(NETWORK_CONFIGS.map((c) => [c.key, []]));
  let alone;
  try {
    // Redis on its own (same redis-benchmark settings): what the proxied numbers are bounded by.
    for (const test of NETWORK_TESTS) await redisBenchmark(redis.port, test, opts.warmupRequests, opts, 'network redis alone warmup');
    alone = await measureTests(redis.port, redis, null, opts, 'network redis alone',
                               (test) => (test.pipelined ? opts.pipelinedRequests : opts.requests));
    log(`network: redis alone: ${NETWORK_TESTS.map((t) => `${t.label} ${Math.round(alone[t.key].rps)}/s`).join(', ')}`);
    for (let i = 0; i < opts.runs; i++) {
      for (const config of NETWORK_CONFIGS) samples[config.key].push(await oneRun(config, redis, opts, i));
    }
    const calls = await commandCalls(redis);
    const leaked = BLOCKED.filter((name) => calls[name.toLowerCase()] !== undefined);
    if (leaked.length > 0) throw new BenchFailure(`network: redis executed ${leaked.join(', ')}: resp-guard let it through`);
  } finally {
    await redis.stop();
  }
  const configs = {};
  for (const config of NETWORK_CONFIGS) {
    const runs = samples[config.key];
    const tests = {};
    for (const test of NETWORK_TESTS) {
      const med = (k) => median(runs.map((r) => r.tests[test.key][k]));
      tests[test.key] = { rps: med('rps'), p50_ms: med('p50_ms'), p99_ms: med('p99_ms'),
                          host_cpu_us_per_request: med('host_cpu_us_per_request') };
    }
    configs[config.key] = {
      label: config.label, tests,
      rss_idle_kib: median(runs.map((r) => r.rss_idle_kib)),
      rss_after_load_kib: median(runs.map((r) => r.rss_after_load_kib)),
      runs,
    };
  }
  const per = (fn) => Object.fromEntries(NETWORK_TESTS.map((t) => [t.key, fn(t.key)]));
  const { none, ts } = configs;
  return {
    redis: { version, alone },
    host_concurrency: opts.concurrency,
    redis_benchmark: { clients: opts.clients, requests: opts.requests, pipelined_requests: opts.pipelinedRequests,
                       pipeline: opts.pipeline, warmup_requests: opts.warmupRequests },
    blocked: BLOCKED,
    tests: NETWORK_TESTS.map(({ key, label, command, pipelined }) => ({ key, label, command, pipelined })),
    runs: opts.runs,
    configs,
    ratios: {
      rps_ts_over_none: per((k) => ts.tests[k].rps / none.tests[k].rps),
      // Per run (same neighbours in time).
      rps_ts_over_none_runs: per((k) => samples.ts.map((r, i) => r.tests[k].rps / samples.none[i].tests[k].rps)),
      cpu_per_request_ts_over_none: per((k) => ts.tests[k].host_cpu_us_per_request / none.tests[k].host_cpu_us_per_request),
    },
  };
}
