// console.* in a filter writes to Envoy's log: at the matching level, with the filter's prefix.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { fixturesBundle, proxyForSuite, proxyName, request } from './harness.mjs';

describe(`console in a filter through ${proxyName}`, () => {
  const suite = proxyForSuite({ filterConfigs: [{ bundle: fixturesBundle, chain: [{ name: 'console-user' }] }] });

  test('console.log is an info line and console.error an error line of the filter', async () => {
    assert.equal((await request(suite.proxy.port, { path: '/greet' })).status, 200);
    assert.match(suite.proxy.output, /\[info\].*\[envoy-ts\]\[filter=console-user\] hello from \/greet\n/);
    assert.match(suite.proxy.output, /\[error\].*\[envoy-ts\]\[filter=console-user\] something odd: \{ path: '\/greet' \}\n/);
    assert.doesNotMatch(suite.proxy.output, /^hello from/m, 'nothing bypasses the log');
  });
});
