import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';

import { defineHttpFilter } from '../../api/http-filter';
import { HookKind, HookOutcome } from '../codes';
import { withChain } from './fake-binding';

const { RequestHeaders: REQ, ResponseHeaders: RES } = HookKind;

function chainAround(bad: { readonly name: string }, order: string[]) {
  const mark = (name: string) => defineHttpFilter({
    name,
    onRequestHeaders() { order.push(`req:${name}`); },
    onResponseHeaders() { order.push(`res:${name}`); },
  });
  return { filters: [mark('before'), bad, mark('after')], chain: [{ name: 'before' }, { name: bad.name }, { name: 'after' }] };
}

const throws = defineHttpFilter({ name: 'throws', onRequestHeaders() { throw new Error('kaboom'); } });
const rejects = defineHttpFilter({
  name: 'rejects',
  async onRequestHeaders() { await sleep(1); throw new Error('late kaboom'); },
});
const throwsOnResponse = defineHttpFilter({
  name: 'throws-on-response',
  onResponseHeaders() { throw new Error('response kaboom'); },
});

describe('failure policy', () => {
  test('closed + throw on request: 500 internal error, logged with name and stack, stream poisoned', () => {
    const order: string[] = [];
    const { filters, chain } = chainAround(throws, order);
    const { binding } = withChain(filters, chain, 'closed');
    const s = binding.openStream(1);
    assert.equal(binding.hook(s, REQ), HookOutcome.Replied);
    assert.deepEqual(s.localReply, { status: 500, headers: [], body: 'internal error', details: 'envoy_ts_filter_failed' });
    const [line, ...rest] = binding.errorLogs();
    assert.equal(rest.length, 0);
    assert.match(line ?? '', /^\[envoy-ts\]\[filter=throws\] onRequestHeaders threw: Error: kaboom\n\s+at /);
    // The reply's response phase: poisoned, so no hook runs.
    assert.equal(binding.hook(s, RES), HookOutcome.Continue);
    assert.deepEqual(order, ['req:before']);
  });

  test('open + throw on request: logged, the next filter runs, later hooks do not', () => {
    const order: string[] = [];
    const { filters, chain } = chainAround(throws, order);
    const { binding } = withChain(filters, chain, 'open');
    const s = binding.openStream(1);
    assert.equal(binding.hook(s, REQ), HookOutcome.Continue);
    assert.equal(s.localReply, undefined);
    assert.equal(binding.errorLogs().length, 1);
    binding.setResponse(s, { ':status': '200' });
    assert.equal(binding.hook(s, RES), HookOutcome.Continue);
    assert.deepEqual(order, ['req:before', 'req:after']);
  });

  test('closed + rejection: 500 from onResume', async () => {
    const order: string[] = [];
    const { filters, chain } = chainAround(rejects, order);
    const { binding } = withChain(filters, chain, 'closed');
    const s = binding.openStream(1);
    assert.equal(binding.hook(s, REQ), HookOutcome.Pending);
    await binding.untilResumeRequested(s);
    assert.equal(binding.resume(s), HookOutcome.Replied);
    assert.equal(binding.replyOf(s)?.status, 500);
    assert.match(binding.errorLogs()[0] ?? '', /^\[envoy-ts\]\[filter=rejects\] onRequestHeaders rejected: Error: late kaboom/);
    assert.deepEqual(order, ['req:before']);
  });

  test('open + rejection: continues with the next filter from onResume', async () => {
    const order: string[] = [];
    const { filters, chain } = chainAround(rejects, order);
    const { binding } = withChain(filters, chain, 'open');
    const s = binding.openStream(1);
    assert.equal(binding.hook(s, REQ), HookOutcome.Pending);
    await binding.untilResumeRequested(s);
    assert.equal(binding.resume(s), HookOutcome.Continue);
    assert.equal(binding.replyOf(s), undefined);
    assert.deepEqual(order, ['req:before', 'req:after']);
  });

  test('closed + throw on response: 500 local reply, earlier response hooks skipped', () => {
    const order: string[] = [];
    const { filters, chain } = chainAround(throwsOnResponse, order);
    const { binding } = withChain(filters, chain, 'closed');
    const s = binding.openStream(1);
    binding.hook(s, REQ);
    binding.setResponse(s, { ':status': '200' });
    assert.equal(binding.hook(s, RES), HookOutcome.Replied);
    assert.equal(s.localReply?.status, 500);
    assert.match(binding.errorLogs()[0] ?? '', /\[filter=throws-on-response\] onResponseHeaders threw: Error: response kaboom/);
    assert.deepEqual(order, ['req:before', 'req:after', 'res:after']);
  });

  test('open + throw on response: continues with the next response hook', () => {
    const order: string[] = [];
    const { filters, chain } = chainAround(throwsOnResponse, order);
    const { binding } = withChain(filters, chain, 'open');
    const s = binding.openStream(1);
    binding.hook(s, REQ);
    binding.setResponse(s, { ':status': '200' });
    assert.equal(binding.hook(s, RES), HookOutcome.Continue);
    assert.equal(s.localReply, undefined);
    assert.deepEqual(order, ['req:before', 'req:after', 'res:after', 'res:before']);
  });

  test('closed + throw while encoding our own local reply: that reply goes on', () => {
    const deny = defineHttpFilter({ name: 'deny', onRequestHeaders(_h, ctx) { ctx.respond(401); } });
    const { binding } = withChain([throwsOnResponse, deny], [{ name: 'throws-on-response' }, { name: 'deny' }]);
    const s = binding.openStream(1);
    assert.equal(binding.hook(s, REQ), HookOutcome.Replied);
    assert.equal(binding.hook(s, RES), HookOutcome.Continue);
    assert.equal(s.localReply?.status, 401);
    assert.equal(binding.errorLogs().length, 1);
  });

  test('a throw after respond() discards the reply: the policy applies', () => {
    const f = defineHttpFilter({
      name: 'f',
      onRequestHeaders(_h, ctx) { ctx.respond(403); throw new Error('after respond'); },
    });
    const { binding } = withChain([f], [{ name: 'f' }]);
    const s = binding.openStream(1);
    assert.equal(binding.hook(s, REQ), HookOutcome.Replied);
    assert.equal(s.localReply?.status, 500);
  });

  test('a thrown non-Error is logged too', () => {
    const f = defineHttpFilter({ name: 'f', onRequestHeaders() { throw { weird: true }; } });
    const { binding } = withChain([f], [{ name: 'f' }]);
    const s = binding.openStream(1);
    assert.equal(binding.hook(s, REQ), HookOutcome.Replied);
    assert.match(binding.errorLogs()[0] ?? '', /onRequestHeaders threw: \{ weird: true \}/);
  });

  test('a promise pending past asyncTimeoutMs: the policy applies, ctx.signal aborts, it is counted', async () => {
    let signal: AbortSignal | undefined;
    const hangs = defineHttpFilter({
      name: 'hangs',
      onRequestHeaders(_h, ctx) {
        signal = ctx.signal;
        return new Promise<void>(() => undefined);
      },
    });
    const { binding, runtime } = withChain([hangs], [{ name: 'hangs', asyncTimeoutMs: 20 }]);
    const s = binding.openStream(1);
    assert.equal(binding.hook(s, REQ), HookOutcome.Pending);
    await binding.untilResumeRequested(s);
    assert.equal(signal?.aborted, true);
    assert.equal((signal?.reason as { code?: string }).code, 'ETS_ERR_TIMEOUT');
    assert.equal(binding.resume(s), HookOutcome.Replied);
    assert.equal(binding.replyOf(s)?.status, 500);
    assert.match(binding.errorLogs()[0] ?? '',
                 /^\[envoy-ts\]\[filter=hangs\] onRequestHeaders rejected: TimeoutError \[ETS_ERR_TIMEOUT\]: onRequestHeaders's promise did not settle within 20 ms/);
    const names = runtime.describeMetrics(1).filter((_, i) => i % 3 === 0);
    const counted = s.metrics.map(([index]) => names[index as number]).filter((name) => !name?.endsWith('pending'));
    assert.deepEqual(counted.sort(), ['envoy_ts.async_timeouts', 'envoy_ts.filter_failures']);
  });

  test('a promise that settles in time is not timed out; asyncTimeoutMs 0 never times out', async () => {
    const quick = defineHttpFilter({ name: 'quick', async onRequestHeaders() { await sleep(1); } });
    const { binding } = withChain([quick], [{ name: 'quick', asyncTimeoutMs: 0 }]);
    const s = binding.openStream(1);
    assert.equal(binding.hook(s, REQ), HookOutcome.Pending);
    await binding.untilResumeRequested(s);
    assert.equal(binding.resume(s), HookOutcome.Continue);
    assert.deepEqual(binding.errorLogs(), []);
  });
});
