import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { defineHttpFilter } from '../../api/http-filter';
import { HookKind, HookOutcome } from '../codes';
import { withChain } from './fake-binding';

describe('ctx.fetch', () => {
  test('builds the callout from the URL and init, and resolves with a standard Response', async () => {
    let seen: unknown[] = [];
    const f = defineHttpFilter({
      name: 'f',
      async onRequestHeaders(headers, ctx) {
        const response = await ctx.fetch('http://authz:8080/check?u=1', {
          method: 'post', headers: { 'x-user': 'alice', host: 'authz.internal' }, body: '{"a":1}', timeoutMs: 250,
        });
        seen = [response.status, response.headers.get('content-type'), await response.json()];
        headers.set('x-decision', String(seen[2] && (seen[2] as { allow: boolean }).allow));
      },
    });
    const { binding } = withChain([f], [{ name: 'f' }]);
    const s = binding.openStream(1);
    assert.equal(binding.hook(s, HookKind.RequestHeaders), HookOutcome.Pending);
    const [callout] = binding.callouts;
    assert.deepEqual(callout, {
      slot: s.slot, gen: s.gen, id: 1, cluster: 'authz', timeoutMs: 250, body: '{"a":1}',
      headers: [':method', 'POST', ':path', '/check?u=1', 'x-user', 'alice', 'host', 'authz.internal'],
    });
    binding.answerCallout(s, 1, 0, { ':status': '200', 'content-type': 'application/json' }, '{"allow":true}');
    await binding.untilResumeRequested(s);
    assert.equal(binding.resume(s), HookOutcome.Continue);
    assert.deepEqual(seen, [200, 'application/json', { allow: true }]);
    assert.equal(binding.header(s, 0, 'x-decision'), 'true');
  });

  test('the Response reads as a standard one: headers without pseudo-headers, a 204 without a body', async () => {
    const seen: unknown[] = [];
    const f = defineHttpFilter({
      name: 'f',
      async onRequestHeaders(_headers, ctx) {
        const response = await ctx.fetch('http://authz/check');
        seen.push(response.ok, [...response.headers], response.body, await response.text());
      },
    });
    const { binding } = withChain([f], [{ name: 'f' }]);
    const s = binding.openStream(1);
    binding.hook(s, HookKind.RequestHeaders);
    binding.answerCallout(s, 1, 0, { ':status': '204', 'X-Trace': 'abc', 'cache-control': 'no-store' }, '');
    await binding.untilResumeRequested(s);
    assert.deepEqual(seen, [true, [['cache-control', 'no-store'], ['x-trace', 'abc']], null, '']);
  });

  test('a fetched response a hook returns is the local reply: its status, headers and body', async () => {
    const f = defineHttpFilter({ name: 'f', onRequestHeaders: (_headers, ctx) => ctx.fetch('http://origin/page') });
    const { binding } = withChain([f], [{ name: 'f' }]);
    const s = binding.openStream(1);
    assert.equal(binding.hook(s, HookKind.RequestHeaders), HookOutcome.Pending);
    binding.answerCallout(s, 1, 0, { ':status': '404', 'content-type': 'text/html', 'content-length': '9' }, 'not found');
    await binding.untilResumeRequested(s);
    assert.equal(binding.resume(s), HookOutcome.Replied);
    assert.deepEqual(binding.replyOf(s), {
      status: 404, headers: ['content-type', 'text/html'], body: 'not found', details: 'envoy_ts_local_reply',
    });
  });

  test('a buffered fetch has no trailers to give: asking for them rejects, saying how to get them', async () => {
    let failure: unknown;
    const f = defineHttpFilter({
      name: 'f',
      async onRequestHeaders(_headers, ctx) {
        const response = await ctx.fetch('http://authz/check');
        failure = await response.trailers.catch((error: unknown) => error);
      },
    });
    const { binding } = withChain([f], [{ name: 'f' }]);
    const s = binding.openStream(1);
    binding.hook(s, HookKind.RequestHeaders);
    binding.answerCallout(s, 1, 0, { ':status': '200' }, '');
    await binding.untilResumeRequested(s);
    assert.equal((failure as { code?: string }).code, 'ETS_ERR_FETCH');
    assert.match(String(failure), /does not hand trailers over; fetch with \{ stream: true \}/);
  });

  test('a reset rejects with FetchError; an unknown cluster throws at once', async () => {
    const errors: unknown[] = [];
    const f = defineHttpFilter({
      name: 'f',
      async onRequestHeaders(_headers, ctx) {
        await ctx.fetch('http://slow/').catch((error: unknown) => errors.push(error));
        try {
          await ctx.fetch('http://missing/');
        } catch (error) {
          errors.push(error);
        }
      },
    });
    const { binding } = withChain([f], [{ name: 'f' }]);
    const s = binding.openStream(1);
    binding.hook(s, HookKind.RequestHeaders);
    binding.answerCallout(s, 1, 1);
    await binding.untilResumeRequested(s);
    assert.equal(binding.resume(s), HookOutcome.Continue);
    assert.match(String(errors[0]), /FetchError: fetch to cluster 'slow' failed: the upstream reset the response/);
    assert.equal((errors[1] as { code?: string }).code, 'ETS_ERR_FETCH');
  });

  test('the stream ending rejects pending fetches; a late answer is ignored', async () => {
    let failure: unknown;
    const f = defineHttpFilter({
      name: 'f',
      async onRequestHeaders(_headers, ctx) {
        try {
          await ctx.fetch('http://authz/');
        } catch (error) {
          failure = error;
        }
      },
    });
    const { binding } = withChain([f], [{ name: 'f' }]);
    const s = binding.openStream(1);
    binding.hook(s, HookKind.RequestHeaders);
    binding.destroy(s);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal((failure as { code?: string }).code, 'ETS_ERR_STREAM_CLOSED');
  });

  test('invalid input is rejected before anything reaches Envoy', () => {
    const f = defineHttpFilter({
      name: 'f',
      onRequestHeaders(_headers, ctx) {
        assert.throws(() => void ctx.fetch('http://a/', { method: 'GE T' }), /invalid method/);
        assert.throws(() => void ctx.fetch('http://a/', { headers: { 'x-bad': 'a\r\nb' } }), /forbidden character/);
        assert.throws(() => void ctx.fetch('http://a/', { headers: { ':path': '/' } }), /pseudo-header/);
        assert.throws(() => void ctx.fetch('not a url'), TypeError);
      },
    });
    const { binding } = withChain([f], [{ name: 'f' }]);
    const s = binding.openStream(1);
    assert.equal(binding.hook(s, HookKind.RequestHeaders), HookOutcome.Continue);
    assert.equal(binding.callouts.length, 0);
  });
});

describe('ctx.fetch, streaming', () => {
  test('stream: true resolves at the response headers; the body streams piece by piece', async () => {
    const pieces: string[] = [];
    let status = 0;
    const f = defineHttpFilter({
      name: 'f',
      async onRequestHeaders(headers, ctx) {
        const response = await ctx.fetch('http://feed/events', { stream: true });
        status = response.status;
        const decoder = new TextDecoder();
        for await (const piece of response.body as unknown as AsyncIterable<Uint8Array>) {
          pieces.push(decoder.decode(piece));
        }
        headers.set('x-pieces', String(pieces.length));
      },
    });
    const { binding } = withChain([f], [{ name: 'f' }]);
    const s = binding.openStream(1);
    assert.equal(binding.hook(s, HookKind.RequestHeaders), HookOutcome.Pending);
    assert.deepEqual(binding.fetchStreams[0]?.headers, [':method', 'GET', ':path', '/events', 'host', 'feed']);
    assert.equal(binding.fetchStreams[0]?.ended, true, 'a GET ends its request at once');
    binding.fetchStreamEvent(s, 1, 0, { ':status': '200', 'content-type': 'text/plain' });
    binding.fetchStreamEvent(s, 1, 1, 'one ');
    binding.fetchStreamEvent(s, 1, 1, 'two');
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(pieces, ['one ', 'two'], 'pieces are read before the response ends');
    binding.fetchStreamEvent(s, 1, 3);
    await binding.untilResumeRequested(s);
    assert.equal(binding.resume(s), HookOutcome.Continue);
    assert.equal(status, 200);
    assert.equal(binding.header(s, 0, 'x-pieces'), '2');
  });

  test('a streamed request body is sent as it comes; a reset errors the body; the stream closing resets', async () => {
    let failure: unknown;
    const f = defineHttpFilter({
      name: 'f',
      async onRequestHeaders(_headers, ctx) {
        async function* upload() { yield 'a'; yield new TextEncoder().encode('b'); }
        const response = await ctx.fetch('http://sink/upload', { method: 'POST', body: upload() });
        try {
          await response.text();
        } catch (error) {
          failure = error;
        }
      },
    });
    const { binding } = withChain([f], [{ name: 'f' }]);
    const s = binding.openStream(1);
    binding.hook(s, HookKind.RequestHeaders);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(binding.fetchStreams[0]?.sent, ['', 'a', 'b', '']);
    assert.equal(binding.fetchStreams[0]?.ended, true);
    binding.fetchStreamEvent(s, 1, 0, { ':status': '200' });
    binding.fetchStreamEvent(s, 1, 4, 1);
    await binding.untilResumeRequested(s);
    assert.equal((failure as { code?: string }).code, 'ETS_ERR_FETCH');
  });

  test('aborting a streaming fetch resets it in Envoy', async () => {
    let failure: unknown;
    const f = defineHttpFilter({
      name: 'f',
      async onRequestHeaders(_headers, ctx) {
        const controller = new AbortController();
        const pending = ctx.fetch('http://slow/', { stream: true, signal: controller.signal });
        controller.abort(new Error('gave up'));
        failure = await pending.catch((error: unknown) => error);
      },
    });
    const { binding } = withChain([f], [{ name: 'f' }]);
    const s = binding.openStream(1);
    binding.hook(s, HookKind.RequestHeaders);
    await binding.untilResumeRequested(s);
    assert.equal((failure as Error).message, 'gave up');
    assert.equal(binding.fetchStreams[0]?.reset, true);
  });

  test('response trailers resolve once the response ended: with what came, or empty', async () => {
    const seen: (string | null)[] = [];
    const f = defineHttpFilter({
      name: 'f',
      async onRequestHeaders(_headers, ctx) {
        for (const path of ['/rpc', '/plain']) {
          const response = await ctx.fetch(`http://grpc${path}`, { stream: true });
          seen.push(await response.text());
          const trailers = await response.trailers;
          seen.push(trailers.get('grpc-status'), String([...trailers].length));
        }
      },
    });
    const { binding } = withChain([f], [{ name: 'f' }]);
    const s = binding.openStream(1);
    binding.hook(s, HookKind.RequestHeaders);
    binding.fetchStreamEvent(s, 1, 0, { ':status': '200', 'content-type': 'application/grpc' });
    binding.fetchStreamEvent(s, 1, 1, 'message');
    binding.fetchStreamEvent(s, 1, 2, { 'grpc-status': '0', 'grpc-message': 'ok' });
    binding.fetchStreamEvent(s, 1, 3);
    await new Promise((resolve) => setImmediate(resolve));
    binding.fetchStreamEvent(s, 2, 0, { ':status': '200' });
    binding.fetchStreamEvent(s, 2, 1, 'plain', true);
    binding.fetchStreamEvent(s, 2, 3);
    await binding.untilResumeRequested(s);
    assert.deepEqual(seen, ['message', '0', '2', 'plain', null, '0']);
  });

  test('a reset rejects the trailers too; unread, they do not count as an unhandled rejection', async () => {
    let failure: unknown;
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => { unhandled.push(reason); };
    process.on('unhandledRejection', onUnhandled);
    const f = defineHttpFilter({
      name: 'f',
      async onRequestHeaders(_headers, ctx) {
        const read = await ctx.fetch('http://grpc/a', { stream: true });
        const unread = await ctx.fetch('http://grpc/b', { stream: true });
        failure = await read.trailers.catch((error: unknown) => error);
        await unread.body?.cancel();
      },
    });
    try {
      const { binding } = withChain([f], [{ name: 'f' }]);
      const s = binding.openStream(1);
      binding.hook(s, HookKind.RequestHeaders);
      binding.fetchStreamEvent(s, 1, 0, { ':status': '200' });
      await new Promise((resolve) => setImmediate(resolve));
      binding.fetchStreamEvent(s, 2, 0, { ':status': '200' });
      binding.fetchStreamEvent(s, 2, 4, 1);
      binding.fetchStreamEvent(s, 1, 4, 1);
      await binding.untilResumeRequested(s);
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    assert.equal((failure as { code?: string }).code, 'ETS_ERR_FETCH');
    assert.deepEqual(unhandled, []);
  });

  test('request trailers end the request: after a whole body, or after a streamed one', async () => {
    const f = defineHttpFilter({
      name: 'f',
      async onRequestHeaders(_headers, ctx) {
        await ctx.fetch('http://sink/a', { method: 'POST', body: 'whole', trailers: { 'x-checksum': 'abc' } });
        async function* pieces() { yield 'one'; yield 'two'; }
        await ctx.fetch('http://sink/b', { method: 'POST', body: pieces(), trailers: [['X-Count', '2']] });
      },
    });
    const { binding } = withChain([f], [{ name: 'f' }]);
    const s = binding.openStream(1);
    binding.hook(s, HookKind.RequestHeaders);
    assert.deepEqual(binding.fetchStreams[0]?.sent, ['whole']);
    assert.deepEqual(binding.fetchStreams[0]?.trailers, ['x-checksum', 'abc']);
    assert.equal(binding.fetchStreams[0]?.ended, true);
    binding.fetchStreamEvent(s, 1, 0, { ':status': '200' }, true);
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(binding.fetchStreams[1]?.sent, ['', 'one', 'two']);
    assert.deepEqual(binding.fetchStreams[1]?.trailers, ['x-count', '2']);
    binding.fetchStreamEvent(s, 2, 0, { ':status': '200' }, true);
    await binding.untilResumeRequested(s);
  });

  test('invalid trailers throw before anything is sent', () => {
    const errors: unknown[] = [];
    const f = defineHttpFilter({
      name: 'f',
      onRequestHeaders(_headers, ctx) {
        for (const trailers of [{ ':path': '/x' }, { 'x-bad': 'a\r\nb' }]) {
          try {
            void ctx.fetch('http://sink/', { method: 'POST', trailers });
          } catch (error) {
            errors.push(error);
          }
        }
      },
    });
    const { binding } = withChain([f], [{ name: 'f' }]);
    binding.hook(binding.openStream(1), HookKind.RequestHeaders);
    assert.equal(errors.length, 2);
    assert.match(String(errors[0]), /fetch\(\) trailers: pseudo-header ':path' cannot be set/);
    assert.ok(errors[1] instanceof TypeError);
    assert.equal(binding.fetchStreams.length, 0);
  });
});
