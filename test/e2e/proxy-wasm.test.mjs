// proxy-wasm modules (built from test/fixtures/proxy-wasm with the AssemblyScript SDK) in envoy-ts
// chains beside TypeScript filters, over real HTTP: what each side sets the other reads, routes
// disable them, an auth module calls out through an Envoy cluster, a body module rewrites bodies,
// ticks, shared data and queues work across workers, and a module that traps, reads outside its
// memory or loops gets the failure policy while the proxy keeps serving.
import assert from 'node:assert/strict';
import http from 'node:http';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';

import { echoOf, fixturesBundle, proxyForSuite, proxyName, request, root } from './harness.mjs';
import { listenLoopback } from '../support/servers.mjs';

const wasm = (name) => path.join(root, 'dist/test/fixtures/proxy-wasm', `${name}.wasm`);
// The SDK (0.1.8) needs a non-empty configuration (it reads an empty one outside its memory, under
// Envoy too).
const wasmEntry = (name, rootId, config = {}) =>
  ({ name: 'proxy-wasm', config: { module: wasm(name), rootId, configuration: 'set', ...config } });

/** The auth service: GET /check answers 200 with x-user for the token `let-me-in`, 401 otherwise. */
async function startAuthz() {
  const checks = [];
  const server = http.createServer((req, res) => {
    checks.push({ path: req.url, token: req.headers['x-token'] });
    const allowed = req.url === '/check' && req.headers['x-token'] === 'let-me-in';
    res.writeHead(allowed ? 200 : 401, allowed ? { 'x-user': 'alice' } : {});
    res.end(allowed ? 'ok' : 'no');
  });
  return { ...(await listenLoopback(server)), checks };
}

describe(`proxy-wasm modules and TypeScript filters in one chain through ${proxyName}`, () => {
  let authz;
  before(async () => { authz = await startAuthz(); });
  after(async () => { await authz?.close(); });

  const chain = {
    bundle: fixturesBundle,
    chain: [
      { name: 'ts-before' },
      wasmEntry('add-header', 'add_header', { configuration: 'from-wasm' }),
      { ...wasmEntry('auth', 'auth', { configuration: 'authz' }), name: 'proxy-wasm.auth' },
      { name: 'ts-after' },
    ],
  };
  const suite = proxyForSuite({
    filterConfigs: [chain],
    concurrency: 2,
    get extraClusters() { return [{ name: 'authz', port: authz.port }]; },
    routes: [
      { prefix: '/public', perRoute: { envoy_ts_0: { module: 'envoy_ts', config: JSON.stringify({
        bundle: fixturesBundle, filters: { 'proxy-wasm': { disabled: true }, 'proxy-wasm.auth': { disabled: true } } }) } } },
      { prefix: '/open', perRoute: { envoy_ts_0: { module: 'envoy_ts', config: JSON.stringify({
        bundle: fixturesBundle, filters: { 'proxy-wasm.auth': { disabled: true } } }) } } },
      { prefix: '/' },
    ],
  });

  test('the wasm auth filter reads the token a TS filter set, calls the authz cluster, and a TS filter reads the user it set', async () => {
    const response = await request(suite.proxy.port, { path: '/orders', headers: { authorization: 'Bearer let-me-in' } });
    assert.equal(response.status, 200);
    const echo = echoOf(response);
    assert.equal(echo.headers['x-auth-user'], 'alice');
    assert.equal(echo.headers['x-ts-saw-user'], 'alice');
    assert.deepEqual(authz.checks.at(-1), { path: '/check', token: 'let-me-in' });
  });

  test('the wasm add_header example sets its configured response header; the TS filter before it (after it on the response) reads it', async () => {
    const response = await request(suite.proxy.port, { path: '/orders', headers: { authorization: 'Bearer let-me-in' } });
    assert.equal(response.headers.hello, 'from-wasm');
    assert.equal(response.headers['x-ts-saw-hello'], 'from-wasm');
  });

  test('a refused check answers 403 from the module; nothing goes upstream', async () => {
    const before = suite.upstream.seen.length;
    const response = await request(suite.proxy.port, { path: '/orders', headers: { authorization: 'Bearer wrong' } });
    assert.equal(response.status, 403);
    assert.match(response.body, /denied by the wasm auth filter \(check: 401\)/);
    assert.equal(suite.upstream.seen.length, before);
  });

  test('the module\'s metrics are Envoy stats', async () => {
    assert.ok((await suite.proxy.stat('proxy-wasm.auth.auth_allowed')) >= 2);
    assert.ok((await suite.proxy.stat('proxy-wasm.auth.auth_denied')) >= 1);
  });

  test('a route disables one labelled module (proxy-wasm.auth); the other still runs', async () => {
    const response = await request(suite.proxy.port, { path: '/open/docs' });
    assert.equal(response.status, 200);
    assert.equal(response.headers.hello, 'from-wasm');
    assert.equal(echoOf(response).headers['x-ts-saw-user'], 'none');
  });

  test('a route disables the proxy-wasm entries; the TS filters still run', async () => {
    const response = await request(suite.proxy.port, { path: '/public/logo.png' });
    assert.equal(response.status, 200);
    assert.equal(response.headers.hello, undefined);
    assert.equal(echoOf(response).headers['x-ts-saw-user'], 'none');
    assert.equal(response.headers['x-ts-saw-hello'], 'none');
  });
});

describe(`a module written against ABI 0.2.1 without an SDK through ${proxyName}`, () => {
  const suite = proxyForSuite({ filterConfigs: [{ bundle: fixturesBundle,
                                                  chain: [{ name: 'proxy-wasm', config: { module: wasm('abi-0-2-1') } }] }] });

  test('its headers callback gets the header count and reads request.path; what it adds goes upstream', async () => {
    const response = await request(suite.proxy.port, { path: '/abi?x=1', headers: { 'x-one': '1', 'x-two': '2' } });
    assert.equal(response.status, 200);
    const { headers } = echoOf(response);
    assert.equal(headers['x-abi'], '0.2.1');
    assert.equal(headers['x-property-path'], '/abi?x=1');
    assert.ok(Number(headers['x-num-headers']) >= 5, `x-num-headers: ${headers['x-num-headers']}`);
  });
});

describe(`a proxy-wasm body filter through ${proxyName}`, () => {
  const suite = proxyForSuite({ filterConfigs: [{ bundle: fixturesBundle, chain: [wasmEntry('body', 'body')] }] });

  test('buffers the request body, whole or in pieces, and rewrites it before it goes upstream', async () => {
    const whole = await request(suite.proxy.port, { method: 'POST', path: '/echo', body: 'hello wasm' });
    assert.equal(whole.status, 200);
    assert.equal(echoOf(whole).body, 'HELLO WASM');
    assert.equal(whole.headers['x-wasm-request-body-bytes'], '10');
    const pieces = await request(suite.proxy.port, { method: 'POST', path: '/echo', body: ['one ', 'two ', 'three'] });
    assert.equal(echoOf(pieces).body, 'ONE TWO THREE');
  });

  test('refuses a body that says forbidden, split across pieces or not', async () => {
    const refused = await request(suite.proxy.port, { method: 'POST', path: '/echo', body: ['this is forb', 'idden'] });
    assert.equal(refused.status, 403);
    assert.match(refused.body, /refused: the body says forbidden/);
  });
});

describe(`a proxy-wasm body filter that holds the request headers through ${proxyName}`, () => {
  const suite = proxyForSuite({ filterConfigs: [{ bundle: fixturesBundle,
                                                  chain: [wasmEntry('body', 'body', { configuration: 'hold-headers' })] }] });

  test('nothing goes upstream until the module decided on the whole body', async () => {
    const rewritten = await request(suite.proxy.port, { method: 'POST', path: '/echo', body: ['held ', 'body'] });
    assert.equal(rewritten.status, 200);
    assert.equal(echoOf(rewritten).body, 'HELD BODY');
    const before = suite.upstream.seen.length;
    const refused = await request(suite.proxy.port, { method: 'POST', path: '/echo', body: ['forbid', 'den'] });
    assert.equal(refused.status, 403);
    assert.equal(suite.upstream.seen.length, before, 'the refused request never reached the upstream');
  });
});

describe(`a proxy-wasm filter with ticks, shared data and a shared queue through ${proxyName}`, () => {
  const suite = proxyForSuite({
    filterConfigs: [{ bundle: fixturesBundle, chain: [wasmEntry('ticks-shared', 'ticks')] }],
    concurrency: 2,
  });

  test('each request is enqueued and counted by the queue reader; ticks keep counting between requests', async () => {
    const ticks = [];
    for (let i = 1; i <= 6; i++) {
      const response = await request(suite.proxy.port, { path: `/r${i}` });
      assert.equal(response.status, 200);
      assert.equal(response.headers['x-hits'], String(i), 'every request counted once, across both workers');
      ticks.push(Number(response.headers['x-ticks']));
      await sleep(100);
    }
    assert.ok(ticks.at(-1) > ticks[0], `ticks went on: ${ticks.join(', ')}`);
    assert.ok((await suite.proxy.stat('proxy-wasm.ticks_total')) >= 1, 'the counter ticks record reached Envoy');
  });
});

describe(`containment of proxy-wasm modules through ${proxyName}`, () => {
  const suite = proxyForSuite({
    filterConfigs: [{ bundle: fixturesBundle, cpuBudgetMs: 100,
                      chain: [{ name: 'ts-before' }, wasmEntry('misbehave', 'misbehave')] }],
    concurrency: 1,
    env: { ENVOY_TS_EXTERNAL_MEMORY_LIMIT_MB: '64' },
  });

  for (const [path, what] of [['/wasm/trap', /RuntimeError: unreachable/], ['/wasm/oob', /RuntimeError: memory access out of bounds/],
                              ['/wasm/abort', /ProcExit: the module called proc_exit\(255\)/]]) {
    test(`${path}: 500 from the failure policy, logged with the filter; the next request is served by a fresh instance`, async () => {
      const failed = await request(suite.proxy.port, { path });
      assert.equal(failed.status, 500);
      assert.equal(failed.body, 'internal error');
      const next = await request(suite.proxy.port, { path: '/fine' });
      assert.equal(next.status, 200);
      assert.equal(echoOf(next).headers['x-wasm-ok'], '1', 'the instance that failed was replaced');
      assert.match(suite.proxy.output, new RegExp(`filter=proxy-wasm\\] onRequestHeaders threw: ${what.source}`));
    });
  }

  test('/wasm/grow: module memory counts against the limit of memory outside the JS heap; the worker gets a fresh environment', async () => {
    const grown = await request(suite.proxy.port, { path: '/wasm/grow' });
    assert.equal(grown.status, 500);
    assert.match(suite.proxy.output, /memory outside the JavaScript heap \(ArrayBuffers, Buffers\) grew past its limit/);
    const next = await request(suite.proxy.port, { path: '/fine' });
    assert.equal(next.status, 200);
    assert.equal(echoOf(next).headers['x-wasm-ok'], '1', 'a fresh environment, a fresh instance');
  });

  test('/wasm/loop: the CPU budget stops the module; the worker and the module serve on', async () => {
    const looped = await request(suite.proxy.port, { path: '/wasm/loop' });
    assert.equal(looped.status, 500);
    assert.match(suite.proxy.output,
                 /filter=proxy-wasm\] onRequestHeaders was stopped: CpuBudgetError \[ETS_ERR_CPU_BUDGET\]: onRequestHeaders ran past its CPU budget of 100 ms/);
    const next = await request(suite.proxy.port, { path: '/fine' });
    assert.equal(next.status, 200);
    assert.equal(echoOf(next).headers['x-wasm-ok'], '1');
    assert.ok((await suite.proxy.stat('envoy_ts.cpu_budget_exceeded.filter.proxy-wasm')) >= 1);
    assert.ok((await suite.proxy.stat('envoy_ts.filter_failures.filter.proxy-wasm')) >= 4);
  });
});
