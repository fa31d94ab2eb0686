import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';

import { defineHttpFilter } from '../../api/http-filter';
import type { BodyChunk } from '../../api/types';
import { BufferKind, HeaderMapKind, HookKind, HookOutcome } from '../codes';
import { withChain } from './fake-binding';

const { RequestHeaders: REQ, ResponseHeaders: RES, RequestTrailers: REQ_TRAILERS } = HookKind;
const { Read: REQUEST, Write: RESPONSE } = BufferKind;

describe('streamed bodies', () => {
  test('each chunk reaches the body hooks in chain order; edits are what goes on', () => {
    const seen: string[] = [];
    const upper = defineHttpFilter({
      name: 'upper',
      onRequestBody(body, ctx) {
        seen.push(`upper:${body.text()}:${String(ctx.endOfStream)}`);
        body.replace(body.text().toUpperCase());
      },
    });
    const tail = defineHttpFilter({
      name: 'tail',
      onRequestBody(body) {
        seen.push(`tail:${body.text()}:${String(body.endOfStream)}`);
        if (body.endOfStream) body.append('!');
      },
    });
    const { binding } = withChain([upper, tail], [{ name: 'upper' }, { name: 'tail' }]);
    const s = binding.openStream(1, { 'content-type': 'text/plain' });
    assert.equal(binding.hook(s, REQ, false), HookOutcome.Continue);
    assert.equal(binding.body(s, REQUEST, 'ab', false), HookOutcome.Continue);
    assert.equal(binding.body(s, REQUEST, 'cd', true), HookOutcome.Continue);
    assert.deepEqual(seen, ['upper:ab:false', 'tail:AB:false', 'upper:cd:true', 'tail:CD:true']);
    assert.equal(s.passed[REQUEST], 'ABCD!');
  });

  test('chunk views, drain and prepend; a chunk is unusable after its hook', () => {
    let kept: BodyChunk | undefined;
    const f = defineHttpFilter({
      name: 'f',
      onResponseBody(body) {
        assert.equal(body.length, 6);
        assert.deepEqual(body.chunks().map((c) => Buffer.from(c).toString()), ['abcdef']);
        assert.equal(body.bytes(1, -1).length, 4);
        body.drain(2);
        body.prepend('>');
        kept = body;
      },
    });
    const { binding } = withChain([f], [{ name: 'f' }]);
    const s = binding.openStream(1);
    binding.hook(s, REQ);
    binding.setResponse(s, { ':status': '200' });
    binding.hook(s, RES, false);
    assert.equal(binding.body(s, RESPONSE, 'abcdef', true), HookOutcome.Continue);
    assert.equal(s.passed[RESPONSE], '>cdef');
    assert.throws(() => kept?.text(), { code: 'ETS_ERR_INVALID_STATE' });
  });

  test('an awaiting body hook holds the direction; bytes that arrive meanwhile are the next chunk', async () => {
    const seen: string[] = [];
    const slow = defineHttpFilter({
      name: 'slow',
      onRequestBody(body) {
        seen.push(`slow:${body.text()}`);
        // The chunk stays usable while its hook's promise is pending.
        if (body.text() === 'one') return sleep(5).then(() => body.append('.'));
        body.append('.');
        return undefined;
      },
    });
    const after = defineHttpFilter({
      name: 'after',
      onRequestBody(body) {
        seen.push(`after:${body.text()}:${String(body.endOfStream)}`);
        body.replace(`[${body.text()}]`);
      },
    });
    const { binding } = withChain([slow, after], [{ name: 'slow' }, { name: 'after' }]);
    const s = binding.openStream(1);
    binding.hook(s, REQ, false);
    assert.equal(binding.body(s, REQUEST, 'one', false), HookOutcome.Pending);
    assert.equal(binding.body(s, REQUEST, 'two', true), HookOutcome.Pending);
    assert.deepEqual(seen, ['slow:one']);
    await binding.untilResumeRequested(s);
    assert.equal(binding.resume(s), HookOutcome.Continue);
    binding.passOn(s, REQUEST);
    // Each filter saw each byte once, in order; edits of the first chunk stayed in front.
    assert.deepEqual(seen, ['slow:one', 'after:one.:false', 'slow:two', 'after:two.:true']);
    assert.equal(s.passed[REQUEST], '[one.][two.]');
  });
});

describe('whole bodies', () => {
  test('await ctx.requestBody.json() in onRequestHeaders holds the request until the body is complete', async () => {
    const order: string[] = [];
    const rewrite = defineHttpFilter({
      name: 'rewrite',
      async onRequestHeaders(headers, ctx) {
        const body = await ctx.requestBody.json<{ user: string }>();
        order.push(`json:${body.user}`);
        headers.set('x-user', body.user);
        ctx.requestBody.replaceJson({ user: body.user, checked: true });
      },
    });
    const streamed = defineHttpFilter({
      name: 'streamed',
      onRequestBody(body) { order.push(`chunk:${body.text()}:${String(body.endOfStream)}`); },
    });
    const { binding } = withChain([rewrite, streamed], [{ name: 'rewrite' }, { name: 'streamed' }]);
    const s = binding.openStream(1, { 'content-length': '14' });
    assert.equal(binding.hook(s, REQ, false), HookOutcome.Pending);
    assert.equal(binding.body(s, REQUEST, '{"user":', false), HookOutcome.Pending);
    assert.equal(s.wholeBody[REQUEST], true, 'Envoy buffers the body (413 over the limit)');
    assert.deepEqual(order, []);
    // The last chunk completes the read; the hook settles and the request goes on.
    assert.equal(binding.body(s, REQUEST, '"ann"}', true), HookOutcome.Pending);
    await binding.untilResumeRequested(s);
    assert.equal(binding.resume(s), HookOutcome.Continue);
    binding.passOn(s, REQUEST);
    const replaced = '{"user":"ann","checked":true}';
    assert.deepEqual(order, ['json:ann', `chunk:${replaced}:true`]);
    assert.equal(s.passed[REQUEST], replaced);
    assert.equal(binding.header(s, HeaderMapKind.RequestHeaders, 'content-length'), String(replaced.length));
    assert.equal(binding.header(s, HeaderMapKind.RequestHeaders, 'x-user'), 'ann');
  });

  test('trailers complete the body; their hooks run after the held body', async () => {
    const order: string[] = [];
    const f = defineHttpFilter({
      name: 'f',
      async onRequestHeaders(_headers, ctx) { order.push(`body:${await ctx.requestBody.text()}`); },
      onRequestBody(body) { order.push(`chunk:${body.text()}:${String(body.endOfStream)}`); },
      onRequestTrailers(trailers) { order.push(`trailers:${trailers.get('x-sum') ?? ''}`); },
    });
    const { binding } = withChain([f], [{ name: 'f' }]);
    const s = binding.openStream(1);
    binding.hook(s, REQ, false);
    binding.body(s, REQUEST, 'abc', false);
    s.maps[HeaderMapKind.RequestTrailers] = [['x-sum', '42']];
    assert.equal(binding.hook(s, REQ_TRAILERS), HookOutcome.Pending);
    await binding.untilResumeRequested(s);
    assert.equal(binding.resume(s), HookOutcome.Continue);
    binding.passOn(s, REQUEST);
    assert.deepEqual(order, ['body:abc', 'chunk:abc:false', 'trailers:42']);
    assert.equal(s.passed[REQUEST], 'abc');
  });

  test('a message without a body reads as empty; the response body only in the response phase', async () => {
    let early: unknown;
    const f = defineHttpFilter({
      name: 'f',
      async onRequestHeaders(headers, ctx) {
        early = await ctx.responseBody.bytes().catch((error: unknown) => error);
        headers.set('x-len', String((await ctx.requestBody.bytes()).length));
      },
      async onResponseHeaders(headers, ctx) {
        headers.set('x-body', await ctx.responseBody.text());
      },
    });
    const { binding } = withChain([f], [{ name: 'f' }]);
    const s = binding.openStream(1);
    binding.hook(s, REQ, true);
    await binding.untilResumeRequested(s);
    assert.equal(binding.resume(s), HookOutcome.Continue);
    assert.equal(binding.header(s, HeaderMapKind.RequestHeaders, 'x-len'), '0');
    assert.equal((early as { code?: string }).code, 'ETS_ERR_INVALID_STATE');
    binding.setResponse(s, { ':status': '200' });
    assert.equal(binding.hook(s, RES, false), HookOutcome.Pending);
    assert.equal(binding.body(s, RESPONSE, 'hello', true), HookOutcome.Pending);
    await binding.untilResumeRequested(s);
    assert.equal(binding.resume(s), HookOutcome.Continue);
    assert.equal(binding.header(s, HeaderMapKind.ResponseHeaders, 'x-body'), 'hello');
  });

  test('reading after body bytes flowed on, or letting the direction go first, rejects', async () => {
    const errors: string[] = [];
    const late = defineHttpFilter({
      name: 'late',
      onRequestHeaders(_headers, ctx) {
        // Not awaited: the hook returns and the request goes on without its body.
        ctx.requestBody.bytes().catch((error: { code: string }) => errors.push(`early:${error.code}`));
      },
      onRequestBody(_body, ctx) {
        ctx.requestBody.bytes().catch((error: { code: string }) => errors.push(`flowed:${error.code}`));
      },
    });
    const { binding } = withChain([late], [{ name: 'late' }]);
    const s = binding.openStream(1);
    assert.equal(binding.hook(s, REQ, false), HookOutcome.Continue);
    assert.equal(binding.body(s, REQUEST, 'a', false), HookOutcome.Continue);
    assert.equal(binding.body(s, REQUEST, 'b', true), HookOutcome.Continue);
    await sleep(0);
    // The first chunk's read was let go unfinished; the second came after bytes flowed on.
    assert.deepEqual(errors, ['early:ETS_ERR_INVALID_STATE', 'flowed:ETS_ERR_INVALID_STATE',
                              'flowed:ETS_ERR_INVALID_STATE']);
    assert.equal(s.passed[REQUEST], 'ab');
  });

  test('a body already over the buffer limit when read rejects; replace() needs a whole read', async () => {
    const outcome: string[] = [];
    const f = defineHttpFilter({
      name: 'f',
      async onRequestHeaders(_headers, ctx) {
        assert.throws(() => ctx.requestBody.replace('x'), { code: 'ETS_ERR_INVALID_STATE' });
        await sleep(1);
        await ctx.requestBody.bytes().catch((error: Error) => outcome.push(error.message));
      },
    });
    const { binding } = withChain([f], [{ name: 'f' }]);
    const s = binding.openStream(1);
    s.bufferLimit = 4;
    binding.hook(s, REQ, false);
    binding.body(s, REQUEST, 'too long', false);
    await binding.untilResumeRequested(s);
    assert.match(outcome[0] ?? '', /exceeded the buffer limit/);
  });

  test('the stream closing rejects a waiting read with StreamClosedError', async () => {
    let error: unknown;
    const f = defineHttpFilter({
      name: 'f',
      async onRequestHeaders(_headers, ctx) {
        try { await ctx.requestBody.bytes(); } catch (e) { error = e; }
      },
    });
    const { binding } = withChain([f], [{ name: 'f' }]);
    const s = binding.openStream(1);
    binding.hook(s, REQ, false);
    binding.destroy(s);
    await sleep(0);
    assert.equal((error as { code?: string }).code, 'ETS_ERR_STREAM_CLOSED');
  });
});
