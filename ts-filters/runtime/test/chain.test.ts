import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';

import { defineHttpFilter } from '../../api/http-filter';
import { HeaderMapKind, HookKind, HookOutcome } from '../codes';
import { withChain } from './fake-binding';

const { RequestHeaders: REQ, ResponseHeaders: RES } = HookKind;

function recorder(order: string[], name: string) {
  return defineHttpFilter({
    name,
    onRequestHeaders() { order.push(`req:${name}`); },
    onResponseHeaders() { order.push(`res:${name}`); },
  });
}

describe('chain', () => {
  test('request hooks run in order, response hooks in reverse', () => {
    const order: string[] = [];
    const filters = ['a', 'b', 'c'].map((n) => recorder(order, n));
    const { binding } = withChain(filters, [{ name: 'a' }, { name: 'b' }, { name: 'c' }]);
    const s = binding.openStream(1);
    assert.equal(binding.hook(s, REQ), HookOutcome.Continue);
    binding.setResponse(s, { ':status': '200' });
    assert.equal(binding.hook(s, RES), HookOutcome.Continue);
    assert.deepEqual(order, ['req:a', 'req:b', 'req:c', 'res:c', 'res:b', 'res:a']);
  });

  test('sync hooks continue and write headers; ctx exposes config, name, endOfStream', () => {
    const seen: unknown[] = [];
    const f = defineHttpFilter<{ v: string }>({
      name: 'f',
      onRequestHeaders(headers, ctx) {
        seen.push(ctx.config, ctx.filterName, ctx.endOfStream);
        assert.throws(() => ctx.responseHeaders, { code: 'ETS_ERR_INVALID_STATE' });
        headers.set('x-v', ctx.config.v);
      },
      onResponseHeaders(headers, ctx) {
        headers.set('x-req', ctx.requestHeaders.get('x-v') ?? 'none');
        assert.equal(ctx.responseHeaders, headers);
      },
    });
    const { binding } = withChain([f], [{ name: 'f', config: { v: 'yes' } }]);
    const s = binding.openStream(1);
    assert.equal(binding.hook(s, REQ, false), HookOutcome.Continue);
    assert.deepEqual(seen, [{ v: 'yes' }, 'f', false]);
    assert.equal(binding.header(s, HeaderMapKind.RequestHeaders, 'x-v'), 'yes');
    binding.hook(s, RES);
    assert.equal(binding.header(s, HeaderMapKind.ResponseHeaders, 'x-req'), 'yes');
  });

  test('async: Pending → requestResume → onResume continues with the next filter', async () => {
    const order: string[] = [];
    const slow = defineHttpFilter({
      name: 'slow',
      async onRequestHeaders(headers) {
        order.push('slow:start');
        await sleep(5);
        headers.set('x-slow', 'done');
        order.push('slow:end');
      },
    });
    const { binding } = withChain([recorder(order, 'a'), slow, recorder(order, 'c')],
                                  [{ name: 'a' }, { name: 'slow' }, { name: 'c' }]);
    const s = binding.openStream(1);
    assert.equal(binding.hook(s, REQ), HookOutcome.Pending);
    assert.deepEqual(order, ['req:a', 'slow:start']);
    await binding.untilResumeRequested(s);
    assert.equal(binding.resume(s), HookOutcome.Continue);
    assert.deepEqual(order, ['req:a', 'slow:start', 'slow:end', 'req:c']);
    assert.equal(binding.header(s, HeaderMapKind.RequestHeaders, 'x-slow'), 'done');
  });

  test('async twice in one chain goes Pending again from onResume', async () => {
    const wait = (name: string) => defineHttpFilter({ name, async onRequestHeaders() { await sleep(1); } });
    const { binding } = withChain([wait('w1'), wait('w2')], [{ name: 'w1' }, { name: 'w2' }]);
    const s = binding.openStream(1);
    assert.equal(binding.hook(s, REQ), HookOutcome.Pending);
    await binding.untilResumeRequested(s);
    assert.equal(binding.resume(s), HookOutcome.Pending);
    await binding.untilResumeRequested(s);
    assert.equal(binding.resume(s), HookOutcome.Continue);
  });

  test('a spurious onResume changes nothing', () => {
    const { binding } = withChain([recorder([], 'a')], [{ name: 'a' }]);
    const s = binding.openStream(1);
    binding.hook(s, REQ);
    assert.equal(binding.resume(s), HookOutcome.Pending);
  });

  test('respond() synchronously: Replied, later request hooks skipped, response hooks still run', () => {
    const order: string[] = [];
    const deny = defineHttpFilter({
      name: 'deny',
      onRequestHeaders(_h, ctx) {
        order.push('req:deny');
        ctx.respond(401, { headers: [['www-authenticate', 'Token'], ['x-a', '1'], ['x-a', '2']], body: 'no' });
        assert.throws(() => ctx.respond(402), { code: 'ETS_ERR_INVALID_STATE' });
      },
    });
    const { binding } = withChain([recorder(order, 'a'), deny, recorder(order, 'c')],
                                  [{ name: 'a' }, { name: 'deny' }, { name: 'c' }]);
    const s = binding.openStream(1);
    assert.equal(binding.hook(s, REQ), HookOutcome.Replied);
    assert.deepEqual(s.localReply, {
      status: 401, headers: ['www-authenticate', 'Token', 'x-a', '1', 'x-a', '2'], body: 'no',
      details: 'envoy_ts_local_reply',
    });
    // Envoy encodes the local reply through the filter chain: response hooks run normally.
    assert.equal(binding.hook(s, RES), HookOutcome.Continue);
    assert.deepEqual(order, ['req:a', 'req:deny', 'res:c', 'res:a']);
  });

  test('respond() after await is sent from onResume only', async () => {
    const order: string[] = [];
    const late = defineHttpFilter({
      name: 'late',
      async onRequestHeaders(_h, ctx) {
        await sleep(2);
        ctx.respond(403, { body: 'forbidden', details: 'late_denied' });
      },
    });
    const { binding } = withChain([late, recorder(order, 'c')], [{ name: 'late' }, { name: 'c' }]);
    const s = binding.openStream(1);
    assert.equal(binding.hook(s, REQ), HookOutcome.Pending);
    await binding.untilResumeRequested(s);
    assert.equal(binding.replyOf(s), undefined);
    // Nothing but the built-in pending-hooks gauge and the resume request before onResume.
    assert.deepEqual(binding.callsFor(s), ['metric', 'requestResume']);
    assert.equal(binding.resume(s), HookOutcome.Replied);
    assert.equal(binding.replyOf(s)?.status, 403);
    assert.equal(binding.replyOf(s)?.details, 'late_denied');
    assert.deepEqual(order, []);
  });

  test('respond() in the response phase stops later response hooks', () => {
    const order: string[] = [];
    const f = defineHttpFilter({
      name: 'f',
      onResponseHeaders(_h, ctx) { order.push('res:f'); ctx.respond(502); },
    });
    const { binding } = withChain([recorder(order, 'a'), f], [{ name: 'a' }, { name: 'f' }]);
    const s = binding.openStream(1);
    binding.hook(s, REQ);
    binding.setResponse(s, { ':status': '200' });
    assert.equal(binding.hook(s, RES), HookOutcome.Replied);
    assert.deepEqual(order, ['req:a', 'res:f']);
  });

  test('respond() validates its input', () => {
    const errors: unknown[] = [];
    const f = defineHttpFilter({
      name: 'f',
      onRequestHeaders(_h, ctx) {
        for (const call of [
          () => ctx.respond(101), () => ctx.respond(600), () => ctx.respond(200.5),
          () => ctx.respond(400, { headers: { 'x-a': 'a\r\nset-cookie: x' } }),
          () => ctx.respond(400, { headers: { 'bad name': 'v' } }),
          () => ctx.respond(400, { headers: { ':status': '200' } }),
          () => ctx.respond(400, { details: 'has space' }),
        ]) {
          try { call(); } catch (error) { errors.push(error); }
        }
      },
    });
    const { binding } = withChain([f], [{ name: 'f' }]);
    const s = binding.openStream(1);
    assert.equal(binding.hook(s, REQ), HookOutcome.Continue);
    assert.equal(errors.length, 7);
    assert.ok(errors.slice(0, 3).every((e) => e instanceof RangeError));
    assert.ok(errors.slice(3).every((e) => e instanceof TypeError));
  });

  test('respond() outside any hook throws NotInHookError', () => {
    let saved: { respond(status: number): void } | undefined;
    const f = defineHttpFilter({ name: 'f', onRequestHeaders(_h, ctx) { saved = ctx; } });
    const { binding } = withChain([f], [{ name: 'f' }]);
    const s = binding.openStream(1);
    binding.hook(s, REQ);
    assert.throws(() => saved?.respond(400), { code: 'ETS_ERR_NOT_IN_HOOK' });
  });

  test('a response hook while a request hook is pending supersedes it', async () => {
    const f = defineHttpFilter({ name: 'f', async onRequestHeaders() { await sleep(2); } });
    const { binding } = withChain([f], [{ name: 'f' }]);
    const s = binding.openStream(1);
    assert.equal(binding.hook(s, REQ), HookOutcome.Pending);
    binding.setResponse(s, { ':status': '504' });  // e.g. Envoy's request timeout
    assert.equal(binding.hook(s, RES), HookOutcome.Continue);
    await sleep(10);
    assert.deepEqual(binding.resumeRequests, []);
  });
});
