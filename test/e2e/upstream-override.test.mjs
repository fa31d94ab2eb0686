// ctx.setUpstreamOverrideHost: a filter picks the upstream host of the routed cluster (sticky
// sessions, affinity), strictly or as a preference, through a cluster of two real upstreams.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { echoOf, fixturesBundle, proxyName, request, startProxy, startUpstream } from './harness.mjs';

describe(`upstream override host through ${proxyName}`, () => {
  let first;
  let second;
  let proxy;

  before(async () => {
    first = await startUpstream();
    second = await startUpstream();
    proxy = await startProxy({
      upstreamPort: [first.port, second.port],
      filterConfigs: [{ bundle: fixturesBundle, chain: [{ name: 'pin-upstream' }] }],
    });
  });

  after(async () => {
    const exit = await proxy?.stop();
    await first?.close();
    await second?.close();
    assert.equal(exit?.code, 0, `clean shutdown, output:\n${proxy?.output}`);
  });

  test('without an override the cluster\'s two hosts share the requests', async () => {
    const before = [first.seen.length, second.seen.length];
    for (let i = 0; i < 4; i++) assert.equal((await request(proxy.port)).status, 200);
    assert.equal(first.seen.length - before[0], 2);
    assert.equal(second.seen.length - before[1], 2);
  });

  test('every request pinned to one host goes to that host', async () => {
    const before = [first.seen.length, second.seen.length];
    for (let i = 0; i < 4; i++) {
      const response = await request(proxy.port, { path: `/pinned/${i}`, headers: { 'x-pin-upstream': `127.0.0.1:${second.port}` } });
      assert.equal(echoOf(response).path, `/pinned/${i}`);
    }
    assert.equal(first.seen.length, before[0]);
    assert.equal(second.seen.length - before[1], 4);
  });

  test('a host the cluster does not have: strict fails with 503, otherwise load balancing goes on', async () => {
    const strict = await request(proxy.port, { headers: { 'x-pin-upstream': '127.0.0.9:1', 'x-pin-strict': '1' } });
    assert.equal(strict.status, 503);
    assert.equal(strict.body, 'no healthy upstream');
    const lenient = await request(proxy.port, { headers: { 'x-pin-upstream': '127.0.0.9:1' } });
    assert.equal(lenient.status, 200);
  });

  test('a name instead of an IP address is refused by Envoy', async () => {
    const response = await request(proxy.port, { headers: { 'x-pin-upstream': 'upstream.local:80' } });
    assert.equal(response.status, 400);
    assert.match(response.body, /takes IP addresses/);
  });
});
