// Request and response bodies through TypeScript filters: streamed chunks as zero-copy views,
// whole-body reads and replacement, the buffer limit, over real HTTP to a real upstream.
import assert from 'node:assert/strict';
import http from 'node:http';
import { describe, test } from 'node:test';

import { listenLoopback } from '../support/servers.mjs';
import { echoOf, fixturesBundle, proxyForSuite, proxyName, request } from './harness.mjs';

describe(`request and response bodies through ${proxyName}`, () => {
  const suite = proxyForSuite({
    filterConfigs: [{
      bundle: fixturesBundle,
      chain: [{ name: 'json-stamp' }, { name: 'body-guard' }, { name: 'redact-response', config: { fields: ['method'] } }],
    }],
  });

  test('a JSON request body is read whole, replaced, and content-length follows', async () => {
    const sent = JSON.stringify({ order: 42, items: ['tea'] });
    const response = await request(suite.proxy.port, {
      method: 'POST', path: '/orders', body: sent,
      headers: { 'content-type': 'application/json', 'content-length': String(sent.length) },
    });
    assert.equal(response.status, 200);
    const echo = echoOf(response);
    assert.deepEqual(JSON.parse(echo.body), { order: 42, items: ['tea'], seenBy: 'json-stamp' });
    assert.equal(echo.headers['content-length'], String(Buffer.byteLength(echo.body)));
    assert.equal(echo.headers['x-original-length'], String(sent.length));
  });

  test('a chunked JSON request body arrives in pieces and is still read whole', async () => {
    const response = await request(suite.proxy.port, {
      method: 'POST', path: '/chunked', headers: { 'content-type': 'application/json' },
      body: ['{"a":', '1,"b"', ':[2,3]}'],
    });
    assert.equal(response.status, 200);
    assert.deepEqual(JSON.parse(echoOf(response).body), { a: 1, b: [2, 3], seenBy: 'json-stamp' });
  });

  test('a body that is not JSON gets the filter\'s 400; the upstream never sees it', async () => {
    const before = suite.upstream.seen.length;
    const response = await request(suite.proxy.port, {
      method: 'POST', path: '/bad', headers: { 'content-type': 'application/json' }, body: '{"a":',
    });
    assert.equal(response.status, 400);
    assert.equal(response.body, 'the body is not JSON');
    assert.equal(suite.upstream.seen.length, before);
  });

  test('a streamed body is checked chunk by chunk, across chunk boundaries', async () => {
    const fine = await request(suite.proxy.port, { method: 'POST', path: '/upload', body: ['all', ' good ', 'here'] });
    assert.equal(fine.status, 200);
    assert.equal(echoOf(fine).body, 'all good here');
    const before = suite.upstream.seen.length;
    const bad = await request(suite.proxy.port, { method: 'POST', path: '/upload', body: ['this is forb', 'idden text'] });
    assert.equal(bad.status, 422);
    assert.equal(bad.body, 'forbidden content');
    assert.equal(suite.upstream.seen.length, before, 'the request never completed upstream');
  });

  test('a JSON response body is buffered, redacted and re-sized', async () => {
    const response = await request(suite.proxy.port, { path: '/secret' });
    assert.equal(response.status, 200);
    const body = JSON.parse(response.body);
    assert.equal(body.method, '[redacted]');
    assert.equal(body.path, '/secret');
    // The upstream answered chunked (no content-length to fix); a length, if any, must be right.
    const length = response.headers['content-length'];
    if (length !== undefined) assert.equal(length, String(Buffer.byteLength(response.body)));
  });
});

describe(`zero-copy body views through ${proxyName}`, () => {
  const MiB = 1024 * 1024;
  const suite = proxyForSuite({
    filterConfigs: [{ bundle: fixturesBundle, chain: [{ name: 'body-census' }] }],
  });

  test('a 1 MiB body is inspected through views without a copy of it in JS memory', async () => {
    const body = Buffer.alloc(MiB, 'abcdefgh');
    let expectedSum = 0;
    for (const byte of body) expectedSum = (expectedSum + byte) % 1_000_000_007;
    const response = await request(suite.proxy.port, {
      method: 'POST', path: '/big', body, headers: { 'content-length': String(MiB) },
    });
    assert.equal(response.status, 200);
    assert.equal(Number(response.headers['x-census-bytes']), MiB);
    assert.equal(Number(response.headers['x-census-sum']), expectedSum, 'the views show every byte');
    assert.ok(Number(response.headers['x-census-chunks']) > 1, 'the body streamed in several chunks');
    // Views point at Envoy's memory: the JS heap's ArrayBuffer memory does not grow with the body.
    const growth = Number(response.headers['x-census-array-buffer-growth']);
    assert.ok(growth < 64 * 1024, `ArrayBuffer memory grew by ${growth} bytes`);
    assert.equal(echoOf(response).body, body.toString('latin1'));
  });
});

describe(`streamed edits and the census's control through ${proxyName}`, () => {
  const MiB = 1024 * 1024;
  const suite = proxyForSuite({
    filterConfigs: [{
      bundle: fixturesBundle, chain: [{ name: 'upper-stream' }, { name: 'body-census', config: { copy: true } }],
    }],
  });

  test('each streamed chunk is edited in place; later filters and the upstream see the edit', async () => {
    const response = await request(suite.proxy.port, { method: 'POST', path: '/up', body: ['hello ', 'streamed ', 'world'] });
    assert.equal(response.status, 200);
    assert.equal(echoOf(response).body, 'HELLO STREAMED WORLD');
    assert.equal(response.headers['x-census-bytes'], String('HELLO STREAMED WORLD'.length));
  });

  test('keeping a copy of each chunk shows up as ~1 MiB of ArrayBuffer memory (the census sees copies)', async () => {
    const response = await request(suite.proxy.port, {
      method: 'POST', path: '/big', body: Buffer.alloc(MiB, 'x'), headers: { 'content-length': String(MiB) },
    });
    assert.equal(response.status, 200);
    const growth = Number(response.headers['x-census-array-buffer-growth']);
    assert.ok(growth >= 0.9 * MiB, `ArrayBuffer memory grew by ${growth} bytes`);
  });
});

describe(`the buffer limit (per_connection_buffer_limit_bytes: 64 KiB) through ${proxyName}`, () => {
  const KiB = 1024;
  const suite = proxyForSuite({
    perConnectionBufferLimitBytes: 64 * KiB,
    filterConfigs: [{
      bundle: fixturesBundle,
      chain: [{ name: 'json-stamp' }, { name: 'redact-response', config: { fields: ['method'] } },
              { name: 'slow', config: { ms: 100 } }],
    }],
  });

  test('a request body read whole beyond the limit gets Envoy\'s 413; the upstream never sees it', async () => {
    const before = suite.upstream.seen.length;
    const big = JSON.stringify({ blob: 'x'.repeat(100 * KiB) });
    const response = await request(suite.proxy.port, {
      method: 'POST', path: '/too-big', body: big,
      headers: { 'content-type': 'application/json', 'content-length': String(big.length) },
    });
    assert.equal(response.status, 413);
    assert.equal(response.body, 'Payload Too Large');
    assert.equal(suite.upstream.seen.length, before);
  });

  test('a body held by an awaiting hook is paused, not refused: 1 MiB passes a 64 KiB limit intact', async () => {
    const body = Buffer.alloc(1024 * KiB, 'abcdefghijklmnop');
    const response = await request(suite.proxy.port, {
      method: 'POST', path: '/streamed', body, headers: { 'content-length': String(body.length) },
    });
    // The echo is JSON over the limit: redact-response reads it whole, so Envoy answers 500.
    assert.equal(response.status, 500);
    assert.equal(response.body, 'Internal Server Error');
    const seen = suite.upstream.seen.at(-1);
    assert.equal(seen.path, '/streamed');
    assert.equal(seen.body, body.toString('latin1'), 'the upstream got every byte, in order');
  });

  test('below the limit both directions pass, read whole', async () => {
    const response = await request(suite.proxy.port, { method: 'POST', path: '/small', body: 'hello' });
    assert.equal(response.status, 200);
    const echo = JSON.parse(response.body);
    assert.equal(echo.method, '[redacted]');
    assert.equal(echo.body, 'hello');
  });
});

describe(`local replies from response body hooks through ${proxyName}`, () => {
  const suite = proxyForSuite({
    filterConfigs: [{ bundle: fixturesBundle, chain: [{ name: 'response-guard' }] }],
  }, {
    // Answers JSON on /json and plain text on /text, carrying the request body.
    upstream: () => listenLoopback(http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (chunk) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString();
        const json = req.url === '/json';
        res.writeHead(200, { 'content-type': json ? 'application/json' : 'text/plain' });
        res.end(json ? JSON.stringify({ note: body }) : body);
      });
    })),
  });

  test('a response read whole can still be replaced by a local reply', async () => {
    const refused = await request(suite.proxy.port, { method: 'POST', path: '/json', body: 'some forbidden words' });
    assert.equal(refused.status, 502);
    assert.equal(refused.body, 'the upstream answered with forbidden content');
    const fine = await request(suite.proxy.port, { method: 'POST', path: '/json', body: 'fine words' });
    assert.equal(fine.status, 200);
    assert.deepEqual(JSON.parse(fine.body), { note: 'fine words' });
  });

  test('a local reply once the response headers went downstream resets the stream, as in Envoy', async () => {
    await assert.rejects(request(suite.proxy.port, { method: 'POST', path: '/text', body: 'forbidden' }));
    const fine = await request(suite.proxy.port, { method: 'POST', path: '/text', body: 'allowed' });
    assert.equal(fine.status, 200);
    assert.equal(fine.body, 'allowed');
  });
});
