// Hooks a chain lacks go on natively, without a call into JavaScript; what the runtime owes such a
// chain still happens: its built-in stats, the abort of a signal a filter listens to, and
// onStreamComplete seeing the response it had no hook for.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { echoOf, fixturesBundle, proxyForSuite, proxyName, request } from './harness.mjs';

describe(`a chain with only a request hook through ${proxyName}`, () => {
  const suite = proxyForSuite({ filterConfigs: [{ bundle: fixturesBundle, chain: [{ name: 'request-only' }] }] });

  test('the request is changed, every hook counted, and a listened-to signal aborted when its stream ends', async () => {
    for (let i = 0; i < 3; i++) {
      const response = await request(suite.proxy.port, { path: '/watch' });
      assert.equal(response.status, 200);
      assert.equal(echoOf(response).headers['x-request-only'], '1');
    }
    const aborted = await request(suite.proxy.port, { path: '/aborted' });
    assert.equal(aborted.body, '3', 'each stream\'s signal aborted once it ended');
    // Recorded when a stream completes, which may come just after its response reached the client.
    let invocations = 0;
    for (let i = 0; i < 100 && invocations < 4; i++) {
      if (i > 0) await new Promise((resolve) => setTimeout(resolve, 20));
      invocations = await suite.proxy.stat('envoy_ts.request-only.hook_invocations');
    }
    assert.equal(invocations, 4);
  });
});

describe(`onStreamComplete in a chain without response hooks through ${proxyName}`, () => {
  const suite = proxyForSuite({ filterConfigs: [{ bundle: fixturesBundle, chain: [{ name: 'sees-completion' }] }] });

  test('it reads the status of the response that went by', async () => {
    for (let i = 0; i < 2; i++) assert.equal((await request(suite.proxy.port, { path: '/up' })).status, 200);
    const completed = await request(suite.proxy.port, { path: '/completed' });
    assert.equal(completed.body, '2');
  });
});
