// The ctx.fetch Response, next to the standard one (undici's Response and Headers, as Node has
// them): for the same status, header list and body, what a filter reads must be the same.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { FetchedHeaders, FetchedResponse } from '../fetch-response';
import { isResponse } from '../response-reply';

const FIELDS = ['content-type', 'application/json', 'set-cookie', 'a=1; Path=/', 'x-multi', 'one', 'accept', '*/*',
                'set-cookie', 'b=2, c', 'x-multi', 'two'];

const pairs = (fields: readonly string[]): [string, string][] =>
  Array.from({ length: fields.length / 2 }, (_, i) => [fields[2 * i] as string, fields[2 * i + 1] as string]);

const buffered = (body: string | Uint8Array | null, status = 200, fields: readonly string[] = FIELDS): FetchedResponse =>
  new FetchedResponse(status, new FetchedHeaders(fields),
                      { bytes: typeof body === 'string' ? new TextEncoder().encode(body) : body }, 'authz');

const streamed = (pieces: string[], trailers?: Promise<Headers>): FetchedResponse => {
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const piece of pieces) controller.enqueue(new TextEncoder().encode(piece));
      controller.close();
    },
  });
  return new FetchedResponse(200, new FetchedHeaders([]), { stream }, 'feed', trailers);
};

describe('FetchedHeaders', () => {
  test('reads as the standard Headers over the same fields: get, has, getSetCookie, every iteration', () => {
    const ours = new FetchedHeaders(FIELDS);
    const standard = new Headers(pairs(FIELDS));
    for (const name of ['content-type', 'Content-Type', 'X-MULTI', 'set-cookie', 'accept', 'absent']) {
      assert.equal(ours.get(name), standard.get(name), name);
      assert.equal(ours.has(name), standard.has(name), name);
    }
    assert.deepEqual(ours.getSetCookie(), standard.getSetCookie());
    assert.deepEqual([...ours], [...standard]);
    assert.deepEqual([...ours.entries()], [...standard.entries()]);
    assert.deepEqual([...ours.keys()], [...standard.keys()]);
    assert.deepEqual([...ours.values()], [...standard.values()]);
    const seen: unknown[] = [];
    const self = {};
    ours.forEach(function (this: unknown, value, key, parent) { seen.push([key, value, parent === ours, this === self]); }, self);
    assert.deepEqual(seen, [...standard].map(([key, value]) => [key, value, true, true]));
    assert.equal(Object.prototype.toString.call(ours), '[object Headers]');
  });

  test('copies into a standard Headers; an invalid name throws as in the standard; it cannot be changed', () => {
    const ours = new FetchedHeaders(FIELDS);
    assert.deepEqual([...new Headers(ours)], [...new Headers(pairs(FIELDS))]);
    assert.throws(() => ours.get('bad name'), TypeError);
    assert.throws(() => ours.has('x\r\n'), TypeError);
    for (const change of [() => ours.set('x-a', '1'), () => ours.append('x-a', '1'), () => ours.delete('accept')]) {
      assert.throws(change as () => void, /the headers of a fetch\(\) response are immutable/);
    }
    assert.equal(ours.get('accept'), '*/*');
  });
});

describe('FetchedResponse', () => {
  test('status, ok and the rest of the head; recognised as a Response when a hook returns it', () => {
    const ok = buffered('{}');
    assert.deepEqual([ok.status, ok.ok, ok.statusText, ok.type, ok.url, ok.redirected], [200, true, '', 'default', '', false]);
    assert.deepEqual([buffered('', 299).ok, buffered('', 300).ok, buffered('', 503).ok], [true, false, false]);
    assert.equal(ok.headers.get('content-type'), 'application/json');
    assert.ok(isResponse(ok));
  });

  test('text(), json(), arrayBuffer(), bytes() and blob() give what the standard Response gives', async () => {
    // A BOM, a multi-byte character and a byte that is no UTF-8.
    const bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode('{"s":"€"}'), 0xff]);
    const standard = (): Response => new Response(bytes, { headers: pairs(FIELDS) });
    assert.equal(await buffered(bytes).text(), await standard().text());
    assert.deepEqual(await buffered(new TextEncoder().encode('{"a":[1,"€"]}')).json(), { a: [1, '€'] });
    assert.deepEqual(new Uint8Array(await buffered(bytes).arrayBuffer()), new Uint8Array(await standard().arrayBuffer()));
    assert.deepEqual(await buffered(bytes).bytes(), bytes);
    const blob = await buffered(bytes).blob();
    const standardBlob = await standard().blob();
    assert.deepEqual([blob.type, blob.size], [standardBlob.type, standardBlob.size]);
    await assert.rejects(buffered('{"a":').json(), SyntaxError);
  });

  test('formData() parses a urlencoded body', async () => {
    const form = await buffered('a=1&b=two', 200, ['content-type', 'application/x-www-form-urlencoded']).formData();
    assert.deepEqual([...form], [['a', '1'], ['b', 'two']]);
  });

  test('the body reads once: bodyUsed, then the second read rejects with TypeError', async () => {
    const response = buffered('once');
    assert.equal(response.bodyUsed, false);
    assert.equal(await response.text(), 'once');
    assert.equal(response.bodyUsed, true);
    await assert.rejects(response.text(), TypeError);
    await assert.rejects(response.arrayBuffer(), TypeError);
    assert.throws(() => response.clone(), TypeError);
    // As the standard's, the body stream of a read response is disturbed and locked.
    assert.equal(response.body?.locked, true);
  });

  test('body is a ReadableStream of the bytes when asked for; reading it uses the body', async () => {
    const response = buffered('streamed');
    const body = response.body;
    assert.ok(body instanceof ReadableStream);
    assert.equal(response.body, body, 'the same stream every time');
    assert.equal(response.bodyUsed, false);
    const { value } = await body.getReader().read();
    assert.equal(new TextDecoder().decode(value), 'streamed');
    assert.equal(response.bodyUsed, true);
    await assert.rejects(response.text(), TypeError);
  });

  test('text() after the stream was handed out, unread, reads through it', async () => {
    const response = buffered('through the stream');
    assert.equal(response.body?.locked, false);
    assert.equal(await response.text(), 'through the stream');
    assert.equal(response.bodyUsed, true);
  });

  test('a response without a body (204) has a null body and reads as empty, any number of times', async () => {
    const response = buffered(null, 204);
    assert.equal(response.body, null);
    assert.equal(await response.text(), '');
    assert.equal(await response.text(), '');
    assert.equal(response.bodyUsed, false);
  });

  test('arrayBuffer() and bytes() hold the body alone, even when Envoy\'s bytes are a view of a larger buffer', async () => {
    const pool = Buffer.from('xxxxbodyxxxx');
    const view = pool.subarray(4, 8);
    assert.deepEqual(new Uint8Array(await buffered(view).arrayBuffer()), new TextEncoder().encode('body'));
    const bytes = await buffered(view).bytes();
    assert.deepEqual([bytes.byteLength, bytes.buffer.byteLength, Buffer.isBuffer(bytes)], [4, 4, false]);
    const response = buffered(view);
    void response.body;  // a stream of the bytes, read through by arrayBuffer()
    assert.equal((await response.arrayBuffer()).byteLength, 4);
  });

  test('clone() reads the same body twice; each gets its own bytes', async () => {
    const response = buffered('twice');
    const copy = response.clone();
    const mine = new Uint8Array(await response.arrayBuffer());
    mine[0] = 0;
    assert.equal(await copy.text(), 'twice');
    const pieces = streamed(['a', 'b']);
    const streamCopy = pieces.clone();
    assert.deepEqual([await pieces.text(), await streamCopy.text()], ['ab', 'ab']);
  });

  test('a streamed body: text() joins the pieces; body is the stream itself; trailers as given', async () => {
    const trailers = Promise.resolve(new FetchedHeaders(['grpc-status', '0']) as Headers);
    const response = streamed(['one ', 'two'], trailers);
    assert.equal(await response.text(), 'one two');
    assert.equal((await response.trailers).get('grpc-status'), '0');
    const read: string[] = [];
    for await (const piece of streamed(['x', 'y']).body as unknown as AsyncIterable<Uint8Array>) {
      read.push(new TextDecoder().decode(piece));
    }
    assert.deepEqual(read, ['x', 'y']);
  });

  test('a buffered response has no trailers to give', async () => {
    await assert.rejects(buffered('').trailers, /cluster 'authz': Envoy's buffered callout does not hand trailers over/);
  });
});
