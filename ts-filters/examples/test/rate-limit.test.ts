import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { HookKind, HookOutcome } from '../../runtime/codes';
import { withChain } from '../../runtime/test/fake-binding';
import * as examples from '../index';

describe('rate-limit', () => {
  function limiter(config: unknown) {
    const { binding } = withChain(examples, [{ name: 'rate-limit', config }]);
    const request = (headers: Record<string, string> = {}) => {
      const s = binding.openStream(1, headers);
      return { outcome: binding.hook(s, HookKind.RequestHeaders), stream: s };
    };
    return { binding, request };
  }

  test('a key gets `burst` requests at once, then 429 with retry-after, then refills over time', () => {
    const { binding, request } = limiter({ ratePerSecond: 2, burst: 3 });
    for (let i = 0; i < 3; i++) assert.equal(request().outcome, HookOutcome.Continue);
    const limited = request();
    assert.equal(limited.outcome, HookOutcome.Replied);
    assert.deepEqual(limited.stream.localReply, {
      status: 429, headers: ['retry-after', '1'], body: 'too many requests', details: 'envoy_ts_rate_limited',
    });
    binding.nowMs += 500;  // one token back at 2 per second
    assert.equal(request().outcome, HookOutcome.Continue);
    assert.equal(request().outcome, HookOutcome.Replied);
  });

  test('keys by header when configured; every key has its own bucket', () => {
    const { request } = limiter({ ratePerSecond: 1, burst: 1, key: 'header:x-api-key' });
    assert.equal(request({ 'x-api-key': 'a' }).outcome, HookOutcome.Continue);
    assert.equal(request({ 'x-api-key': 'a' }).outcome, HookOutcome.Replied);
    assert.equal(request({ 'x-api-key': 'b' }).outcome, HookOutcome.Continue);
    assert.equal(request().outcome, HookOutcome.Continue);  // no header: the "-" key
  });

  test('counts allowed and limited requests', () => {
    const { request } = limiter({ ratePerSecond: 1, burst: 1 });
    const first = request().stream;
    const second = request().stream;
    assert.deepEqual(first.metrics.map(([index]) => index), [0]);
    assert.deepEqual(second.metrics.map(([index]) => index), [1]);
  });

  test('the config schema names each bad field', () => {
    for (const [config, message] of [
      [undefined, /config\.ratePerSecond is required/],
      [{ ratePerSecond: 0 }, /config\.ratePerSecond must be > 0/],
      [{ ratePerSecond: 1, burst: 0.5 }, /config\.burst must be >= 1/],
      [{ ratePerSecond: 1, key: 'cookie' }, /config\.key must match pattern/],
      [{ ratePerSecond: 1, extra: true }, /config\.extra is not a known field/],
      [{ ratePerSecond: '1', burst: 'x' }, /config\.ratePerSecond must be number; config\.burst must be number/],
    ] as const) {
      assert.throws(() => limiter(config), message);
    }
  });
});
