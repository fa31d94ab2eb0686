// A filter that throws or rejects gets the configured failure policy; the proxy stays up.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { echoOf, fixturesBundle, proxyName, request, startProxy, startUpstream } from './harness.mjs';

function chainOf(name, failurePolicy) {
  return { bundle: fixturesBundle, chain: [{ name }], failurePolicy };
}

describe(`failure policy through ${proxyName}`, () => {
  let upstream;
  let proxy;

  before(async () => {
    upstream = await startUpstream();
  });

  after(async () => {
    await proxy?.stop();
    await upstream?.close();
  });

  for (const [fixture, phase] of [['throws', 'request'], ['rejects', 'request (async)'],
                                  ['throws-on-response', 'response']]) {
    test(`"closed": ${fixture} in the ${phase} path answers 500`, async () => {
      proxy = await startProxy({ upstreamPort: upstream.port, filterConfigs: [chainOf(fixture, 'closed')] });
      for (let i = 0; i < 3; i++) {
        const response = await request(proxy.port);
        assert.equal(response.status, 500);
      }
      assert.match(proxy.output, new RegExp(`filter=${fixture}`), 'the error log names the filter');
      assert.match(proxy.output, /at .*test\/e2e\/fixtures\/filters\.ts:\d+:\d+/,
                   'the error log carries the stack, in the TypeScript source (the bundle has a source map)');
      assert.ok((await proxy.stat(`envoy_ts.filter_failures.filter.${fixture}`)) >= 3,
                'each failure is counted in Envoy stats');
      assert.equal(proxy.exited, null, 'the proxy is still running');
      await proxy.stop();
      proxy = undefined;
    });

    test(`"open": ${fixture} in the ${phase} path lets the request through`, async () => {
      proxy = await startProxy({ upstreamPort: upstream.port, filterConfigs: [chainOf(fixture, 'open')] });
      const response = await request(proxy.port, { path: '/open' });
      assert.equal(response.status, 200);
      assert.equal(echoOf(response).path, '/open');
      assert.equal(proxy.exited, null);
      await proxy.stop();
      proxy = undefined;
    });
  }

  test('a reply sent after an await reaches the client', async () => {
    proxy = await startProxy({ upstreamPort: upstream.port,
                               filterConfigs: [chainOf('reply-after-await', 'closed')] });
    const before = upstream.seen.length;
    const response = await request(proxy.port);
    assert.equal(response.status, 403);
    assert.equal(upstream.seen.length, before);
    await proxy.stop();
    proxy = undefined;
  });
});
