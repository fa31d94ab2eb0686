import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, test } from 'node:test';

import { createTestChain, type Engine } from '../index';

// This test runs from build/tests/testing: the repository root is three folders up.
const root = resolve(__dirname, '../../..');
const bundle = resolve(root, 'dist/examples/filters.js');
const moduleDir = resolve(root, 'build/Release');
const haveHost = existsSync(resolve(moduleDir, 'envoy-ts-host')) && existsSync(resolve(moduleDir, 'libenvoy_ts.so'));

/** One spec, run by each engine: the same options, the same assertions. */
async function spec(engine: Engine): Promise<void> {
  const chain = await createTestChain({
    engine, bundle, moduleDir,
    chain: [{ name: 'request-id' }, { name: 'header-auth', config: { tokens: ['user'] } },
            { name: 'rate-limit', config: { ratePerSecond: 0.001, burst: 2, key: 'header:x-client' } }],
    routes: { '/admin': { 'header-auth': { config: { tokens: ['admin'] } } } },
    upstream: (req) => ({ status: 201, headers: { 'x-upstream': 'yes' }, body: ['seen ', req.path] }),
  });
  try {
    const denied = await chain.request({ path: '/orders', headers: { 'x-request-id': 'r1' } });
    assert.equal(denied.status, 401);
    assert.equal(denied.localReply, true);
    assert.equal(denied.upstreamRequest, null);
    assert.equal(denied.headers.get('x-request-id'), 'r1', 'response hooks ran on the local reply');
    assert.equal(denied.text(), 'unauthorized');

    const ok = await chain.request({ method: 'POST', path: '/orders', body: ['a', 'b'],
                                     headers: { authorization: 'user', 'x-client': 'c1' } });
    assert.equal(ok.status, 201);
    assert.equal(ok.localReply, false);
    assert.equal(ok.text(), 'seen /orders');
    assert.equal(ok.headers.get('x-upstream'), 'yes');
    assert.equal(ok.upstreamRequest?.text(), 'ab');
    assert.match(ok.upstreamRequest?.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);

    // Per-route config: /admin takes another token.
    assert.equal((await chain.request({ path: '/admin', headers: { authorization: 'user' } })).status, 401);
    assert.equal((await chain.request({ path: '/admin', headers: { authorization: 'admin', 'x-client': 'c1' } })).status, 201);
    const limited = await chain.request({ headers: { authorization: 'user', 'x-client': 'c1' } });
    assert.equal(limited.status, 429);

    assert.equal(chain.metrics.get('rate-limit.allowed'), 2);
    assert.equal(chain.metrics.get('rate-limit.limited'), 1);
    assert.equal(chain.metrics.get('envoy_ts.filter_failures', { filter: 'header-auth' }), 0);
  } finally {
    await chain.close();
  }
}

/** A client that disconnects while a filter waits: the request rejects, nothing reaches the upstream. */
async function disconnectSpec(engine: Engine): Promise<void> {
  let upstreamCalls = 0;
  const chain = await createTestChain({
    engine, bundle, moduleDir,
    chain: [{ name: 'async-delay', config: { ms: 10000 } }],
    upstream: () => { upstreamCalls++; return {}; },
  });
  try {
    const client = new AbortController();
    const pending = chain.request({ signal: client.signal });
    setTimeout(() => client.abort(), 100);
    await assert.rejects(pending, { name: 'AbortError' });
    assert.equal(upstreamCalls, 0);
    assert.equal(chain.metrics.get('envoy_ts.filter_failures', { filter: 'async-delay' }), 0);
  } finally {
    await chain.close();
  }
}

/** A proxy-wasm module (the auth fixture, calling the `authz` cluster) after a TypeScript filter. */
async function proxyWasmSpec(engine: Engine): Promise<void> {
  const checks: (string | null)[] = [];
  const chain = await createTestChain({
    engine, bundle, moduleDir,
    chain: [{ name: 'request-id' }, { name: 'proxy-wasm', config: {
      module: resolve(root, 'dist/test/fixtures/proxy-wasm/auth.wasm'), rootId: 'auth', configuration: 'authz' } }],
    clusters: {
      authz: (req) => {
        checks.push(req.headers.get('x-token'));
        return req.headers.get('x-token') === 'good' ? { status: 200, headers: { 'x-user': 'bob' } } : { status: 401 };
      },
    },
  });
  try {
    const allowed = await chain.request({ path: '/orders', headers: { 'x-token': 'good' } });
    assert.equal(allowed.status, 200);
    assert.equal(allowed.upstreamRequest?.headers.get('x-auth-user'), 'bob');
    assert.match(allowed.upstreamRequest?.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
    const refused = await chain.request({ path: '/orders', headers: { 'x-token': 'bad' } });
    assert.equal(refused.status, 403);
    assert.equal(refused.upstreamRequest, null);
    assert.deepEqual(checks, ['good', 'bad']);
  } finally {
    await chain.close();
  }
}

describe('one spec, two engines', () => {
  test('in process', () => spec('in-process'));
  test('a client that disconnects, in process', () => disconnectSpec('in-process'));
  test('a client that disconnects, through the conformance host', { skip: !haveHost && 'build/Release is not built (npm run build)' },
       () => disconnectSpec('host'));
  test('through the real module in the conformance host', { skip: !haveHost && 'build/Release is not built (npm run build)' },
       () => spec('host'));
  test('a proxy-wasm chain entry, in process', () => proxyWasmSpec('in-process'));
  test('a proxy-wasm chain entry, through the conformance host', { skip: !haveHost && 'build/Release is not built (npm run build)' },
       () => proxyWasmSpec('host'));
  test('ENVOY_TS_TEST_ENGINE picks the engine when the options do not', async () => {
    process.env['ENVOY_TS_TEST_ENGINE'] = 'host';
    try {
      await assert.rejects(createTestChain({ chain: [{ name: 'request-id' }], filters: {} }),
                           /the host engine loads a built bundle/);
    } finally {
      delete process.env['ENVOY_TS_TEST_ENGINE'];
    }
  });
  test("the host engine has no manual clock", async () => {
    await assert.rejects(createTestChain({ engine: 'host', bundle, chain: [{ name: 'request-id' }], timers: 'manual' }),
                         /works in-process only/);
  });
});
