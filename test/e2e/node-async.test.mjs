// Node's own deferred work inside hooks, as in any Node program: process.nextTick callbacks and
// microtasks a hook queues run before its stream goes on, and a rejection nobody handles is
// reported (logged), never fatal.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { echoOf, fixturesBundle, proxyName, request, startProxy, startUpstream } from './harness.mjs';

describe(`Node's deferred work in hooks through ${proxyName}`, () => {
  let upstream;
  let proxy;

  before(async () => {
    upstream = await startUpstream();
    proxy = await startProxy({
      upstreamPort: upstream.port,
      filterConfigs: [{ bundle: fixturesBundle, chain: [{ name: 'deferred-work' }] }],
    });
  });

  after(async () => {
    const exit = await proxy?.stop();
    await upstream?.close();
    assert.equal(exit?.code, 0, `clean shutdown, output:\n${proxy?.output}`);
  });

  test('nextTick callbacks and microtasks of a sync hook run before the request goes on', async () => {
    const response = await request(proxy.port);
    assert.equal(response.status, 200);
    const seen = echoOf(response).headers;
    assert.equal(seen['x-next-tick'], 'ran');
    assert.equal(seen['x-microtask'], 'ran');
    assert.equal(response.headers['x-after-tick'], 'yes', 'a hook awaiting a nextTick goes on');
  });

  test('a rejection nobody handles is logged with its error; the stream and the proxy go on', async () => {
    const response = await request(proxy.port, { headers: { 'x-reject': '1' } });
    assert.equal(response.status, 200);
    const deadline = Date.now() + 2000;
    while (!proxy.output.includes('unhandled rejection: Error: fixture: nobody handles this rejection')) {
      assert.ok(Date.now() < deadline, `no unhandled-rejection log line:\n${proxy.output}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal((await request(proxy.port)).status, 200);
  });
});
