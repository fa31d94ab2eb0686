import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { createTestChain } from '../index';
import * as filters from './fixture-filters';

describe("timers: 'manual'", () => {
  test('a timer in a hook fires when the test advances the clock, not before', async () => {
    const chain = await createTestChain({ filters, chain: [{ name: 'slow' }], timers: 'manual' });
    let done = false;
    const pending = chain.request().then((res) => { done = true; return res; });
    await chain.advanceTime(999);
    assert.equal(done, false);
    assert.equal(chain.now, 999);
    await chain.advanceTime(1);
    assert.equal((await pending).upstreamRequest?.headers.get('x-waited'), 'yes');
    await chain.close();
  });

  test('Date.now and setInterval follow the clock; closing restores the real timers', async () => {
    const realSetTimeout = globalThis.setTimeout;
    const chain = await createTestChain({ filters, chain: [{ name: 'slow' }], timers: 'manual' });
    const start = Date.now();
    let ticks = 0;
    const interval = setInterval(() => ticks++, 10);
    await chain.advanceTime(35);
    clearInterval(interval);
    assert.equal(ticks, 3);
    assert.equal(Date.now() - start, 35);
    await assert.rejects(createTestChain({ filters, chain: [{ name: 'slow' }], timers: 'manual' }),
                         /another test chain with timers: 'manual' is open/);
    await chain.close();
    assert.equal(globalThis.setTimeout, realSetTimeout);
  });

  test('advanceTime needs the manual clock', async () => {
    const chain = await createTestChain({ filters, chain: [{ name: 'slow' }] });
    await assert.rejects(chain.advanceTime(1), /timers: 'manual'/);
    await chain.close();
  });
});
