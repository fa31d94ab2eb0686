// Node's own deferred work inside hooks, as in any Node program: process.nextTick callbacks and
// microtasks a hook queues run before its stream goes on, and a rejection nobody handles or a
// callback that throws is reported (logged), never fatal.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { echoOf, fixturesBundle, proxyForSuite, proxyName, request } from './harness.mjs';

describe(`Node's deferred work in hooks through ${proxyName}`, () => {
  const suite = proxyForSuite({
    filterConfigs: [{ bundle: fixturesBundle, chain: [{ name: 'deferred-work' }] }],
  });

  test('nextTick callbacks and microtasks of a sync hook run before the request goes on', async () => {
    const response = await request(suite.proxy.port);
    assert.equal(response.status, 200);
    const seen = echoOf(response).headers;
    assert.equal(seen['x-next-tick'], 'ran');
    assert.equal(seen['x-microtask'], 'ran');
    assert.equal(response.headers['x-after-tick'], 'yes', 'a hook awaiting a nextTick goes on');
  });

  test('a rejection nobody handles is logged with its error; the stream and the proxy go on', async () => {
    const response = await request(suite.proxy.port, { headers: { 'x-reject': '1' } });
    assert.equal(response.status, 200);
    const deadline = Date.now() + 2000;
    while (!suite.proxy.output.includes('unhandled rejection: Error: fixture: nobody handles this rejection')) {
      assert.ok(Date.now() < deadline, `no unhandled-rejection log line:\n${suite.proxy.output}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal((await request(suite.proxy.port)).status, 200);
  });

  test('a nextTick callback that throws is an uncaught exception: logged; the hook and the next callbacks go on',
       async () => {
    const response = await request(suite.proxy.port, { headers: { 'x-tick-throws': '1' } });
    assert.equal(response.status, 200);
    assert.equal(echoOf(response).headers['x-tick-after-throw'], 'ran');
    assert.match(suite.proxy.output, /uncaught exception: Error: fixture: thrown in a nextTick callback/);
    assert.equal((await request(suite.proxy.port)).status, 200);
  });
});
