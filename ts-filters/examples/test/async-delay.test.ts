import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { createTestChain } from '../../testing';
import * as filters from '../index';

describe('async-delay', () => {
  test('waits, sets x-async-delay-ms, then the chain continues', async () => {
    const chain = await createTestChain({ filters, timers: 'manual',
                                          chain: [{ name: 'async-delay', config: { ms: 5 } }, { name: 'request-id' }] });
    let done = false;
    const pending = chain.request().then((res) => {
      done = true;
      return res;
    });
    await chain.advanceTime(4);
    assert.equal(done, false, 'still waiting after 4 ms');
    await chain.advanceTime(1);
    const res = await pending;
    assert.equal(res.upstreamRequest?.headers.get('x-async-delay-ms'), '5');
    assert.ok(res.upstreamRequest?.headers.get('x-request-id'));
    await chain.close();
  });

  test('a stream that goes away stops the timer quietly', async () => {
    const chain = await createTestChain({ filters, timers: 'manual', chain: [{ name: 'async-delay', config: { ms: 10000 } }],
                                          settings: { asyncTimeoutMs: 1 } });
    // The runtime's async timeout ends the stream (500) and aborts ctx.signal: the timer stops
    // without an error of its own.
    const res = await chain.request();
    assert.equal(res.status, 500);
    assert.deepEqual(chain.logs.filter((l) => l.level === 'error' && !/timed out|asyncTimeoutMs/i.test(l.message)), []);
    await chain.close();
  });

  test('config: default 10, range 0..10000', async () => {
    const load = (config: unknown): Promise<string> =>
      createTestChain({ filters, chain: [{ name: 'async-delay', config }] })
        .then((chain) => chain.close().then(() => 'loaded'), (e: Error) => e.message);
    assert.equal(await load(undefined), 'loaded');
    assert.equal(await load({ ms: 0 }), 'loaded');
    assert.match(await load({ ms: 10001 }), /filter 'async-delay': "ms" must be a number from 0 to 10000/);
    assert.match(await load({ ms: '5' }), /"ms" must be a number/);
  });
});
