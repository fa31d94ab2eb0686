// The router's upstream side against a raw HTTP/1.1 upstream, with Envoy's semantics: a response
// that ends before the request went out closes its connection (Envoy's HTTP/1 pool reuses one
// only once the request was complete), and whatever the upstream does after a complete response
// (close, EOF) reaches no filter: each direction ends once. The response-holding filter is the
// tiny C module test/host/modules/response_hold.c.
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';

import { request, startHost, testModulesDir } from './helpers.mjs';
import { listenLoopback } from '../../support/servers.mjs';

const searchPath = testModulesDir;
const MiB = 1024 * 1024;

const EARLY_413 = 'HTTP/1.1 413 Payload Too Large\r\ncontent-length: 9\r\n\r\ntoo large';

/**
 * A raw HTTP/1.1 upstream that numbers its connections (1, 2, ... in accept order) and keeps every
 * request it parses as { connection, method, path, bodyLength, bodyReceived } in `requests`
 * (bodyLength: its content-length; bodyReceived: the body bytes that arrived); a head that is not
 * a well-formed HTTP/1.1 request with an optional content-length body goes to `malformed` and
 * closes its connection. `POST /early` is answered with EARLY_413 (kept alive) as soon as its head
 * arrived; its connection then reads nothing for `earlyPauseMs`, and afterwards reads and
 * discards the rest of the body, as a keep-alive server must. Other paths get `responses[path]`
 * (raw bytes, after which the upstream closes the connection) or 200 `ok <path>`, once their body
 * arrived; `extraAfter[path]` is written in the same write, right after that 200 (stray bytes).
 */
async function startRawUpstream({ earlyPauseMs = 0, responses = {}, extraAfter = {} } = {}) {
  const requests = [];
  const malformed = [];
  let connections = 0;
  const server = net.createServer((socket) => {
    const connection = ++connections;
    let data = Buffer.alloc(0);
    let current = null; // the request whose body is being read
    let paused = false;
    socket.on('error', () => {});
    socket.on('data', (chunk) => {
      data = data.length === 0 ? chunk : Buffer.concat([data, chunk]);
      parse();
    });

    function parseHead(head) {
      const [line, ...fields] = head.split('\r\n');
      const start = /^([A-Z]+) (\/\S*) HTTP\/1\.1$/.exec(line);
      const headers = {};
      let ok = start !== null;
      for (const field of fields) {
        const header = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*(.*?)[ \t]*$/.exec(field);
        if (header === null) ok = false;
        else headers[header[1].toLowerCase()] = header[2];
      }
      ok = ok && headers['transfer-encoding'] === undefined &&
           /^\d+$/.test(headers['content-length'] ?? '0');
      return ok ? { method: start[1], path: start[2], headers } : null;
    }

    function parse() {
      while (!paused && !socket.destroyed) {
        if (current === null) {
          const end = data.indexOf('\r\n\r\n');
          if (end < 0) return;
          const head = data.subarray(0, end).toString('latin1');
          data = data.subarray(end + 4);
          const parsed = parseHead(head);
          if (parsed === null) {
            malformed.push({ connection, head: head.slice(0, 200) });
            socket.destroy();
            return;
          }
          const bodyLength = Number(parsed.headers['content-length'] ?? '0');
          current = { connection, method: parsed.method, path: parsed.path, bodyLength,
                      bodyReceived: 0 };
          requests.push(current);
          if (parsed.method === 'POST' && parsed.path === '/early') {
            socket.write(EARLY_413);
            if (earlyPauseMs > 0) {
              paused = true;
              socket.pause();
              setTimeout(() => { paused = false; socket.resume(); parse(); }, earlyPauseMs);
              return;
            }
          }
        }
        const taken = Math.min(current.bodyLength - current.bodyReceived, data.length);
        data = data.subarray(taken);
        current.bodyReceived += taken;
        if (current.bodyReceived < current.bodyLength) return;
        const { path } = current;
        current = null;
        if (path === '/early') continue;
        if (responses[path] !== undefined) {
          socket.end(responses[path]);
          return;
        }
        socket.write(`HTTP/1.1 200 OK\r\ncontent-length: ${3 + path.length}\r\n\r\nok ${path}${extraAfter[path] ?? ''}`);
      }
    }
  });
  const listening = await listenLoopback(server);
  return { ...listening, requests, malformed };
}

/** A request with a content-length body written in `pieces`, `gapMs` apart. */
function sendInPieces(port, { path, pieces, gapMs }) {
  const length = pieces.reduce((sum, piece) => sum + piece.length, 0);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path, agent: false,
                               headers: { 'content-length': length } }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode,
                                    body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(10000, () => req.destroy(new Error('request timed out')));
    (async () => {
      for (const piece of pieces) {
        req.write(piece);
        await new Promise((resolve) => setTimeout(resolve, gapMs));
      }
      req.end();
    })();
  });
}

/** Runs `fn(host)` against a host in front of `upstream`, then checks a clean shutdown. */
async function withHost({ upstream, filters, perConnectionBufferLimitBytes }, fn) {
  const host = await startHost({ upstreamPort: upstream.port, searchPath, filters,
                                 perConnectionBufferLimitBytes });
  try {
    await fn(host);
  } catch (error) {
    await host.stop();
    throw error;
  }
  const exit = await host.stop();
  assert.equal(exit.code, 0, `clean shutdown, output:\n${host.output}`);
}

describe('router: a response that ends before the request went out', () => {
  test('the whole request was handed to the connection but not yet written: the connection is ' +
       'closed, and the next request gets a fresh one and arrives intact', async () => {
    // The http_body filter buffers the 16 MiB request, so the router gets all of it at once and
    // the upstream answers while most of it still waits in the host's output (the upstream reads
    // nothing until it answered).
    const upstream = await startRawUpstream({ earlyPauseMs: 300 });
    try {
      await withHost({
        upstream, perConnectionBufferLimitBytes: 64 * MiB,
        filters: [{ module: 'http_body', filterName: 'body', config: 'buffer' }],
      }, async (host) => {
        const early = await request(host.port, {
          method: 'POST', path: '/early', headers: { 'content-length': 16 * MiB },
          body: Buffer.alloc(16 * MiB, 'a'),
        });
        assert.equal(early.status, 413);
        assert.equal(early.body, 'too large');
        const next = await request(host.port, { path: '/next' });
        assert.equal(next.status, 200);
        assert.equal(next.body, 'ok /next');
        assert.deepEqual(upstream.malformed, []);
        // How much of the body reached the upstream before the close depends on socket buffers.
        assert.deepEqual(upstream.requests.map(({ bodyReceived, ...request }) => request), [
          { connection: 1, method: 'POST', path: '/early', bodyLength: 16 * MiB },
          { connection: 2, method: 'GET', path: '/next', bodyLength: 0 },
        ]);
      });
    } finally {
      await upstream.close();
    }
  });

  test('the request ends after the response did (a filter held the response meanwhile): the ' +
       'rest of the request is not sent and the connection is not reused', async () => {
    const upstream = await startRawUpstream();
    try {
      await withHost({
        upstream,
        filters: [{ module: 'response_hold', filterName: 'hold', config: 'hold-all:300' }],
      }, async (host) => {
        const early = await sendInPieces(host.port, {
          path: '/early', pieces: ['first', 'second'], gapMs: 100,
        });
        assert.equal(early.status, 413);
        assert.equal(early.body, 'too large');
        const next = await request(host.port, { path: '/next' });
        assert.equal(next.status, 200);
        assert.equal(next.body, 'ok /next');
        assert.deepEqual(upstream.malformed, []);
        // At most the piece sent before the response: never the one sent after it.
        assert.ok(upstream.requests[0]?.bodyReceived <= 'first'.length, upstream.requests);
        assert.deepEqual(upstream.requests.map(({ bodyReceived, ...request }) => request), [
          { connection: 1, method: 'POST', path: '/early', bodyLength: 11 },
          { connection: 2, method: 'GET', path: '/next', bodyLength: 0 },
        ]);
      });
    } finally {
      await upstream.close();
    }
  });
});

describe('router: bytes past the end of a response', () => {
  test('the upstream sends more than its response: that connection is not reused', async () => {
    const upstream = await startRawUpstream({ extraAfter: { '/chatty': 'HTTP/1.1 200 OK\r\n' } });
    try {
      await withHost({ upstream, filters: [] }, async (host) => {
        const chatty = await request(host.port, { path: '/chatty' });
        assert.equal(chatty.status, 200);
        assert.equal(chatty.body, 'ok /chatty');
        const next = await request(host.port, { path: '/next' });
        assert.equal(next.status, 200);
        assert.equal(next.body, 'ok /next');
        assert.deepEqual(upstream.requests.map(({ connection, path }) => ({ connection, path })), [
          { connection: 1, path: '/chatty' },
          { connection: 2, path: '/next' },
        ]);
      });
    } finally {
      await upstream.close();
    }
  });
});

describe('router: a held response, then the upstream closes', () => {
  // record (last encoder filter) sees what hold (first encoder filter) lets through once its
  // scheduled continue comes, 200 ms after the response headers; by then the upstream's EOF that
  // follows each response has long been read.
  const filters = [
    { module: 'response_hold', filterName: 'record', config: 'record' },
    { module: 'response_hold', filterName: 'hold', config: 'hold-all:200' },
  ];
  const cases = [
    { path: '/empty', what: 'a headers-only keep-alive response',
      response: 'HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n', body: '', tokens: 'H1' },
    { path: '/body', what: 'a content-length response',
      response: 'HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello', body: 'hello',
      tokens: 'H0 D1:5' },
    { path: '/trailers', what: 'a chunked response of trailers only',
      response: 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n0\r\nx-trailer: t\r\n\r\n',
      body: '', tokens: 'H0 T' },
    { path: '/close-delimited', what: 'a close-delimited response',
      response: 'HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nhello', body: 'hello',
      tokens: 'H0 D1:5' },
  ];
  let upstream;
  before(async () => {
    upstream = await startRawUpstream({
      responses: Object.fromEntries(cases.map(({ path, response }) => [path, response])),
    });
  });
  after(() => upstream.close());

  for (const { path, what, body, tokens } of cases) {
    test(`${what}: every filter gets its end of stream once (${tokens})`, async () => {
      await withHost({ upstream, filters }, async (host) => {
        const res = await request(host.port, { path });
        assert.equal(res.status, 200);
        assert.equal(res.body, body);
        const deadline = Date.now() + 5000;
        while (!host.output.includes('response_hold record:') && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        assert.ok(host.output.includes(`response_hold hold: ${tokens}\n`), host.output);
        assert.ok(host.output.includes(`response_hold record: ${tokens}\n`), host.output);
      });
    });
  }
});
