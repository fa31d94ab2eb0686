// The greeting filter, run with envoy-ts's real runtime in plain Node. After `npm run build`,
// `ENVOY_TS_TEST_ENGINE=host npm test` runs the same tests through the real module in a proxy.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { createTestChain, type TestChain } from 'envoy-ts/testing';

import * as filters from '../src/index';

describe('greeting', () => {
  let chain: TestChain;
  before(async () => {
    chain = await createTestChain({
      filters,                      // in plain Node
      bundle: 'dist/filters.js',    // through the proxy (ENVOY_TS_TEST_ENGINE=host)
      chain: [{ name: 'greeting', config: { message: 'hi' } }],
    });
  });
  after(() => chain.close());

  test('answers GET /hello itself', async () => {
    const res = await chain.request({ path: '/hello' });
    assert.equal(res.status, 200);
    assert.equal(res.text(), 'hi\n');
    assert.equal(res.localReply, true);
    assert.equal(res.upstreamRequest, null);
    assert.equal(chain.metrics.get('greeting.greeted'), 1);
  });

  test('stamps its header on the responses it lets through', async () => {
    const res = await chain.request({ path: '/orders/7' });
    assert.equal(res.upstreamRequest?.path, '/orders/7');
    assert.equal(res.headers.get('x-greeting'), 'hi');
  });

  test('a config that does not match the schema is rejected, naming the field', async () => {
    const chain = [{ name: 'greeting', config: { message: 42 } }];
    await assert.rejects(createTestChain({ filters, bundle: 'dist/filters.js', chain }),
                         /config\.message must be string/);
  });
});
