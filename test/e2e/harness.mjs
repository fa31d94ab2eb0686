// Runs a proxy (the conformance host, or real Envoy when ENVOY_BIN is set) with an envoy.yaml made
// for the test, in front of a real upstream, and talks to it over real HTTP/1.1.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';

import { freePort, httpProxyYaml } from '../support/proxy-config.mjs';
import { listenLoopback } from '../support/servers.mjs';

export { freePort };

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const moduleDir = path.join(root, 'build/Release');
export const examplesBundle = path.join(root, 'dist/examples/filters.js');
export const fixturesBundle = path.join(root, 'dist/test/fixtures/filters.js');
export const realEnvoy = process.env.ENVOY_BIN || '';
export const proxyName = realEnvoy ? `Envoy (${realEnvoy})` : 'the conformance host';

/**
 * A real upstream: answers every request with 200 and a JSON echo of what it received
 * ({method, path, headers, body}). `GET /status/<code>` answers with that status.
 */
export async function startUpstream() {
  const seen = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      const echo = {
        method: req.method,
        path: req.url,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      seen.push(echo);
      const status = /^\/status\/(\d{3})$/.exec(req.url ?? '');
      res.writeHead(status ? Number(status[1]) : 200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(echo));
    });
  });
  return { ...(await listenLoopback(server)), seen };
}

/** envoy.yaml with one envoy_ts filter per entry of `filterConfigs` (objects are JSON-encoded). */
export function envoyYaml({ listenPort, adminPort, upstreamPort, filterConfigs, extraClusters = [], routes,
                            perConnectionBufferLimitBytes }) {
  const filters = filterConfigs.map((config) => ({
    module: 'envoy_ts',
    filterName: 'chain',
    config: typeof config === 'string' ? config : JSON.stringify(config),
  }));
  return httpProxyYaml({ listenPort, adminPort, upstreamPort, filters, extraClusters, routes,
                         perConnectionBufferLimitBytes });
}

function proxyCommand(configPath, concurrency, logLevel, extraArgs) {
  const args = ['-c', configPath, '--concurrency', String(concurrency), '-l', logLevel, ...extraArgs];
  if (realEnvoy) {
    // Tests run proxies side by side: no shared-memory hot-restart state between them.
    return { file: realEnvoy, args: [...args, '--disable-hot-restart'] };
  }
  return { file: path.join(moduleDir, 'envoy-ts-host'), args };
}

function spawnProxy(yaml, concurrency, logLevel, env = {}, extraArgs = []) {
  const dir = mkdtempSync(path.join(tmpdir(), 'envoy-ts-e2e-'));
  const configPath = path.join(dir, 'envoy.yaml');
  writeFileSync(configPath, yaml);
  const { file, args } = proxyCommand(configPath, concurrency, logLevel, extraArgs);
  const child = spawn(file, args, {
    env: { ...process.env, ENVOY_DYNAMIC_MODULES_SEARCH_PATH: moduleDir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return Object.assign(child, { configPath });
}

/**
 * Spawns the proxy with the given yaml (and extra environment variables `env`); resolves once it
 * exits (for configs it must reject).
 */
export async function runProxyToExit(yaml, { concurrency = 1, logLevel = 'info', timeoutMs = 20000, env } = {}) {
  const child = spawnProxy(yaml, concurrency, logLevel, env);
  let output = '';
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise((resolve) => child.on('exit', (c, signal) => resolve(c ?? signal)));
  clearTimeout(timer);
  return { code, output };
}

/**
 * Starts a proxy with `yaml` (whose listener is on `port` and admin on `adminPort`; `extraArgs`:
 * more command-line arguments); resolves once the admin endpoint says LIVE. The proxy object has
 * its output, stop(), the admin stats and the path of its envoy.yaml (`configPath`).
 */
export async function launchProxy(yaml, { port, adminPort, concurrency = 1, logLevel = 'info', env, extraArgs }) {
  const child = spawnProxy(yaml, concurrency, logLevel, env, extraArgs);
  const proxy = {
    port,
    adminPort,
    child,
    configPath: child.configPath,
    output: '',
    exited: null,
    async stop() {
      if (proxy.exited) return proxy.exited;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 10000);
      const result = await proxy.exitPromise;
      clearTimeout(killer);
      return result;
    },
    /** The admin endpoint's /stats text (Envoy's "name: value" lines). */
    async statsText() {
      const response = await request(adminPort, { path: '/stats' });
      if (response.status !== 200) throw new Error(`GET /stats answered ${response.status}: ${response.body}`);
      return response.body;
    },
    /**
     * The value of the stat whose name ends in `.<suffix>` (any prefix, e.g. Envoy's namespace for
     * dynamic-module metrics), or undefined when /stats has no such line.
     */
    async stat(suffix) {
      const escaped = suffix.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&');
      const match = new RegExp(`^(?:\\S*\\.)?${escaped}: (-?\\d+)$`, 'm').exec(await proxy.statsText());
      return match ? Number(match[1]) : undefined;
    },
  };
  child.stdout.on('data', (d) => { proxy.output += d; });
  child.stderr.on('data', (d) => { proxy.output += d; });
  proxy.exitPromise = new Promise((resolve) => child.on('exit', (code, signal) => {
    proxy.exited = { code, signal };
    resolve(proxy.exited);
  }));
  const deadline = Date.now() + 30000;
  while (true) {
    if (proxy.exited) {
      throw new Error(`proxy exited (${JSON.stringify(proxy.exited)}) before it was ready:\n${proxy.output}`);
    }
    try {
      const ready = await request(adminPort, { path: '/ready' });
      if (ready.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await proxy.stop();
      throw new Error(`proxy not ready after 30 s:\n${proxy.output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return proxy;
}

/**
 * Starts a proxy in front of `upstreamPort` with one envoy_ts filter per entry of
 * `filterConfigs` (objects are JSON-encoded, filters named envoy_ts_<index>), `extraClusters`
 * ([{ name, port }], for callouts), `routes` (see httpProxyYaml; default one route for "/") and
 * the listener's `perConnectionBufferLimitBytes` (default Envoy's 1 MiB); `env`: extra environment
 * variables of the proxy process; `extraArgs`: more command-line arguments.
 * Resolves once the admin endpoint says LIVE.
 */
export async function startProxy({ upstreamPort, filterConfigs, extraClusters, routes, concurrency = 1,
                                   logLevel = 'info', perConnectionBufferLimitBytes, env, extraArgs }) {
  const port = await freePort();
  const adminPort = await freePort();
  const yaml = envoyYaml({ listenPort: port, adminPort, upstreamPort, filterConfigs, extraClusters, routes,
                          perConnectionBufferLimitBytes });
  return launchProxy(yaml, { port, adminPort, concurrency, logLevel, env, extraArgs });
}

/**
 * For a describe block: before its tests, starts an upstream (`startUpstream()` unless
 * `upstream` makes another) and a proxy in front of it with `proxyOptions` (startProxy's, without
 * upstreamPort); after them, stops both and checks the proxy shut down cleanly. Returns the
 * suite's { upstream, proxy }, set once its tests run.
 */
export function proxyForSuite(proxyOptions, { upstream: makeUpstream = startUpstream } = {}) {
  const suite = { upstream: null, proxy: null };
  before(async () => {
    suite.upstream = await makeUpstream();
    suite.proxy = await startProxy({ upstreamPort: suite.upstream.port, ...proxyOptions });
  });
  after(async () => {
    const exit = await suite.proxy?.stop();
    await suite.upstream?.close();
    assert.equal(exit?.code, 0, `clean shutdown, output:\n${suite.proxy?.output}`);
  });
  return suite;
}

/**
 * One HTTP/1.1 request from a real client; resolves with {status, headers, body}. `body` may be an
 * array of pieces: they are sent chunked, a few milliseconds apart, so they arrive separately.
 */
export function request(port, { method = 'GET', path: urlPath = '/', headers = {}, body, agent = false } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: urlPath, headers, agent }, (res) => {
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
    req.setTimeout(15000, () => req.destroy(new Error('request timed out')));
    if (Array.isArray(body)) {
      writePieces(req, body).catch(reject);
      return;
    }
    if (body !== undefined) req.write(body);
    req.end();
  });
}

async function writePieces(req, pieces) {
  for (const piece of pieces) {
    req.write(piece);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  req.end();
}

/** The upstream's JSON echo from a proxied response. */
export function echoOf(response) {
  return JSON.parse(response.body);
}
