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

  test('a client that goes away stops the timer quietly', async () => {
    const chain = await createTestChain({ filters, timers: 'manual', chain: [{ name: 'async-delay', config: { ms: 10000 } }] });
    const client = new AbortController();
    const pending = chain.request({ signal: client.signal });
    await chain.advanceTime(1);                      // the hook waits on its timer
    client.abort();
    await assert.rejects(pending, { name: 'AbortError' });
    await chain.advanceTime(10000);                  // the timer was cleared: nothing runs, nothing logs
    assert.deepEqual(chain.logs.filter((l) => l.level === 'error' || l.level === 'warn'), []);
    assert.equal(chain.metrics.get('envoy_ts.filter_failures', { filter: 'async-delay' }), 0);
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
