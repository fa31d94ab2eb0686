import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { defineHttpFilter } from '../../api/http-filter';
import { HookKind, HookOutcome } from '../codes';
import { RUNTIME_FAILURES_TO_REBUILD } from '../dispatcher';
import { setup, withChain } from './fake-binding';

describe('dispatcher never lets an exception reach native', () => {
  test('onHook for an unknown config fails closed and logs', () => {
    const { binding } = setup();
    const s = binding.openStream(99);
    assert.equal(binding.hook(s, HookKind.RequestHeaders), HookOutcome.Replied);
    assert.equal(s.localReply?.status, 500);
    assert.match(binding.errorLogs()[0] ?? '', /internal error in onHook: Error: onHook for unknown HTTP config 99/);
  });

  test("a worker's runtime failing again and again declares its environment broken", () => {
    const { binding } = setup();
    for (let i = 1; i < RUNTIME_FAILURES_TO_REBUILD; i++) binding.hook(binding.openStream(99), HookKind.RequestHeaders);
    assert.equal(binding.brokenReports, 0, 'a few failures are each stream\'s own');
    binding.hook(binding.openStream(99), HookKind.RequestHeaders);
    assert.equal(binding.brokenReports, 1);
    binding.hook(binding.openStream(99), HookKind.RequestHeaders);
    assert.equal(binding.brokenReports, 1, 'counting starts afresh');
  });

  test('failOpen tells the native side each config\'s policy', () => {
    const filter = defineHttpFilter({ name: 'f' });
    assert.equal(withChain([filter], [{ name: 'f' }], 'open').runtime.failOpen(1), 1);
    assert.equal(withChain([filter], [{ name: 'f' }], 'closed').runtime.failOpen(1), 0);
    assert.equal(setup().runtime.failOpen(42), 0, 'unknown: closed');
  });

  test('an unknown hook kind does not throw', () => {
    const { binding } = withChain([defineHttpFilter({ name: 'f' })], [{ name: 'f' }]);
    const s = binding.openStream(1);
    assert.equal(binding.hook(s, 7 as unknown as 0), HookOutcome.Replied);
  });

  test('a throwing binding surfaces as a filter failure, not an escape', () => {
    const f = defineHttpFilter({ name: 'f', onRequestHeaders(h) { h.get('x'); } });
    const { binding } = withChain([f], [{ name: 'f' }], 'open');
    const s = binding.openStream(1);
    binding.getHeader = () => { throw Object.assign(new Error('native broke'), { code: 'ETS_ERR_X' }); };
    assert.equal(binding.hook(s, HookKind.RequestHeaders), HookOutcome.Continue);
    assert.match(binding.errorLogs()[0] ?? '', /onRequestHeaders threw: Error \[ETS_ERR_X\]: native broke/);
  });

  test('abort listeners run synchronously inside onDestroy', () => {
    // (A listener that throws is reported by Node through process 'uncaughtException', which the
    // bootstrap (runtime/index.ts) turns into a log line instead of an exit.)
    let ran = false;
    const f = defineHttpFilter({
      name: 'f',
      onRequestHeaders(_h, ctx) { ctx.signal.addEventListener('abort', () => { ran = true; }); },
    });
    const { binding } = withChain([f], [{ name: 'f' }]);
    const s = binding.openStream(1);
    binding.hook(s, HookKind.RequestHeaders);
    assert.doesNotThrow(() => binding.destroy(s));
    assert.equal(ran, true);
  });

  test('loadConfig reports a bundle loader crash as a message', () => {
    const { runtime } = setup({ loadBundle: () => { throw new TypeError('loader bug'); } });
    assert.match(runtime.loadConfig(1, JSON.stringify({ bundle: '/x.js', chain: [{ name: 'a' }] }), 0) ?? '',
                 /internal error while loading the config: loader bug/);
  });
});

describe('which hooks reach the runtime', () => {
  test('hookMask has a bit per hook of the chain, onStreamComplete included', () => {
    const requestOnly = defineHttpFilter({ name: 'req', onRequestHeaders() {} });
    const rest = defineHttpFilter({ name: 'rest', onResponseBody() {}, onResponseTrailers() {}, onStreamComplete() {} });
    const bit = (hook: number) => 1 << hook;
    assert.equal(withChain([requestOnly], [{ name: 'req' }]).runtime.hookMask(1), bit(HookKind.RequestHeaders));
    assert.equal(withChain([requestOnly, rest], [{ name: 'req' }, { name: 'rest' }]).runtime.hookMask(1),
                 bit(HookKind.RequestHeaders) | bit(HookKind.ResponseBody) | bit(HookKind.ResponseTrailers) |
                 bit(HookKind.StreamComplete));
    assert.equal(setup().runtime.hookMask(42), 0, 'unknown config');
  });

  test('onStreamComplete reads the response headers when the chain has no response hook', () => {
    const statuses: string[] = [];
    const f = defineHttpFilter({
      name: 'f',
      onRequestHeaders() {},
      onStreamComplete(ctx) { statuses.push(ctx.responseHeaders.get(':status') ?? '-'); },
    });
    const { binding } = withChain([f], [{ name: 'f' }]);
    const s = binding.openStream(1);
    binding.hook(s, HookKind.RequestHeaders);
    // Native never called the response-headers hook (the chain has none): the completion says the
    // response had started.
    binding.setResponse(s, { ':status': '204' });
    binding.complete(s, true);
    assert.deepEqual(statuses, ['204']);
  });
});

