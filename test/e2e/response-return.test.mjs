// Hooks that return a fetch-standard Response: the client gets it as Envoy's local reply.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { echoOf, fixturesBundle, proxyForSuite, proxyName, request } from './harness.mjs';

describe(`hooks returning a Response through ${proxyName}`, () => {
  const suite = proxyForSuite({
    filterConfigs: [{ bundle: fixturesBundle, chain: [{ name: 'returns-response' }] }],
  });

  test('a Response returned from a request hook answers the client; the upstream never sees it', async () => {
    const before = suite.upstream.seen.length;
    const response = await request(suite.proxy.port, { path: '/teapot' });
    assert.equal(response.status, 418);
    assert.equal(response.body, 'short and stout');
    assert.equal(response.headers['x-brewed'], 'no');
    assert.equal(response.headers['content-type'], 'text/plain;charset=UTF-8');
    assert.equal(response.headers['content-length'], String('short and stout'.length));
    assert.equal(suite.upstream.seen.length, before);
  });

  test('a promise resolving to Response.json(...) answers with the JSON', async () => {
    const response = await request(suite.proxy.port, { path: '/gone' });
    assert.equal(response.status, 410);
    assert.equal(response.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(response.body), { gone: true, since: '2026-01-01' });
  });

  test('a Response without a body carries its headers', async () => {
    const response = await request(suite.proxy.port, { path: '/cookies' });
    assert.equal(response.status, 204);
    assert.equal(response.body, '');
    assert.deepEqual(response.headers['set-cookie'], ['a=1; Path=/']);
    assert.equal(response.headers['cache-control'], 'no-store');
  });

  test('a response hook replaces an upstream 5xx; other responses pass', async () => {
    const failed = await request(suite.proxy.port, { path: '/status/502' });
    assert.equal(failed.status, 503);
    assert.equal(failed.headers['retry-after'], '1');
    assert.equal(failed.body, 'the service is having a moment, retry later');
    const fine = await request(suite.proxy.port, { path: '/ok' });
    assert.equal(fine.status, 200);
    assert.equal(echoOf(fine).path, '/ok');
  });
});
