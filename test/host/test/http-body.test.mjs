// HTTP bodies with Envoy's semantics: the received chunk vs the buffered body, multi-slice bodies,
// the stream's buffer limit (413 / 500 / reset) and watermarks that pause reading instead. Proven
// through real HTTP with the tiny C module test/host/modules/http_body.c (its filter config picks
// what it does) in front of a real upstream that echoes what it got.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';

import { freePort, runHostToExit, runScript, startHost, testModulesDir } from './helpers.mjs';
import { httpProxyYaml, tcpProxyYaml } from '../../support/proxy-config.mjs';
import { listenLoopback } from '../../support/servers.mjs';

const searchPath = testModulesDir;
const KiB = 1024;
const MiB = 1024 * KiB;

/** `length` bytes of lower-case text, so that upper-casing shows. */
function lowerText(length) {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz';
  return Buffer.from(Array.from({ length }, (_, i) => alphabet[i % alphabet.length]).join(''));
}

const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

/**
 * The upstream: answers the request body it got, with the request headers it got as JSON in
 * x-seen-headers; `GET /text/<n>` answers n bytes of lowerText instead, and `/text/<n>/split` the
 * same in two writes 30 ms apart.
 */
async function startEchoUpstream() {
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      const text = /^\/text\/(\d+)(\/split)?$/.exec(req.url);
      const body = text ? lowerText(Number(text[1])) : Buffer.concat(chunks);
      res.writeHead(200, {
        'content-type': 'application/octet-stream',
        'content-length': body.length,
        'x-seen-headers': JSON.stringify(req.headers),
      });
      if (text?.[2] === undefined) {
        res.end(body);
        return;
      }
      res.write(body.subarray(0, body.length / 2));
      setTimeout(() => res.end(body.subarray(body.length / 2)), 30);
    });
  });
  return listenLoopback(server);
}

/**
 * One request on a fresh connection; `pieces` (Buffers or strings) are written `gapMs` apart.
 * Without a content-length header the body goes chunked. Resolves with {status, headers, body}.
 */
function send(port, { method = 'POST', path = '/', headers = {}, pieces = [], gapMs = 0 }) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers, agent: false },
      (res) => {
        const chunks = [];
        res.on('data', (chunk) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers,
                                      body: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
    req.on('error', reject);
    req.setTimeout(10000, () => req.destroy(new Error('request timed out')));
    (async () => {
      for (const piece of pieces) {
        req.write(piece);
        if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
      }
      req.end();
    })();
  });
}

/**
 * A raw HTTP/1.1 client connection: write() bytes, then response() reads the next response
 * (content-length bodies only; shorter when the connection closes first); closed() waits until
 * the host closes the connection.
 */
async function rawConnection(port) {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  let data = Buffer.alloc(0);
  let closed = false;
  let wake = () => {};
  const next = () => new Promise((resolve) => { wake = resolve; });
  socket.on('data', (chunk) => { data = Buffer.concat([data, chunk]); wake(); });
  socket.on('close', () => { closed = true; wake(); });
  socket.on('error', () => {});
  return {
    write: (bytes) => socket.write(bytes),
    async response() {
      let end;
      while ((end = data.indexOf('\r\n\r\n')) < 0) {
        if (closed) throw new Error(`closed before a response: ${JSON.stringify(String(data))}`);
        await next();
      }
      const [statusLine, ...lines] = data.subarray(0, end).toString('latin1').split('\r\n');
      data = data.subarray(end + 4);
      const headers = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      const length = Number(headers['content-length'] ?? 0);
      while (data.length < length && !closed) await next();
      const body = data.subarray(0, length);
      data = data.subarray(body.length);
      return { status: Number(statusLine.split(' ')[1]), headers, body };
    },
    async closed() {
      while (!closed) await next();
      return true;
    },
    destroy: () => socket.destroy(),
  };
}

const count = (text, line) => text.split(line).length - 1;

let upstream;
before(async () => { upstream = await startEchoUpstream(); });
after(() => upstream.close());

/**
 * Runs `fn(host)` against a host whose chain is one http_body filter per config, then checks that
 * it shuts down cleanly. `fn` may stop the host itself (stopping twice is fine) to read its whole
 * log.
 */
async function withHost({ configs, limit, logLevel }, fn) {
  const host = await startHost({
    upstreamPort: upstream.port, searchPath, logLevel, perConnectionBufferLimitBytes: limit,
    filters: configs.map((config, i) => ({ module: 'http_body', filterName: `body${i}`, config })),
  });
  try {
    await fn(host);
  } catch (error) {
    await host.stop();
    throw error;
  }
  const exit = await host.stop();
  assert.equal(exit.code, 0, `clean shutdown, output:\n${host.output}`);
}

describe('HTTP bodies: received chunk and buffered body', () => {
  test('buffer-upper: the whole buffered body is replaced and the module\'s content-length ' +
       'reaches the upstream', async () => {
    await withHost({ configs: ['buffer-upper'] }, async (host) => {
      // Chunked, in three writes: the upstream can only get a content-length from the module.
      const res = await send(host.port, { pieces: ['hello ', 'buffered ', 'body'], gapMs: 20 });
      assert.equal(res.status, 200);
      assert.equal(res.body.toString(), 'HELLO BUFFERED BODY');
      const seen = JSON.parse(res.headers['x-seen-headers']);
      assert.equal(seen['content-length'], '19');
      assert.equal(seen['transfer-encoding'], undefined);
    });
  });

  test('response-buffer-upper: the buffered response is replaced before it reaches the client',
       async () => {
    await withHost({ configs: ['response-buffer-upper'] }, async (host) => {
      const res = await send(host.port, { method: 'GET', path: '/text/5000' });
      assert.equal(res.status, 200);
      assert.equal(res.headers['content-length'], '5000');
      assert.equal(res.body.toString(), lowerText(5000).toString().toUpperCase());
    });
  });

  test('stream-upper / response-stream-upper: chunks changed in place go on as changed',
       async () => {
    await withHost({ configs: ['stream-upper', 'response-stream-upper'] }, async (host) => {
      const body = lowerText(300 * KiB);
      const res = await send(host.port, { headers: { 'content-length': body.length },
                                          pieces: [body.subarray(0, 1000), body.subarray(1000)],
                                          gapMs: 20 });
      assert.equal(res.status, 200);
      // The upstream got the upper-cased request; the client gets it again, upper-cased again.
      assert.equal(sha256(res.body), sha256(Buffer.from(body.toString().toUpperCase())));
      const text = await send(host.port, { method: 'GET', path: '/text/70000' });
      assert.equal(text.body.toString(), lowerText(70000).toString().toUpperCase());
    });
  });

  test('one read of three chunked chunks is one received chunk of three slices', async () => {
    await withHost({ configs: ['chunks'] }, async (host) => {
      const conn = await rawConnection(host.port);
      conn.write('POST / HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n' +
                 '3\r\none\r\n3\r\ntwo\r\n5\r\nthree\r\n0\r\n\r\n');
      const res = await conn.response();
      conn.destroy();
      assert.equal(res.status, 200);
      assert.equal(res.body.toString(), 'onetwothree');
      assert.equal(res.headers['x-request-body-calls'], '1');
      assert.equal(res.headers['x-request-max-slices'], '3');
      assert.equal(res.headers['x-request-bytes'], '11');
      assert.equal(res.headers['x-request-received-buffered'], '0');
    });
  });

  test('a filter after one that buffered and continued receives the buffered body, with its ' +
       'slices (received_buffered_request_body)', async () => {
    await withHost({ configs: ['buffer', 'chunks'] }, async (host) => {
      const res = await send(host.port, { pieces: ['first ', 'second ', 'third'], gapMs: 30 });
      assert.equal(res.status, 200);
      assert.equal(res.body.toString(), 'first second third');
      assert.equal(res.headers['x-request-body-calls'], '1');
      assert.equal(res.headers['x-request-received-buffered'], '1');
      assert.equal(res.headers['x-request-bytes'], '18');
      assert.ok(Number(res.headers['x-request-max-slices']) >= 3, JSON.stringify(res.headers));
    });
    // Without the buffering filter in front, the pieces are received as they come (how many calls
    // depends on how the socket delivers them), never as a buffered body.
    await withHost({ configs: ['chunks'] }, async (host) => {
      const res = await send(host.port, { pieces: ['first ', 'second ', 'third'], gapMs: 30 });
      assert.ok(Number(res.headers['x-request-body-calls']) >= 1, JSON.stringify(res.headers));
      assert.equal(res.headers['x-request-received-buffered'], '0');
      assert.equal(res.headers['x-request-bytes'], '18');
    });
  });

  test('a body appended to the buffered body of a bodiless request goes upstream', async () => {
    await withHost({ configs: ['add-body'] }, async (host) => {
      const res = await send(host.port, { method: 'GET', path: '/' });
      assert.equal(res.status, 200);
      assert.equal(res.body.toString(), 'added by the filter');
      assert.equal(JSON.parse(res.headers['x-seen-headers'])['content-length'], '19');
    });
  });

  test('appended from the trailers hook of a filter that did not stop, a body goes on before the ' +
       'trailers', async () => {
    await withHost({ configs: ['trailers-body'] }, async (host) => {
      const conn = await rawConnection(host.port);
      conn.write('POST / HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n' +
                 '8\r\nthe body\r\n0\r\nx-trailer: 1\r\n\r\n');
      const res = await conn.response();
      conn.destroy();
      assert.equal(res.status, 200);
      assert.equal(res.body.toString(), 'the body and from the trailers hook');
    });
  });

  test('appending to a request body that does not exist from a response hook is a 502',
       async () => {
    await withHost({ configs: ['late-request-body'], logLevel: 'debug' }, async (host) => {
      const res = await send(host.port, { method: 'GET', path: '/' });
      assert.equal(res.status, 502);
      assert.equal(res.body.toString(), 'Filter error');
      await host.stop(); // Its whole log: stderr may trail the socket.
      assert.ok(host.output.includes('local reply 502 (filter_added_invalid_request_data)'),
                host.output);
    });
  });

  test('outside a body hook the received body does not exist (append/drain false) and ' +
       'nothing is buffered', async () => {
    await withHost({ configs: ['probe'] }, async (host) => {
      const res = await send(host.port, { method: 'GET', path: '/' });
      const none = 'size=0,chunks=0,get=0,append=0,drain=0,received_buffered=0,' +
                   'buffered_size=0,buffered_get=0,buffered_drain=0';
      assert.equal(res.headers['x-probe-request-headers'], none);
      assert.equal(res.headers['x-probe-response-headers'], none);
    });
  });

  test('scripted mode: a scenario body goes through the same path', () => {
    const run = runScript(JSON.stringify({
      filters: [{ module: 'http_body', filter_name: 'body', config: 'buffer-upper,chunks' }],
      upstream_response: { headers: { ':status': '200' }, body: 'ok' },
      requests: [{ headers: { ':method': 'POST', ':path': '/', ':authority': 'x' },
                   body: 'scripted' }],
    }), { searchPath });
    assert.equal(run.code, 0, run.stderr);
    const [result] = run.results;
    assert.ok(result.upstream_request_headers.some(([k, v]) => k === 'content-length' && v === '8'),
              JSON.stringify(result));
    assert.ok(result.response_headers.some(([k, v]) => k === 'x-request-bytes' && v === '8'),
              JSON.stringify(result));
  });
});

describe('HTTP bodies: the buffer limit', () => {
  test('get/set_buffer_limit: the listener default is 1 MiB, a filter changes it', async () => {
    await withHost({ configs: ['limit:1024,buffer-upper'] }, async (host) => {
      const small = await send(host.port, { headers: { 'content-length': 1024 },
                                            pieces: [lowerText(1024)] });
      assert.equal(small.status, 200);
      assert.equal(small.headers['x-limit-before'], String(MiB));
      assert.equal(small.headers['x-limit-after'], '1024');
      const big = await send(host.port, { headers: { 'content-length': 1025 },
                                          pieces: [lowerText(1025)] });
      assert.equal(big.status, 413);
    });
  });

  test('a buffered request above per_connection_buffer_limit_bytes is a 413; once the whole ' +
       'request was read the connection stays usable', async () => {
    await withHost({ configs: ['buffer-upper'], limit: 1024, logLevel: 'debug' }, async (host) => {
      const conn = await rawConnection(host.port);
      // Exactly the limit passes (Envoy's high watermark is crossed by going above it).
      conn.write(`POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 1024\r\n\r\n${lowerText(1024)}`);
      const fits = await conn.response();
      assert.equal(fits.status, 200);
      assert.equal(fits.body.toString(), lowerText(1024).toString().toUpperCase());
      conn.write(`POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 2000\r\n\r\n${lowerText(2000)}`);
      const tooLarge = await conn.response();
      assert.equal(tooLarge.status, 413);
      assert.equal(tooLarge.body.toString(), 'Payload Too Large');
      assert.equal(tooLarge.headers['content-type'], 'text/plain');
      assert.equal(tooLarge.headers.connection, undefined);
      conn.write('GET / HTTP/1.1\r\nhost: x\r\n\r\n');
      const next = await conn.response();
      assert.equal(next.status, 200);
      conn.destroy();
      await host.stop(); // Its whole log: stderr may trail the socket.
      assert.ok(host.output.includes('local reply 413 (request_payload_too_large)'), host.output);
    });
  });

  test('a 413 before the whole request was read closes the connection after the reply',
       async () => {
    await withHost({ configs: ['buffer-upper'], limit: 1024 }, async (host) => {
      const conn = await rawConnection(host.port);
      conn.write(`POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 4000\r\n\r\n${lowerText(2000)}`);
      const res = await conn.response();
      assert.equal(res.status, 413);
      assert.equal(res.body.toString(), 'Payload Too Large');
      assert.equal(res.headers.connection, 'close');
      assert.equal(await conn.closed(), true);
    });
  });

  test('a buffered response above the limit is a 500 sent instead of the response', async () => {
    await withHost({ configs: ['response-buffer-upper'], limit: 1024, logLevel: 'debug' },
                   async (host) => {
      const fits = await send(host.port, { method: 'GET', path: '/text/1000' });
      assert.equal(fits.status, 200);
      assert.equal(fits.body.toString(), lowerText(1000).toString().toUpperCase());
      const res = await send(host.port, { method: 'GET', path: '/text/2000' });
      assert.equal(res.status, 500);
      assert.equal(res.body.toString(), 'Internal Server Error');
      await host.stop(); // Its whole log: stderr may trail the socket.
      assert.ok(host.output.includes('local reply 500 (response_payload_too_large)'), host.output);
    });
  });

  test('once the response headers went downstream, a buffered response above the limit ' +
       'resets the stream', async () => {
    await withHost({ configs: ['response-buffer-body'], limit: 1024 }, async (host) => {
      const conn = await rawConnection(host.port);
      // Half of the body first: above the limit before the end of stream.
      conn.write('GET /text/2000/split HTTP/1.1\r\nhost: x\r\n\r\n');
      const res = await conn.response();
      assert.equal(res.status, 200);
      assert.equal(res.headers['content-length'], '2000');
      assert.ok(res.body.length < 2000);
      assert.equal(await conn.closed(), true);
    });
  });
});

describe('HTTP bodies: watermarks pause reading instead', () => {
  test('StopIterationAndWatermark: 4 MiB pass a 64 KiB limit intact; the downstream is ' +
       'read-disabled above it and read-enabled once the body moved on', async () => {
    await withHost({ configs: ['watermark'], limit: 64 * KiB, logLevel: 'debug' },
                   async (host) => {
      const body = randomBytes(4 * MiB);
      const conn = await rawConnection(host.port);
      conn.write(`POST / HTTP/1.1\r\nhost: x\r\ncontent-length: ${body.length}\r\n\r\n`);
      conn.write(body);
      const res = await conn.response();
      assert.equal(res.status, 200);
      assert.equal(sha256(res.body), sha256(body));
      // The same connection goes on: the stream left no read-disable behind.
      conn.write('GET /text/10 HTTP/1.1\r\nhost: x\r\n\r\n');
      assert.equal((await conn.response()).body.toString(), 'abcdefghij');
      conn.destroy();
      await host.stop(); // Its whole log: stderr may trail the socket.
      const paused = count(host.output, 'Read-disabling downstream stream due to filter callbacks.');
      const resumed = count(host.output, 'Read-enabling downstream stream due to filter callbacks.');
      assert.ok(paused >= 1, host.output.slice(-2000));
      assert.equal(resumed, paused);
      assert.ok(!host.output.includes('local reply 413'));
    });
  });

  test('draining the buffered body to limit / 2 (the low watermark) resumes reading',
       async () => {
    await withHost({ configs: ['watermark-drain'], limit: 64 * KiB, logLevel: 'debug' },
                   async (host) => {
      const body = randomBytes(MiB);
      const res = await send(host.port, { headers: { 'content-length': body.length },
                                          pieces: [body] });
      assert.equal(res.status, 200);
      const drained = Number(JSON.parse(res.headers['x-seen-headers'])['x-drained']);
      assert.ok(drained > 0);
      assert.equal(drained + res.body.length, body.length);
      assert.equal(sha256(res.body), sha256(body.subarray(drained)));
      await host.stop(); // Its whole log: stderr may trail the socket.
      const paused = count(host.output, 'Read-disabling downstream stream due to filter callbacks.');
      assert.ok(paused >= 1);
      assert.equal(count(host.output, 'Read-enabling downstream stream due to filter callbacks.'),
                   paused);
    });
  });

  test('response StopIterationAndWatermark: the upstream is read-disabled above the limit and ' +
       'the 4 MiB response arrives intact', async () => {
    await withHost({ configs: ['response-watermark'], limit: 64 * KiB, logLevel: 'debug' },
                   async (host) => {
      const res = await send(host.port, { method: 'GET', path: `/text/${4 * MiB}` });
      assert.equal(res.status, 200);
      assert.equal(sha256(res.body), sha256(lowerText(4 * MiB)));
      await host.stop(); // Its whole log: stderr may trail the socket.
      const paused = count(host.output, 'Disabling upstream stream due to filter callbacks.');
      assert.ok(paused >= 1, host.output.slice(-2000));
      assert.equal(count(host.output, 'Enabling upstream stream due to filter callbacks.'), paused);
    });
  });
});

describe('per_connection_buffer_limit_bytes in envoy.yaml', () => {
  for (const value of ['abc', '-1', '4294967296', '1.5']) {
    test(`${value} is rejected naming the field`, async () => {
      const yaml = httpProxyYaml({
        listenPort: await freePort(), adminPort: await freePort(), upstreamPort: 9,
        perConnectionBufferLimitBytes: value,
        filters: [{ module: 'http_body', filterName: 'body', config: '' }],
      });
      const { code, output } = await runHostToExit(yaml, { searchPath });
      assert.equal(code, 1, output);
      assert.ok(output.includes('static_resources.listeners[0].per_connection_buffer_limit_bytes: ' +
                                'expected an unsigned 32-bit integer'), output);
    });
  }

  test('on a TCP listener it is rejected: the host has no connection buffer limits', async () => {
    const listenPort = await freePort();
    const yaml = tcpProxyYaml({ listenPort, adminPort: await freePort(),
                                clusters: [{ name: 'upstream', port: 9 }] })
      .replace(`port_value: ${listenPort} }`,
               `port_value: ${listenPort} }\n    per_connection_buffer_limit_bytes: 1024`);
    const { code, output } = await runHostToExit(yaml, { searchPath });
    assert.equal(code, 1, output);
    assert.ok(output.includes('static_resources.listeners[0].per_connection_buffer_limit_bytes: ' +
                              'connection buffer limits of TCP listeners are not supported'),
              output);
  });
});
