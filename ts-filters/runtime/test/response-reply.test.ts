import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';

import { defineHttpFilter } from '../../api/http-filter';
import { HookKind, HookOutcome } from '../codes';
import { withChain } from './fake-binding';

const { RequestHeaders: REQ, ResponseHeaders: RES } = HookKind;

/** A chain of `first` then a filter that records whether its request hook ran. */
function chainWith(first: ReturnType<typeof defineHttpFilter>) {
  const ran: string[] = [];
  const after = defineHttpFilter({ name: 'after', onRequestHeaders() { ran.push('after'); } });
  const { binding } = withChain([first, after], [{ name: first.name }, { name: 'after' }]);
  return { binding, ran };
}

describe('a hook returning a Response', () => {
  test('without a body replies at once; later request hooks are skipped', () => {
    const { binding, ran } = chainWith(defineHttpFilter({
      name: 'deny',
      onRequestHeaders: () => new Response(null, { status: 403, headers: { 'x-why': 'blocked' } }),
    }));
    const s = binding.openStream(1);
    assert.equal(binding.hook(s, REQ), HookOutcome.Replied);
    assert.deepEqual(binding.replyOf(s), { status: 403, headers: ['x-why', 'blocked'], body: '', details: 'envoy_ts_local_reply' });
    assert.deepEqual(ran, []);
  });

  test('with a body holds the stream until the body is read, then replies with it', async () => {
    const { binding, ran } = chainWith(defineHttpFilter({
      name: 'teapot',
      onRequestHeaders: () => new Response('short and stout', { status: 418 }),
    }));
    const s = binding.openStream(1);
    assert.equal(binding.hook(s, REQ), HookOutcome.Pending);
    await binding.untilResumeRequested(s);
    assert.equal(binding.resume(s), HookOutcome.Replied);
    assert.deepEqual(binding.replyOf(s), {
      status: 418, headers: ['content-type', 'text/plain;charset=UTF-8'], body: 'short and stout',
      details: 'envoy_ts_local_reply',
    });
    assert.deepEqual(ran, []);
  });

  test('from an async hook: JSON body and headers, set-cookie values kept apart, no content-length', async () => {
    const { binding } = chainWith(defineHttpFilter({
      name: 'limit',
      async onRequestHeaders() {
        await sleep(1);
        const headers = new Headers({ 'retry-after': '3', 'content-length': '999' });
        headers.append('set-cookie', 'a=1; Path=/');
        headers.append('set-cookie', 'b=2, c');
        return Response.json({ error: 'slow down', bytes: [0xe2, 0x82, 0xac] }, { status: 429, headers });
      },
    }));
    const s = binding.openStream(1);
    assert.equal(binding.hook(s, REQ), HookOutcome.Pending);
    await binding.untilResumeRequested(s);
    assert.equal(binding.resume(s), HookOutcome.Replied);
    const reply = binding.replyOf(s);
    assert.equal(reply?.status, 429);
    assert.equal(reply?.body, '{"error":"slow down","bytes":[226,130,172]}');
    assert.deepEqual(reply?.headers, ['content-type', 'application/json', 'retry-after', '3',
                                      'set-cookie', 'a=1; Path=/', 'set-cookie', 'b=2, c']);
  });

  test('binary bodies are sent as they are', async () => {
    const bytes = new Uint8Array([0x68, 0xc3, 0xa9, 0x21]);
    const { binding } = chainWith(defineHttpFilter({
      name: 'bin', onRequestHeaders: () => new Response(bytes, { status: 200 }),
    }));
    const s = binding.openStream(1);
    binding.hook(s, REQ);
    await binding.untilResumeRequested(s);
    binding.resume(s);
    assert.equal(binding.replyOf(s)?.body, 'hé!');
  });

  test('a response hook replaces the upstream response with it', async () => {
    const { binding } = chainWith(defineHttpFilter({
      name: 'mask',
      onResponseHeaders: (headers) => (headers.get(':status') === '500' ? new Response('sorry', { status: 503 }) : undefined),
    }));
    const s = binding.openStream(1);
    assert.equal(binding.hook(s, REQ), HookOutcome.Continue);
    binding.setResponse(s, { ':status': '500' });
    assert.equal(binding.hook(s, RES), HookOutcome.Pending);
    await binding.untilResumeRequested(s);
    assert.equal(binding.resume(s), HookOutcome.Replied);
    assert.equal(binding.replyOf(s)?.status, 503);
    assert.equal(binding.replyOf(s)?.body, 'sorry');
  });

  test('a Response after ctx.respond() is a failure of the filter (500, fail closed)', async () => {
    const { binding } = chainWith(defineHttpFilter({
      name: 'twice',
      async onRequestHeaders(_headers, ctx) {
        ctx.respond(401);
        return new Response(null, { status: 403 });
      },
    }));
    const s = binding.openStream(1);
    assert.equal(binding.hook(s, REQ), HookOutcome.Pending);
    await binding.untilResumeRequested(s);
    assert.equal(binding.resume(s), HookOutcome.Replied);
    assert.equal(binding.replyOf(s)?.status, 500);
  });

  test('a stream reset while the body is read gets no reply', async () => {
    const { binding } = chainWith(defineHttpFilter({
      name: 'late', onRequestHeaders: () => new Response('x'),
    }));
    const s = binding.openStream(1);
    assert.equal(binding.hook(s, REQ), HookOutcome.Pending);
    binding.destroy(s);
    await sleep(5);
    assert.equal(binding.replyOf(s), undefined);
  });
});
