import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';

import { isEnvoyTsError } from '../../api/errors';
import { defineHttpFilter } from '../../api/http-filter';
import type { HttpFilterContext } from '../../api/types';
import { HookKind, HookOutcome } from '../codes';
import { withChain } from './fake-binding';

const REQ = HookKind.RequestHeaders;

describe('stream lifecycle', () => {
  test('destroy while pending: signal aborted, nothing reaches the binding afterwards', async () => {
    let ctxSeen: HttpFilterContext | undefined;
    let abortReason: unknown;
    let afterAwait: unknown;
    const f = defineHttpFilter({
      name: 'f',
      async onRequestHeaders(headers, ctx) {
        ctxSeen = ctx;
        ctx.signal.addEventListener('abort', () => { abortReason = ctx.signal.reason; });
        await sleep(5);
        try {
          headers.set('x-late', '1');
        } catch (error) {
          afterAwait = error;
        }
        ctx.respond(403);  // throws StreamClosedError: the rejection is dropped quietly
      },
    });
    const { binding, runtime } = withChain([f], [{ name: 'f' }]);
    const s = binding.openStream(1);
    assert.equal(binding.hook(s, REQ), HookOutcome.Pending);
    const callsBefore = binding.calls.length;
    binding.destroy(s);
    assert.equal(ctxSeen?.signal.aborted, true);
    assert.ok(isEnvoyTsError(abortReason, 'ETS_ERR_STREAM_CLOSED'));
    await sleep(20);
    assert.ok(isEnvoyTsError(afterAwait, 'ETS_ERR_STREAM_CLOSED'));
    assert.equal(binding.calls.length, callsBefore);
    assert.deepEqual(binding.resumeRequests, []);
    assert.deepEqual(binding.errorLogs(), []);
    assert.equal(runtime.streamCount(), 0);
    // A late onResume for the dead stream is harmless.
    assert.equal(binding.resume(s), HookOutcome.Continue);
  });

  test('signal asked for after destroy is already aborted', () => {
    let ctxSeen: HttpFilterContext | undefined;
    const f = defineHttpFilter({ name: 'f', onRequestHeaders(_h, ctx) { ctxSeen = ctx; } });
    const { binding } = withChain([f], [{ name: 'f' }]);
    const s = binding.openStream(1);
    binding.hook(s, REQ);
    binding.destroy(s);
    assert.equal(ctxSeen?.signal.aborted, true);
    assert.throws(() => ctxSeen?.requestHeaders.get('a'), { code: 'ETS_ERR_STREAM_CLOSED' });
  });

  test('a new generation in a slot gets fresh state; the stale one is closed', () => {
    const contexts: HttpFilterContext[] = [];
    const f = defineHttpFilter({ name: 'f', onRequestHeaders(_h, ctx) { contexts.push(ctx); } });
    const { binding, runtime } = withChain([f], [{ name: 'f' }]);
    const s = binding.openStream(1);
    binding.hook(s, REQ);
    // Same slot, next generation, without onDestroy for the first.
    const again = { ...s, gen: s.gen + 100 };
    binding.hook(again, REQ);
    assert.equal(contexts.length, 2);
    assert.notEqual(contexts[0], contexts[1]);
    assert.equal(contexts[0]?.signal.aborted, true);
    assert.equal(runtime.streamCount(), 1);
  });

  test('contexts and header maps are reused per stream', () => {
    const seen: unknown[] = [];
    const f = defineHttpFilter({
      name: 'f',
      onRequestHeaders(headers, ctx) { seen.push(headers, ctx); },
      onResponseHeaders(_headers, ctx) { seen.push(ctx.requestHeaders, ctx); },
    });
    const { binding } = withChain([f], [{ name: 'f' }]);
    const s = binding.openStream(1);
    binding.hook(s, REQ);
    binding.hook(s, HookKind.ResponseHeaders);
    assert.equal(seen[0], seen[2]);
    assert.equal(seen[1], seen[3]);
  });
});

describe('what waits for a stream\'s end', () => {
  test('the native side is asked to report the end once, when something first waits for it', () => {
    let ctxSeen: HttpFilterContext | undefined;
    const f = defineHttpFilter({ name: 'f', onRequestHeaders(_h, ctx) { ctxSeen = ctx; } });
    const { binding } = withChain([f], [{ name: 'f' }]);
    const s = binding.openStream(1);
    binding.hook(s, REQ);
    assert.equal(s.endWanted, false, 'a stream nothing waits on ends without a call into the runtime');
    void ctxSeen?.signal;
    assert.equal(s.endWanted, true);
    const calls = binding.calls.length;
    void ctxSeen?.signal;
    assert.equal(binding.calls.length, calls);
  });

  test('a pending fetch waits for the end', async () => {
    const f = defineHttpFilter({
      name: 'f',
      async onRequestHeaders(_h, ctx) { await ctx.fetch('http://authz/check'); },
    });
    const { binding } = withChain([f], [{ name: 'f' }]);
    const s = binding.openStream(1);
    assert.equal(binding.hook(s, REQ), HookOutcome.Pending);
    assert.equal(s.endWanted, true);
  });

  test('a signal asked for after the stream ended unheard is already aborted', () => {
    let ctxSeen: HttpFilterContext | undefined;
    const f = defineHttpFilter({ name: 'f', onRequestHeaders(_h, ctx) { ctxSeen = ctx; } });
    const { binding } = withChain([f], [{ name: 'f' }]);
    const s = binding.openStream(1);
    binding.hook(s, REQ);
    binding.endUnheard(s);
    assert.equal(ctxSeen?.signal.aborted, true);
    assert.ok(isEnvoyTsError(ctxSeen?.signal.reason, 'ETS_ERR_STREAM_CLOSED'));
    assert.throws(() => ctxSeen?.setMetadata('ns', 'k', 'v'), /the stream is closed/);
  });

  test('a stream that ended unheard is dropped when its slot serves the next stream', () => {
    const seen: HttpFilterContext[] = [];
    const f = defineHttpFilter({ name: 'f', onRequestHeaders(_h, ctx) { seen.push(ctx); } });
    const { binding, runtime } = withChain([f], [{ name: 'f' }]);
    const s = binding.openStream(1);
    binding.hook(s, REQ);
    binding.endUnheard(s);
    assert.equal(runtime.streamCount(), 1);
    // Native hands the slot to a new stream (a new generation).
    assert.equal(runtime.onHook(1, s.slot, s.gen + 1, REQ, 0, 0), HookOutcome.Continue);
    assert.equal(runtime.streamCount(), 1);
    assert.throws(() => seen[0]?.setMetadata('ns', 'k', 'v'), /the stream is closed/);
  });
});
