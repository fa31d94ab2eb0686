// Part 2 and 3: RPS/latency over real HTTP/1.1 (wrk → envoy-ts-host → nginx) and the host's RSS.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { httpProxyYaml } from '../../test/support/proxy-config.mjs';
import { REQUEST_ID } from './scripted.mjs';
import { BenchFailure, aptInstall, cpuSeconds, errorLines, examplesBundle, freePort, hostBin, log, median, releaseDir, rssKiB, run,
  sleep } from './util.mjs';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
// The upstream echoes the x-request-id it received in this response header (so we can check it).
const UPSTREAM_ECHO = 'x-upstream-request-id';

/** The configurations, in run order. `filter` is the DynamicModuleFilter yaml, or null. */
export const HTTP_CONFIGS = [
  { key: 'none', label: 'no filter (router only)', setsId: false, filter: null },
  { key: 'baseline', label: 'native baseline (C++)', setsId: true, filter: {
    module: 'baseline_request_id', filterName: 'request-id', config: '' } },
  { key: 'ts', label: 'TS request-id', setsId: true, filter: {
    module: 'envoy_ts', filterName: 'chain',
    config: JSON.stringify({ bundle: examplesBundle, chain: [{ name: 'request-id' }], failurePolicy: 'closed' }) } },
];

// ---- upstream ----

function findNginx() {
  for (const candidate of ['/usr/sbin/nginx', '/usr/bin/nginx']) {
    if (existsSync(candidate)) return candidate;
  }
  const which = spawnSync('sh', ['-c', 'command -v nginx'], { encoding: 'utf8' });
  return which.status === 0 ? which.stdout.trim() : null;
}

async function ensureNginx() {
  const found = findNginx();
  if (found || !(await aptInstall('nginx-light', 'the upstream'))) return found;
  return findNginx();
}

/** Answers 200 with `body` to any method on exactly `path` (nginx strings take no `$` or `'`). */
function nginxLocation({ path: urlPath, headers = {}, body }) {
  if (/[$'\\]/.test(body)) throw new BenchFailure(`upstream route ${urlPath}: its body cannot hold $, ' or \\`);
  const { 'content-type': type = 'text/plain', ...others } = headers;
  const added = Object.entries(others).map(([name, value]) => `add_header ${name} "${value}" always; `).join('');
  return `
    location = ${urlPath} { default_type ${type}; ${added}return 200 '${body}'; }`;
}

function nginxConf(dir, port, routes) {
  return `daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  keepalive_requests 100000000;
  keepalive_timeout 300s;
  default_type text/plain;
  server {
    listen 127.0.0.1:${port};
    location / {
      add_header ${UPSTREAM_ECHO} $http_x_request_id always;
      return 200 "ok";
    }${routes.map(nginxLocation).join('')}
  }
}
`;
}

// A minimal Node upstream, only when nginx cannot be had (it is slower: say so in the output).
const NODE_UPSTREAM = `
const http = require('node:http');
const routes = new Map(JSON.parse(process.argv[2]).map((route) => [route.path, route]));
const server = http.createServer((req, res) => {
  const route = routes.get(req.url);
  if (route !== undefined) {
    req.resume();
    res.writeHead(200, { 'content-type': 'text/plain', ...route.headers, 'content-length': Buffer.byteLength(route.body) });
    res.end(route.body);
    return;
  }
  const id = req.headers['x-request-id'];
  const headers = { 'content-type': 'text/plain', 'content-length': '2' };
  if (id !== undefined) headers['${UPSTREAM_ECHO}'] = id;
  res.writeHead(200, headers);
  res.end('ok');
});
server.keepAliveTimeout = 300000;
server.listen(Number(process.argv[1]), '127.0.0.1');
`;

/**
 * Starts the upstream; resolves { kind, version, port, pid, stop() }. Any path answers 200 "ok"
 * (echoing x-request-id); `routes` ([{ path, headers, body }]) add exact paths with their own answer.
 */
export async function startUpstream({ routes = [] } = {}) {
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), 'envoy-ts-bench-nginx-'));
  const nginx = await ensureNginx();
  let child;
  let kind;
  let version = null;
  if (nginx) {
    for (const sub of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(path.join(dir, sub));
    const conf = path.join(dir, 'nginx.conf');
    writeFileSync(conf, nginxConf(dir, port, routes));
    const args = ['-p', dir, '-c', conf, '-e', path.join(dir, 'error.log')];
    const test = await run(nginx, [...args, '-t']);
    if (test.code !== 0) throw new BenchFailure(`nginx rejected the generated config:\n${test.stderr}`);
    version = /nginx\/([\d.]+)/.exec(spawnSync(nginx, ['-v'], { encoding: 'utf8' }).stderr)?.[1] ?? null;
    child = spawn(nginx, args, { stdio: 'ignore' });
    kind = 'nginx';
  } else {
    log('WARNING: nginx unavailable; falling back to a minimal Node upstream (it may be the bottleneck)');
    child = spawn(process.execPath, ['-e', NODE_UPSTREAM, String(port), JSON.stringify(routes)], { stdio: 'ignore' });
    kind = 'node';
    version = process.version;
  }
  let exited = false;
  child.on('exit', () => { exited = true; });
  const deadline = Date.now() + 10000;
  for (;;) {
    if (exited) throw new BenchFailure(`the ${kind} upstream exited at startup (see ${dir})`);
    const res = await get(port, '/').catch(() => null);
    if (res?.status === 200) break;
    if (Date.now() > deadline) { child.kill('SIGKILL'); throw new BenchFailure(`the ${kind} upstream did not start`); }
    await sleep(50);
  }
  return {
    kind, version, port, pid: child.pid,
    stop: async () => {
      if (exited) return;
      const done = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await done;
      clearTimeout(killer);
    },
  };
}

// ---- the host ----

export function get(port, urlPath, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, headers, agent: false, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

/**
 * Starts `envoy-ts-host --concurrency <n> -l warn` with the envoy.yaml that `makeYaml({ listenPort, adminPort })`
 * returns; resolves once admin /ready answers 200. The host object: { port, adminPort, pid, output, exit, stop() }.
 */
export async function launchHost(key, makeYaml, concurrency, { env = {}, logLevel = 'warn' } = {}) {
  const listenPort = await freePort();
  const adminPort = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), 'envoy-ts-bench-host-'));
  const yaml = path.join(dir, 'envoy.yaml');
  writeFileSync(yaml, makeYaml({ listenPort, adminPort }));
  const child = spawn(hostBin, ['-c', yaml, '--concurrency', String(concurrency), '-l', logLevel], {
    env: { ...process.env, ENVOY_DYNAMIC_MODULES_SEARCH_PATH: releaseDir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const host = { port: listenPort, adminPort, pid: child.pid, output: '', exit: null };
  child.stdout.on('data', (d) => { host.output += d; });
  child.stderr.on('data', (d) => { host.output += d; });
  host.exited = new Promise((resolve) => child.on('exit', (code, signal) => { host.exit = { code, signal }; resolve(host.exit); }));
  host.stop = async () => {
    if (host.exit === null) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 12000);
      await host.exited;
      clearTimeout(killer);
    }
    return host.exit;
  };
  const deadline = Date.now() + 30000;
  for (;;) {
    if (host.exit !== null) throw new BenchFailure(`host (${key}) exited at startup: ${JSON.stringify(host.exit)}\n${host.output}`);
    const ready = await get(adminPort, '/ready').catch(() => null);
    if (ready?.status === 200) break;
    if (Date.now() > deadline) { await host.stop(); throw new BenchFailure(`host (${key}) not ready after 30 s\n${host.output}`); }
    await sleep(50);
  }
  return host;
}

function startHost(config, upstreamPort, concurrency) {
  return launchHost(config.key, ({ listenPort, adminPort }) => httpProxyYaml({
    listenPort, adminPort, upstreamPort, filters: config.filter === null ? [] : [config.filter] }), concurrency);
}

/** Stops the host (SIGTERM); fails unless it logged no [error]/[critical] line and exited 0. */
export async function stopCleanly(host, where) {
  const exit = await host.stop();
  const errors = errorLines(host.output);
  if (errors.length > 0) throw new BenchFailure(`${where}: the host logged errors:\n${errors.slice(0, 5).join('\n')}`);
  if (exit.code !== 0) throw new BenchFailure(`${where}: the host exited ${JSON.stringify(exit)} on SIGTERM\n${host.output.slice(-2000)}`);
}

/** Real requests through the host: 200, "ok", and the expected x-request-id behaviour. */
async function verify(config, port, where) {
  const fail = (what, res) => { throw new BenchFailure(`${where}: ${what}: ${JSON.stringify(res)}`); };
  const withId = await get(port, '/bench', { 'x-request-id': REQUEST_ID });
  if (withId.status !== 200 || withId.body !== 'ok') fail('expected 200 "ok" with an incoming x-request-id', withId);
  if (withId.headers[UPSTREAM_ECHO] !== REQUEST_ID) fail('the upstream did not see the incoming x-request-id', withId);
  if ((withId.headers['x-request-id'] ?? null) !== (config.setsId ? REQUEST_ID : null)) fail('wrong response x-request-id', withId);
  const withoutId = await get(port, '/bench');
  if (withoutId.status !== 200 || withoutId.body !== 'ok') fail('expected 200 "ok" without x-request-id', withoutId);
  if (config.setsId) {
    const seen = withoutId.headers[UPSTREAM_ECHO];
    if (!UUID.test(seen ?? '')) fail('the upstream should see a generated UUID v4', withoutId);
    if (withoutId.headers['x-request-id'] !== seen) fail('the response should echo the generated id', withoutId);
  } else if (withoutId.headers[UPSTREAM_ECHO] !== undefined || withoutId.headers['x-request-id'] !== undefined) {
    fail('no filter: x-request-id should stay absent', withoutId);
  }
}

// ---- wrk ----

const toMs = (value, unit) => Number(value) * ({ us: 0.001, ms: 1, s: 1000, m: 60000 }[unit] ?? NaN);

export function parseWrk(text) {
  const num = (re) => { const m = re.exec(text); return m ? Number(m[1]) : NaN; };
  const latency = {};
  for (const p of ['50', '75', '90', '99']) {
    const m = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm').exec(text);
    latency[`p${p}_ms`] = m ? Math.round(toMs(m[1], m[2]) * 1000) / 1000 : NaN;
  }
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  return {
    rps: num(/^Requests\/sec:\s+([\d.]+)/m),
    requests: num(/^\s+(\d+) requests in/m),
    non2xx: /Non-2xx or 3xx responses: (\d+)/.exec(text) ? num(/Non-2xx or 3xx responses: (\d+)/) : 0,
    socket_errors: socket ? { connect: +socket[1], read: +socket[2], write: +socket[3], timeout: +socket[4] } : null,
    ...latency,
  };
}

async function wrk(port, { threads, connections, seconds }) {
  const args = [`-t${threads}`, `-c${connections}`, `-d${seconds}s`, '--latency', '--timeout', '5s',
    '-H', `x-request-id: ${REQUEST_ID}`, `http://127.0.0.1:${port}/bench`];
  const out = await run('wrk', args, { timeoutMs: (seconds + 30) * 1000 });
  if (out.code !== 0) throw new BenchFailure(`wrk exited ${out.code}: ${out.stderr}${out.stdout}`);
  return { ...parseWrk(out.stdout), raw: out.stdout };
}

/**
 * VmRSS once it stops moving: worker Node environments are prepared in the background after the
 * config loads, so "ready" is not "idle". Settled = 4 samples 250 ms apart within 512 KiB (≤ 8 s).
 */
export async function settledRss(pid) {
  const samples = [];
  const deadline = Date.now() + 8000;
  for (;;) {
    samples.push(rssKiB(pid));
    const last = samples.slice(-4);
    if (last.length === 4 && Math.max(...last) - Math.min(...last) < 512) return last[3];
    if (Date.now() > deadline) return samples[samples.length - 1];
    await sleep(250);
  }
}

/** Idle RSS of one configuration at a given --concurrency (to split the per-worker cost out). */
async function idleRss(config, upstream, concurrency) {
  const host = await startHost(config, upstream.port, concurrency);
  try {
    const rss = await settledRss(host.pid);
    await verify(config, host.port, `http ${config.key} --concurrency ${concurrency} (memory probe)`);
    return rss;
  } finally {
    await host.stop();
  }
}

/** One configuration, one run: start, verify, warm up, measure, verify, stop. */
async function oneRun(config, upstream, opts, index) {
  const where = `http ${config.key} run ${index + 1}`;
  const host = await startHost(config, upstream.port, opts.concurrency);
  try {
    const rssIdle = await settledRss(host.pid);
    await verify(config, host.port, `${where} (before load)`);
    await wrk(host.port, { ...opts.wrk, seconds: opts.warmupSeconds });
    const cpuBefore = cpuSeconds(host.pid);
    const result = await wrk(host.port, { ...opts.wrk, seconds: opts.seconds });
    const cpuAfter = cpuSeconds(host.pid);
    const rssLoaded = rssKiB(host.pid);
    // Host CPU (all threads) per request: less sensitive than RPS to who else had the CPUs.
    result.host_cpu_us_per_request = ((cpuAfter - cpuBefore) * 1e6) / result.requests;
    if (!(result.rps > 0) || !(result.requests > 0)) throw new BenchFailure(`${where}: wrk measured nothing:\n${result.raw}`);
    if (result.non2xx > 0) throw new BenchFailure(`${where}: ${result.non2xx} non-2xx responses out of ${result.requests}:\n${result.raw}`);
    const se = result.socket_errors;
    if (se && (se.connect > 0 || se.timeout > 0)) throw new BenchFailure(`${where}: socket errors:\n${result.raw}`);
    await verify(config, host.port, `${where} (after load)`);
    await stopCleanly(host, where);
    delete result.raw;
    log(`${where}: ${Math.round(result.rps)} req/s, p50 ${result.p50_ms} ms, p99 ${result.p99_ms} ms, ` +
        `host CPU ${result.host_cpu_us_per_request.toFixed(1)} µs/req, RSS ${rssIdle} → ${rssLoaded} KiB`);
    return { ...result, rss_idle_kib: rssIdle, rss_after_load_kib: rssLoaded };
  } finally {
    await host.stop();
  }
}

/** All configurations, `runs` times interleaved (a, b, c, a, b, c, ...); medians per configuration. */
export async function httpBench(opts) {
  const upstream = await startUpstream();
  log(`http: upstream ${upstream.kind} ${upstream.version ?? ''} on 127.0.0.1:${upstream.port} (pid ${upstream.pid})`);
  const samples = Object.fromEntries(HTTP_CONFIGS.map((c) => [c.key, []]));
  let upstreamAlone = null;
  const memoryProbe = {};  // idle RSS (KiB) at --concurrency 1
  try {
    // The upstream on its own (wrk → nginx, same settings): it must be well above the proxied RPS.
    await wrk(upstream.port, { ...opts.wrk, seconds: opts.warmupSeconds });
    upstreamAlone = await wrk(upstream.port, { ...opts.wrk, seconds: Math.min(opts.seconds, 4) });
    if (upstreamAlone.non2xx > 0) throw new BenchFailure(`the upstream alone answered non-2xx:\n${upstreamAlone.raw}`);
    delete upstreamAlone.raw;
    log(`http: upstream alone: ${Math.round(upstreamAlone.rps)} req/s, p50 ${upstreamAlone.p50_ms} ms`);
    for (let i = 0; i < opts.runs; i++) {
      for (const config of HTTP_CONFIGS) samples[config.key].push(await oneRun(config, upstream, opts, i));
    }
    for (const config of HTTP_CONFIGS.filter((c) => c.key !== 'baseline')) {
      memoryProbe[config.key] = await idleRss(config, upstream, 1);
    }
  } finally {
    await upstream.stop();
  }
  const configs = {};
  for (const config of HTTP_CONFIGS) {
    const runs = samples[config.key];
    const med = (k) => median(runs.map((r) => r[k]));
    configs[config.key] = {
      label: config.label,
      rps: med('rps'), p50_ms: med('p50_ms'), p75_ms: med('p75_ms'), p90_ms: med('p90_ms'), p99_ms: med('p99_ms'),
      host_cpu_us_per_request: med('host_cpu_us_per_request'),
      rss_idle_kib: med('rss_idle_kib'), rss_after_load_kib: med('rss_after_load_kib'),
      runs,
    };
  }
  const c = configs;
  // One worker's extra Node environment: (TS at N − TS at 1) − (no filter at N − no filter at 1), per worker.
  const perWorkerEnv = opts.concurrency > 1
    ? ((c.ts.rss_idle_kib - memoryProbe.ts) - (c.none.rss_idle_kib - memoryProbe.none)) / (opts.concurrency - 1)
    : NaN;
  // Ratios per run (same neighbours in time) and of the medians.
  const perRun = (a, b, k) => samples[a].map((r, i) => r[k] / samples[b][i][k]);
  return {
    upstream: { kind: upstream.kind, version: upstream.version, alone: upstreamAlone },
    host_concurrency: opts.concurrency,
    wrk: { ...opts.wrk, seconds: opts.seconds, warmup_seconds: opts.warmupSeconds, header: `x-request-id: ${REQUEST_ID}` },
    runs: opts.runs,
    configs,
    memory: {
      idle_rss_kib_concurrency_1: memoryProbe,
      ts_per_worker_environment_kib: perWorkerEnv,
      ts_main_and_runtime_kib: memoryProbe.ts - memoryProbe.none - perWorkerEnv,
    },
    ratios: {
      rps_ts_over_baseline: c.ts.rps / c.baseline.rps,
      rps_none_over_baseline: c.none.rps / c.baseline.rps,
      p50_ts_over_baseline: c.ts.p50_ms / c.baseline.p50_ms,
      p99_ts_over_baseline: c.ts.p99_ms / c.baseline.p99_ms,
      cpu_per_request_ts_over_baseline: c.ts.host_cpu_us_per_request / c.baseline.host_cpu_us_per_request,
      rps_ts_over_baseline_median_of_runs: median(perRun('ts', 'baseline', 'rps')),
      rps_ts_over_baseline_runs: perRun('ts', 'baseline', 'rps'),
    },
  };
}
