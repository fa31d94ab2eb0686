import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { createTestChain } from '../../testing';
import * as filters from '../index';

describe('rate-limit', () => {
  const limiter = (config: unknown) =>
    createTestChain({ filters, timers: 'manual', chain: [{ name: 'rate-limit', config }] });

  test('a key gets `burst` requests at once, then 429 with retry-after, then refills over time', async () => {
    const chain = await limiter({ ratePerSecond: 2, burst: 3 });
    for (let i = 0; i < 3; i++) assert.equal((await chain.request()).localReply, false);
    const limited = await chain.request();
    assert.equal(limited.localReply, true);
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get('retry-after'), '1');
    assert.equal(limited.text(), 'too many requests');
    assert.equal(limited.details, 'envoy_ts_rate_limited');
    await chain.advanceTime(500);  // one token back at 2 per second
    assert.equal((await chain.request()).localReply, false);
    assert.equal((await chain.request()).localReply, true);
    await chain.close();
  });

  test('keys by header when configured; every key has its own bucket', async () => {
    const chain = await limiter({ ratePerSecond: 1, burst: 1, key: 'header:x-api-key' });
    assert.equal((await chain.request({ headers: { 'x-api-key': 'a' } })).status, 200);
    assert.equal((await chain.request({ headers: { 'x-api-key': 'a' } })).status, 429);
    assert.equal((await chain.request({ headers: { 'x-api-key': 'b' } })).status, 200);
    assert.equal((await chain.request()).status, 200);  // no header: the "-" key
    await chain.close();
  });

  test('counts allowed and limited requests', async () => {
    const chain = await limiter({ ratePerSecond: 1, burst: 1 });
    await chain.request();
    assert.equal(chain.metrics.get('rate-limit.allowed'), 1);
    assert.equal(chain.metrics.get('rate-limit.limited'), 0);
    await chain.request();
    assert.equal(chain.metrics.get('rate-limit.allowed'), 1);
    assert.equal(chain.metrics.get('rate-limit.limited'), 1);
    await chain.close();
  });

  test('the config schema names each bad field', async () => {
    for (const [config, message] of [
      [undefined, /config\.ratePerSecond is required/],
      [{ ratePerSecond: 0 }, /config\.ratePerSecond must be > 0/],
      [{ ratePerSecond: 1, burst: 0.5 }, /config\.burst must be >= 1/],
      [{ ratePerSecond: 1, key: 'cookie' }, /config\.key must match pattern/],
      [{ ratePerSecond: 1, extra: true }, /config\.extra is not a known field/],
      [{ ratePerSecond: '1', burst: 'x' }, /config\.ratePerSecond must be number; config\.burst must be number/],
    ] as const) {
      await assert.rejects(limiter(config), message);
    }
  });
});
