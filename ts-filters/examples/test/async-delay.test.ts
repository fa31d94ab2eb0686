import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { HeaderMapKind, HookKind, HookOutcome } from '../../runtime/codes';
import { setup, withChain } from '../../runtime/test/fake-binding';
import * as examples from '../index';

describe('async-delay', () => {
  test('waits, sets x-async-delay-ms, then the chain continues', async () => {
    const { binding } = withChain(examples, [{ name: 'async-delay', config: { ms: 5 } }, { name: 'request-id' }]);
    const s = binding.openStream(1);
    const start = Date.now();
    assert.equal(binding.hook(s, HookKind.RequestHeaders), HookOutcome.Pending);
    await binding.untilResumeRequested(s);
    assert.ok(Date.now() - start >= 4);
    assert.equal(binding.resume(s), HookOutcome.Continue);
    assert.equal(binding.header(s, HeaderMapKind.RequestHeaders, 'x-async-delay-ms'), '5');
    assert.ok(binding.header(s, HeaderMapKind.RequestHeaders, 'x-request-id'));
  });

  test('a destroyed stream stops the timer quietly', async () => {
    const { binding } = withChain(examples, [{ name: 'async-delay', config: { ms: 10000 } }]);
    const s = binding.openStream(1);
    assert.equal(binding.hook(s, HookKind.RequestHeaders), HookOutcome.Pending);
    binding.destroy(s);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(binding.resumeRequests, []);
    assert.deepEqual(binding.errorLogs(), []);
  });

  test('config: default 10, range 0..10000', () => {
    const { runtime } = setup({ loadBundle: () => examples });
    const load = (cfg: unknown) =>
      runtime.loadConfig(1, JSON.stringify({ bundle: '/b.js', chain: [{ name: 'async-delay', config: cfg }] }), 0);
    assert.equal(load(undefined), undefined);
    assert.equal(load({ ms: 0 }), undefined);
    assert.match(load({ ms: 10001 }) ?? '', /^filter 'async-delay': "ms" must be a number from 0 to 10000/);
    assert.match(load({ ms: '5' }) ?? '', /"ms" must be a number/);
  });
});
