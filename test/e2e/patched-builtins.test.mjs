// A filter that replaces a shared builtin breaks only its own code: the runtime keeps the builtins
// it uses from before any bundle ran, so other chains on the same worker — sync and async — are
// dispatched, read headers, reply and record stats as before.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { echoOf, examplesBundle, fixturesBundle, proxyForSuite, proxyName, request } from './harness.mjs';

const BUILTINS = ['Map.prototype.get', 'Map.prototype.set', 'Function.prototype.call', 'Function.prototype.apply',
  'Array.prototype.push', 'Promise.prototype.then', 'String.prototype.toLowerCase', 'RegExp.prototype.test',
  'RegExp.prototype.exec', 'Object.keys', 'JSON.stringify', 'Math.max', 'Number.isInteger',
  'Array.prototype.@@iterator', 'Map.prototype.forEach'];

for (const builtin of BUILTINS) {
  describe(`a filter replacing ${builtin} through ${proxyName}`, () => {
    const suite = proxyForSuite({
      concurrency: 1,
      filterConfigs: [
        { bundle: fixturesBundle, chain: [{ name: 'patches-builtin', config: { builtin } }] },
        { bundle: examplesBundle, chain: [{ name: 'request-id' }, { name: 'async-delay', config: { ms: 1 } }] },
      ],
    });

    test('other chains on the worker go on working', async () => {
      assert.equal((await request(suite.proxy.port, { path: '/patch' })).status, 200);
      for (let i = 0; i < 3; i++) {
        const response = await request(suite.proxy.port, { path: `/after-${i}`, headers: { 'x-request-id': `id-${i}` } });
        assert.equal(response.status, 200, `request ${i}: ${response.body}`);
        assert.equal(response.headers['x-request-id'], `id-${i}`, 'request-id echoed the id');
        assert.equal(echoOf(response).headers['x-async-delay-ms'], '1', 'async-delay resumed the stream');
      }
      assert.doesNotMatch(suite.proxy.output, /internal error/);
    });
  });
}
