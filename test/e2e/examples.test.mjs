// The example filters, through a real proxy, a real client and a real upstream.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { echoOf, examplesBundle, proxyName, request, startProxy, startUpstream } from './harness.mjs';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe(`example filters through ${proxyName}`, () => {
  let upstream;
  let proxy;

  before(async () => {
    upstream = await startUpstream();
    proxy = await startProxy({
      upstreamPort: upstream.port,
      filterConfigs: [{
        bundle: examplesBundle,
        chain: [
          { name: 'request-id' },
          { name: 'header-auth', config: { tokens: ['s3cret', 'other-token'], prefix: 'Bearer ' } },
          { name: 'async-delay', config: { ms: 30 } },
        ],
      }],
    });
  });

  after(async () => {
    await proxy?.stop();
    await upstream?.close();
  });

  test('request-id adds an id upstream and echoes it on the response', async () => {
    const response = await request(proxy.port, { headers: { authorization: 'Bearer s3cret' } });
    assert.equal(response.status, 200);
    const id = echoOf(response).headers['x-request-id'];
    assert.match(id, UUID);
    assert.equal(response.headers['x-request-id'], id);
  });

  test('request-id keeps an id the client sent', async () => {
    const response = await request(proxy.port, {
      headers: { authorization: 'Bearer s3cret', 'x-request-id': 'client-chosen-id' },
    });
    assert.equal(echoOf(response).headers['x-request-id'], 'client-chosen-id');
    assert.equal(response.headers['x-request-id'], 'client-chosen-id');
  });

  test('header-auth rejects a missing token with 401 and never reaches the upstream', async () => {
    const before = upstream.seen.length;
    const response = await request(proxy.port, { path: '/no-token' });
    assert.equal(response.status, 401);
    assert.equal(response.body, 'unauthorized');
    assert.match(response.headers['www-authenticate'] ?? '', /Bearer/);
    // The local reply went through the chain's response hooks: request-id echoed it.
    assert.match(response.headers['x-request-id'] ?? '', UUID);
    assert.equal(upstream.seen.length, before);
  });

  test('header-auth rejects a wrong token, a wrong scheme and a duplicated header', async () => {
    for (const headers of [
      { authorization: 'Bearer s3cre' },
      { authorization: 'Bearer s3cret!' },
      { authorization: 'Basic s3cret' },
      { authorization: ['Bearer s3cret', 'Bearer s3cret'] },
    ]) {
      const response = await request(proxy.port, { headers });
      assert.equal(response.status, 401, JSON.stringify(headers));
    }
  });

  test('header-auth accepts every configured token', async () => {
    for (const token of ['s3cret', 'other-token']) {
      const response = await request(proxy.port, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(response.status, 200);
    }
  });

  test('async-delay waits on a timer, then the request continues upstream', async () => {
    const started = process.hrtime.bigint();
    const response = await request(proxy.port, { headers: { authorization: 'Bearer s3cret' } });
    const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
    assert.equal(response.status, 200);
    assert.equal(echoOf(response).headers['x-async-delay-ms'], '30');
    assert.ok(elapsedMs >= 30, `answered after ${elapsedMs} ms, before the 30 ms timer`);
  });

  test('a POST body and the upstream status pass through unchanged', async () => {
    const response = await request(proxy.port, {
      method: 'POST',
      path: '/status/201',
      headers: { authorization: 'Bearer s3cret', 'content-type': 'text/plain' },
      body: 'hello upstream',
    });
    assert.equal(response.status, 201);
    const echo = echoOf(response);
    assert.equal(echo.method, 'POST');
    assert.equal(echo.body, 'hello upstream');
  });

  test('built-in stats count and time every filter\'s hooks, and gauge the pending ones', async () => {
    for (let i = 0; i < 3; i++) await request(proxy.port, { headers: { authorization: 'Bearer s3cret' } });
    assert.ok((await proxy.stat('envoy_ts.request-id.hook_invocations')) >= 6, 'request and response hooks');
    assert.ok((await proxy.stat('envoy_ts.async-delay.hook_invocations')) >= 3);
    assert.equal(await proxy.stat('envoy_ts.async-delay.hooks_pending'), 0, 'nothing waits any more');
    // async-delay waits 30 ms per request: its hook time runs until the promise settled. Node's
    // timers count whole milliseconds of the loop's clock (a 30 ms timer started at 10.9 ms may
    // fire at 40.0 ms), so what the filter guarantees is more than 29 ms per stream.
    // A histogram: /stats shows it once a stats flush merged its values (the test config flushes
    // every 0.1 s), its figures then being "P50(<interval>,<cumulative>)".
    let line = '';
    for (let i = 0; i < 500 && !/^P0\(/.test(line); ++i) {
      if (i > 0) await new Promise((resolve) => setTimeout(resolve, 20));
      line = /envoy_ts\.async-delay\.hook_time_us: (.*)/.exec(await proxy.statsText())?.[1] ?? '';
    }
    const median = Number(/ P50\([^,]+,([\d.e+]+)\)/.exec(line)?.[1]);
    assert.ok(median > 29_000, `median async-delay hook time per stream ${median} µs (${line})`);
  });
});

describe(`rate-limit through ${proxyName}`, () => {
  let upstream;
  let proxy;

  before(async () => {
    upstream = await startUpstream();
    proxy = await startProxy({
      upstreamPort: upstream.port,
      concurrency: 2,
      filterConfigs: [{
        bundle: examplesBundle,
        chain: [{ name: 'rate-limit', config: { ratePerSecond: 0.5, burst: 3, key: 'header:x-api-key' } }],
      }],
    });
  });

  after(async () => {
    await proxy?.stop();
    await upstream?.close();
  });

  test('a key gets its burst across both workers, then 429 with retry-after; other keys are not affected', async () => {
    const before = upstream.seen.length;
    // Separate connections: the two workers share one bucket per key.
    const responses = [];
    for (let i = 0; i < 5; i++) responses.push(await request(proxy.port, { headers: { 'x-api-key': 'tenant-a' } }));
    assert.deepEqual(responses.map((r) => r.status), [200, 200, 200, 429, 429]);
    assert.equal(responses[3].body, 'too many requests');
    assert.equal(responses[3].headers['retry-after'], '2');
    assert.equal(upstream.seen.length, before + 3, 'limited requests never reach the upstream');
    assert.equal((await request(proxy.port, { headers: { 'x-api-key': 'tenant-b' } })).status, 200);
    assert.equal(await proxy.stat('rate-limit.limited'), 2);
  });
});

describe(`body-rewrite through ${proxyName}`, () => {
  let upstream;
  let proxy;

  before(async () => {
    upstream = await startUpstream();
    proxy = await startProxy({
      upstreamPort: upstream.port,
      filterConfigs: [{
        bundle: examplesBundle,
        chain: [{ name: 'body-rewrite', config: { fields: ['authorization', 'cookie'] } }],
      }],
    });
  });

  after(async () => {
    await proxy?.stop();
    await upstream?.close();
  });

  test('credentials an upstream echoes back are redacted as the JSON streams through', async () => {
    // A large body makes the upstream's JSON arrive in many chunks.
    const payload = 'x'.repeat(200 * 1024);
    const response = await request(proxy.port, {
      method: 'POST', path: '/echo', body: payload,
      headers: { authorization: 'Bearer s3cret', cookie: 'session=abc', 'x-keep': 'visible' },
    });
    assert.equal(response.status, 200);
    assert.equal(response.headers['content-length'], undefined, 'the length changed: sent chunked');
    const echo = echoOf(response);
    assert.equal(echo.headers.authorization, '[redacted]');
    assert.equal(echo.headers.cookie, '[redacted]');
    assert.equal(echo.headers['x-keep'], 'visible');
    assert.equal(echo.body, payload);
    assert.equal(upstream.seen.at(-1).headers.authorization, 'Bearer s3cret', 'the request itself is untouched');
  });
});
