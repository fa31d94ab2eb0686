import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { createTestChain } from '../../testing';
import * as filters from '../index';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('request-id', () => {
  test('sets an id when the request has none and echoes it on the response', async () => {
    const chain = await createTestChain({ filters, chain: [{ name: 'request-id' }] });
    const res = await chain.request({ path: '/' });
    const id = res.upstreamRequest?.headers.get('x-request-id') ?? '';
    assert.match(id, UUID);
    assert.equal(res.headers.get('x-request-id'), id);
    await chain.close();
  });

  test("keeps the client's id", async () => {
    const chain = await createTestChain({ filters, chain: [{ name: 'request-id' }] });
    const res = await chain.request({ headers: { 'X-Request-Id': 'abc' } });
    assert.deepEqual(res.upstreamRequest?.headers.getAll('x-request-id'), ['abc']);
    assert.deepEqual(res.headers.getAll('x-request-id'), ['abc']);
    await chain.close();
  });

  test('echoes the id on a local reply from a later filter', async () => {
    const chain = await createTestChain({ filters, chain: [
      { name: 'request-id' },
      { name: 'header-auth', config: { tokens: ['t'] } },
    ] });
    const res = await chain.request({ headers: { 'x-request-id': 'r1' } });
    assert.equal(res.localReply, true);
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('x-request-id'), 'r1');
    await chain.close();
  });
});
