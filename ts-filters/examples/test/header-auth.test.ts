import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { createTestChain, type TestResponse } from '../../testing';
import * as filters from '../index';

async function run(config: unknown, headers: [string, string][]): Promise<TestResponse> {
  const chain = await createTestChain({ filters, chain: [{ name: 'header-auth', config }] });
  try {
    return await chain.request({ headers });
  } finally {
    await chain.close();
  }
}

async function rejection(config: unknown): Promise<string> {
  const error = await createTestChain({ filters, chain: [{ name: 'header-auth', config }] })
    .then((chain) => chain.close().then(() => undefined), (e: unknown) => e);
  return error instanceof Error ? error.message : 'loaded';
}

describe('header-auth', () => {
  const config = { tokens: ['s3cret', 'other-longer-token'], prefix: 'Bearer ' };

  test('accepts each configured token', async () => {
    assert.equal((await run(config, [['authorization', 'Bearer s3cret']])).localReply, false);
    assert.equal((await run(config, [['Authorization', 'bearer other-longer-token']])).localReply, false);
  });

  test('rejects missing, wrong, prefix-only, shorter/longer and duplicated credentials with 401', async () => {
    for (const headers of [
      [],
      [['authorization', 'Bearer wrong']],
      [['authorization', 'Bearer s3cre']],
      [['authorization', 'Bearer s3cret1']],
      [['authorization', 's3cret']],
      [['authorization', 'Bearer ']],
      [['authorization', 'Bearer s3cret'], ['authorization', 'Bearer wrong']],
    ] as [string, string][][]) {
      const res = await run(config, headers);
      const what = JSON.stringify(headers);
      assert.equal(res.localReply, true, what);
      assert.equal(res.upstreamRequest, null, what);
      assert.equal(res.status, 401, what);
      assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="envoy-ts"', what);
      assert.equal(res.text(), 'unauthorized', what);
      assert.equal(res.details, 'envoy_ts_header_auth_denied', what);
    }
  });

  test('custom header without prefix', async () => {
    const custom = { header: 'X-Api-Key', tokens: ['k1'] };
    assert.equal((await run(custom, [['x-api-key', 'k1']])).localReply, false);
    assert.equal((await run(custom, [['authorization', 'k1']])).headers.get('www-authenticate'), 'Token realm="envoy-ts"');
  });

  test('parseConfig rejects bad configs', async () => {
    assert.match(await rejection(undefined), /filter 'header-auth': config must be an object/);
    assert.match(await rejection({ tokens: [] }), /filter 'header-auth': "tokens" must be a non-empty array/);
    assert.match(await rejection({ tokens: [''] }), /"tokens" must be a non-empty array of non-empty strings/);
    assert.match(await rejection({ tokens: ['a'], header: 'bad header' }), /"header" must be a valid header name/);
    assert.match(await rejection({ tokens: ['a'], realm: 'x' }), /unknown config key\(s\): realm/);
    assert.equal(await rejection({ tokens: ['a'] }), 'loaded');
  });
});
