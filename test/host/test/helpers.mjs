// Shared by the conformance host's own tests: paths, a real upstream, an envoy.yaml for any
// module, the host in server mode (until ready, or until it exits) and in --script mode.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { freePort, httpProxyYaml, tcpProxyYaml } from '../../support/proxy-config.mjs';
import { listenLoopback } from '../../support/servers.mjs';

export { freePort };

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const releaseDir = path.join(root, 'build/Release');
// ENVOY_TS_HOST_BIN / ENVOY_TS_HOST_TEST_MODULES point the host's own tests at another build.
export const hostBin = process.env.ENVOY_TS_HOST_BIN ?? path.join(releaseDir, 'envoy-ts-host');
export const moduleSo = path.join(releaseDir, 'libenvoy_ts.so');
export const testModulesDir =
  process.env.ENVOY_TS_HOST_TEST_MODULES ?? path.join(releaseDir, 'test-modules');
export const examplesBundle = path.join(root, 'dist/examples/filters.js');
export const fixturesBundle = path.join(root, 'dist/test/fixtures/filters.js');

function tempFile(name, text) {
  const dir = mkdtempSync(path.join(tmpdir(), 'envoy-ts-host-test-'));
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return { file, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * A real upstream. `GET /hang` is never answered (the client or the proxy must give up);
 * anything else gets 200 with the body `upstream saw <method> <path>`.
 */
export async function startUpstream() {
  const server = http.createServer((req, res) => {
    req.resume();
    if (req.url === '/hang') return;
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`upstream saw ${req.method} ${req.url}`);
    });
  });
  return listenLoopback(server);
}

/**
 * envoy.yaml: one listener → one DynamicModuleFilter per `filters` entry → router → upstream.
 * `perConnectionBufferLimitBytes`: the listener's per_connection_buffer_limit_bytes (optional);
 * `extraClusters`: more STATIC clusters [{ name, port }] (e.g. for callouts);
 * `downstreamEnableTrailers` / `upstreamEnableTrailers`: the HTTP/1 enable_trailers of the
 * connection manager / of every cluster (default true; null leaves the option out, see
 * httpProxyYaml).
 */
export function hostYaml({ listenPort, adminPort, upstreamPort, filters, extraClusters,
                           perConnectionBufferLimitBytes, downstreamEnableTrailers,
                           upstreamEnableTrailers }) {
  return httpProxyYaml({
    listenPort, adminPort, upstreamPort, extraClusters, perConnectionBufferLimitBytes,
    downstreamEnableTrailers, upstreamEnableTrailers,
    filters: filters.map(({ module, filterName = 'test', config = '' }) =>
      ({ module, filterName, config, doNotClose: false })),
  });
}

function spawnHost(args, searchPath, env = {}, bin = hostBin) {
  const child = spawn(bin, args, {
    env: { ...process.env, ENVOY_DYNAMIC_MODULES_SEARCH_PATH: searchPath, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const host = { child, output: '', exited: null };
  child.stdout.on('data', (d) => { host.output += d; });
  child.stderr.on('data', (d) => { host.output += d; });
  host.exitPromise = new Promise((resolve) => child.on('exit', (code, signal) => {
    host.exited = { code, signal };
    resolve(host.exited);
  }));
  return host;
}

/**
 * Runs the host on `yaml` until it exits by itself (for configs it must refuse); `bin` is another
 * build of the host (default: envoy-ts-host).
 */
export async function runHostToExit(yaml, { searchPath, timeoutMs = 10000, env, bin }) {
  const config = tempFile('envoy.yaml', yaml);
  const host = spawnHost(['-c', config.file, '--concurrency', '1', '-l', 'info'], searchPath, env,
                         bin);
  const timer = setTimeout(() => host.child.kill('SIGKILL'), timeoutMs);
  const exited = await host.exitPromise;
  clearTimeout(timer);
  config.cleanup();
  return { ...exited, output: host.output };
}

/**
 * Starts the host in front of `upstreamPort` (hostYaml's options); resolves once GET /ready
 * answers 200. `stop()` sends SIGTERM and resolves with {code, signal}.
 */
export async function startHost({ upstreamPort, filters, extraClusters, searchPath, concurrency = 1,
                                  perConnectionBufferLimitBytes, downstreamEnableTrailers,
                                  upstreamEnableTrailers, logLevel }) {
  const listenPort = await freePort();
  const adminPort = await freePort();
  return startHostWithYaml(
    hostYaml({ listenPort, adminPort, upstreamPort, filters, extraClusters,
               perConnectionBufferLimitBytes, downstreamEnableTrailers, upstreamEnableTrailers }),
    { listenPort, adminPort, searchPath, concurrency, logLevel });
}

/**
 * Starts the host as a TCP proxy (tcpProxyYaml): `filters` are network filters
 * [{ module, filterName, config }], `clusters` [{ name, port }].
 */
export async function startTcpHost({ filters, clusters, defaultCluster, searchPath,
                                     concurrency = 1 }) {
  const listenPort = await freePort();
  const adminPort = await freePort();
  const yaml = tcpProxyYaml({
    listenPort, adminPort, clusters, defaultCluster,
    filters: filters.map(({ module, filterName, config = '' }) =>
      ({ module, filterName, config, doNotClose: false })),
  });
  return startHostWithYaml(yaml, { listenPort, adminPort, searchPath, concurrency });
}

/**
 * Starts the host on an envoy.yaml; resolves once GET /ready answers 200. Its log (at `logLevel`)
 * accumulates in `host.output`; `host.configFile` is the envoy.yaml it reads (a test may rewrite
 * it and reload); `args` are more command-line arguments; `bin` is another build of the host
 * (default: envoy-ts-host).
 */
export async function startHostWithYaml(yaml, { listenPort, adminPort, searchPath,
                                                concurrency = 1, logLevel = 'info', args = [],
                                                bin }) {
  const config = tempFile('envoy.yaml', yaml);
  const host = spawnHost(['-c', config.file, '--concurrency', String(concurrency), '-l', logLevel,
                          ...args], searchPath, {}, bin);
  host.port = listenPort;
  host.adminPort = adminPort;
  host.configFile = config.file;
  host.stop = async () => {
    if (!host.exited) host.child.kill('SIGTERM');
    const killer = setTimeout(() => host.child.kill('SIGKILL'), 12000);
    const exited = await host.exitPromise;
    clearTimeout(killer);
    config.cleanup();
    return exited;
  };
  const deadline = Date.now() + 15000;
  while (true) {
    if (host.exited) {
      config.cleanup();
      throw new Error(`host exited (${JSON.stringify(host.exited)}) before ready:\n${host.output}`);
    }
    const ready = await request(adminPort, { path: '/ready' }).catch(() => null);
    if (ready?.status === 200) return host;
    if (Date.now() > deadline) {
      await host.stop();
      throw new Error(`host not ready after 15 s:\n${host.output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/**
 * One HTTP/1.1 request on a fresh connection, with an optional `body` (string or Buffer); resolves
 * with {status, headers, body}.
 */
export function request(port, { method = 'GET', path: urlPath = '/', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: urlPath, headers, agent: false },
      (res) => {
        const chunks = [];
        res.on('data', (chunk) => chunks.push(chunk));
        res.on('end', () => resolve({
          status: res.statusCode,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        }));
        res.on('error', reject);
      });
    req.on('error', reject);
    req.setTimeout(10000, () => req.destroy(new Error('request timed out')));
    req.end(body);
  });
}

/**
 * Runs `envoy-ts-host --script` on a scenario. `scenarioText` is the scenario's JSON text (a string,
 * so a test can repeat a header key). Returns {code, signal, stdout, stderr, results}.
 */
export function runScript(scenarioText, { searchPath = releaseDir, args = [] } = {}) {
  const scenario = tempFile('scenario.json', scenarioText);
  const run = spawnSync(hostBin, ['--script', scenario.file, ...args], {
    env: { ...process.env, ENVOY_DYNAMIC_MODULES_SEARCH_PATH: searchPath },
    encoding: 'utf8',
    timeout: 15000,
  });
  scenario.cleanup();
  return scriptRun(run.status, run.signal, run.stdout, run.stderr);
}

/** runScript without blocking this process (for a scenario whose filters call a server of the
 *  test's own); resolves with the same. */
export async function runScriptAsync(scenarioText, { searchPath = releaseDir, args = [] } = {}) {
  const scenario = tempFile('scenario.json', scenarioText);
  const child = spawn(hostBin, ['--script', scenario.file, ...args], {
    env: { ...process.env, ENVOY_DYNAMIC_MODULES_SEARCH_PATH: searchPath },
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 15000,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (data) => { stdout += data; });
  child.stderr.setEncoding('utf8').on('data', (data) => { stderr += data; });
  const [code, signal] = await new Promise((resolve) => child.on('close', (...exit) => resolve(exit)));
  scenario.cleanup();
  return scriptRun(code, signal, stdout, stderr);
}

function scriptRun(code, signal, stdout, stderr) {
  return { code, signal, stdout, stderr, results: code === 0 ? JSON.parse(stdout).results : null };
}

/**
 * The quantiles of histogram `name` in a /stats body (`<name>: P0(i,c) P25(i,c) ...`):
 * { interval, cumulative }, each the ten figures joined by spaces; null when there is no such line
 * or it reads "No recorded values" (no stats flush has merged a value of it yet).
 */
export function histogramQuantiles(body, name) {
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const line = new RegExp(`^${escaped}: (.*)$`, 'm').exec(body)?.[1];
  if (line === undefined || line === 'No recorded values') return null;
  const figures = [...line.matchAll(/P[\d.]+\(([^,]+),([^)]+)\)/g)];
  return { interval: figures.map((m) => m[1]).join(' '), cumulative: figures.map((m) => m[2]).join(' ') };
}

/**
 * GET /stats<query> on `adminPort` until `done(body)` holds; resolves with that body. A histogram
 * reaches /stats only at a stats flush, so a test waits this way for the values it expects.
 */
export async function statsWhen(adminPort, done, query = '') {
  let body = '';
  for (let i = 0; i < 1000; ++i) {
    const response = await request(adminPort, { path: `/stats${query}` });
    assert.equal(response.status, 200, response.body);
    body = response.body;
    if (done(body)) return body;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.fail(`/stats${query} never showed what the test waits for:\n${body}`);
}

/** Resolves once the host's log contains `text` (after `from`); fails with the log otherwise. */
export async function logged(host, text, from = 0) {
  for (let i = 0; i < 1000 && host.output.indexOf(text, from) < 0; ++i) {
    if (host.exited) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.ok(host.output.indexOf(text, from) >= 0, `"${text}" not logged:\n${host.output}`);
}

/** The lines modules/config_lifecycle.c logged, without their prefix, in order. */
export function lifecycleCalls(host) {
  return host.output.split('\n').filter((l) => l.startsWith('config_lifecycle: '))
    .map((l) => l.slice('config_lifecycle: '.length));
}
