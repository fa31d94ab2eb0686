// Streaming HTTP callouts (start_http_stream, http_stream_send_data / _send_trailers,
// reset_http_stream and the on_http_filter_http_stream_* hooks) with the semantics of Envoy's
// DynamicModuleHttpFilter over an AsyncClient::Stream, proven through real HTTP with the C module
// test/host/modules/http_stream.c: it starts a stream as the request headers ask, logs every event
// (one line each) and replies 200 with the log once no stream is open.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { freePort, request, startHost, testModulesDir } from './helpers.mjs';
import { listenLoopback } from '../../support/servers.mjs';

const module = 'http_stream';

/**
 * The `stream` cluster: a node HTTP server keeping what it received (`requests`: method, url,
 * headers, body, trailers, and `closed` once its socket closed). By path:
 *   /stream         200 chunked, "one" "two" "three" in writes 30 ms apart
 *   /echo           200 JSON of the request (te, cl, body, trailers, client, internal)
 *   /echo-trailers  the same, chunked, with the response trailer x-echo-trailer: done
 *   /reset          200 chunked, "partial", then the socket is destroyed
 *   /slow           never answers
 *   /slow-body      200 with content-length 100 and 5 bytes, then nothing
 *   /early          200 "early" at once, without reading the request body
 *   /delay          200 "late" after 150 ms
 *   /hang           200 chunked, "first", then nothing
 */
async function startStreamUpstream() {
  const requests = [];
  const server = http.createServer((req, res) => {
    const entry = { method: req.method, url: req.url, headers: req.headers, body: '',
                    trailers: null, closed: false };
    requests.push(entry);
    req.socket.once('close', () => { entry.closed = true; });
    req.setEncoding('utf8');
    req.on('data', (chunk) => { entry.body += chunk; });
    const echo = () => JSON.stringify({
      te: req.headers['transfer-encoding'] ?? null, cl: req.headers['content-length'] ?? null,
      body: entry.body, trailers: req.trailers, client: req.headers['x-stream-client'],
      internal: req.headers['x-envoy-internal'],
    });
    req.on('end', () => { entry.trailers = req.trailers; });
    switch (req.url) {
      case '/stream':
        res.writeHead(200, { 'content-type': 'text/plain', 'x-upstream': 'stream' });
        res.write('one');
        setTimeout(() => res.write('two'), 30);
        setTimeout(() => res.end('three'), 60);
        return;
      case '/echo':
        req.on('end', () => res.end(echo()));
        return;
      case '/echo-trailers':
        req.on('end', () => {
          res.writeHead(200, { trailer: 'x-echo-trailer' });
          res.write(echo());
          res.addTrailers({ 'x-echo-trailer': 'done' });
          res.end();
        });
        return;
      case '/reset':
        res.writeHead(200);
        res.write('partial');
        setTimeout(() => req.socket.destroy(), 30);
        return;
      case '/slow':
        return;
      case '/slow-body':
        res.writeHead(200, { 'content-length': 100 });
        res.write('hello');
        return;
      case '/early':
        res.end('early');
        return;
      case '/delay':
        setTimeout(() => res.end('late'), 150);
        return;
      case '/hang':
        res.writeHead(200);
        res.write('first');
        return;
      default:
        res.writeHead(404);
        res.end('unknown');
    }
  });
  const listening = await listenLoopback(server);
  return { ...listening, requests };
}

async function waitFor(predicate, what, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const lines = (body) => body.split('\n').filter(Boolean);
const kinds = (log) => log.map((line) => line.split(' ')[0]);
/** The bytes of the data lines of stream `id`, one string per data event. */
const dataOf = (log, id) => log.filter((line) => line.startsWith(`data ${id} `))
  .map((line) => line.split(' ').slice(4).join(' '));

describe('streaming HTTP callouts: Envoy AsyncClient::Stream semantics', () => {
  let upstream;
  let host;
  let deadPort;

  before(async () => {
    assert.ok(existsSync(path.join(testModulesDir, `lib${module}.so`)),
              `lib${module}.so is not built (run npm run build)`);
    upstream = await startStreamUpstream();
    deadPort = await freePort(); // Nobody listens there.
    // Requests never reach the router (the module answers them): its route goes to `stream` too.
    host = await startHost({
      upstreamPort: upstream.port, searchPath: testModulesDir,
      filters: [{ module, filterName: 'streams', config: 'stream' }],
      extraClusters: [{ name: 'stream', port: upstream.port }, { name: 'dead', port: deadPort }],
    });
  });

  after(async () => {
    await host?.stop();
    await upstream?.close();
  });

  /** One request through the module; resolves with its event log (lines). */
  async function stream(headers) {
    const response = await request(host.port, { path: '/', headers });
    assert.equal(response.status, 200, response.body);
    return lines(response.body);
  }

  test('response events as they arrive: headers (:status first), one data event per write, ' +
       'complete once', async () => {
    const log = await stream({ 'x-stream-path': '/stream' });
    assert.deepEqual(kinds(log), ['start', 'headers', ...kinds(log).slice(2, -1), 'complete']);
    assert.equal(log[0], 'start 1');
    assert.match(log[1], /^headers 1 end=0 :status=200;content-type=text\/plain;x-upstream=stream;/);
    assert.doesNotMatch(log[1], /transfer-encoding|connection=/);
    const data = log.filter((line) => line.startsWith('data '));
    assert.ok(data.length >= 3, log.join('\n'));
    assert.deepEqual(dataOf(log, 1).filter(Boolean), ['one', 'two', 'three']);
    assert.ok(data.slice(0, -1).every((line) => line.includes(' end=0 ')), log.join('\n'));
    assert.match(data.at(-1), / end=1 /);
    assert.equal(log.filter((line) => line.startsWith('complete')).length, 1);
    const sent = upstream.requests.at(-1);
    assert.equal(sent.method, 'GET');
    assert.equal(sent.headers.host, 'streams');
    assert.equal(sent.headers['x-stream-client'], 'stream-test');
    assert.equal(sent.headers['x-envoy-internal'], 'true');
  });

  test('a request body in pieces (send_data from later loop turns) arrives whole, in order, ' +
       'chunked', async () => {
    const log = await stream({ 'x-stream-path': '/echo', 'x-stream-body': 'start-',
                               'x-stream-pieces': 'a,bb,ccc' });
    assert.deepEqual(log.filter((line) => line.startsWith('send')),
                     ['send 1 a ok=1', 'send 1 bb ok=1', 'send 1 ccc ok=1']);
    const echo = JSON.parse(dataOf(log, 1).join(''));
    assert.deepEqual(echo, { te: 'chunked', cl: null, body: 'start-abbccc', trailers: {},
                             client: 'stream-test', internal: 'true' });
    assert.equal(log.at(-1), 'complete 1');

    // A body given whole to the start still goes out chunked (no content-length is added, and
    // Envoy's HTTP/1 codec writes the headers before the body).
    const whole = await stream({ 'x-stream-path': '/echo', 'x-stream-body': 'whole' });
    assert.deepEqual(JSON.parse(dataOf(whole, 1).join('')),
                     { te: 'chunked', cl: null, body: 'whole', trailers: {},
                       client: 'stream-test', internal: 'true' });
  });

  test('trailers both ways: send_trailers ends the request, response trailers end the response',
       async () => {
    const log = await stream({ 'x-stream-path': '/echo-trailers', 'x-stream-pieces': 'p1,p2',
                               'x-stream-req-trailers': 'X-Req-Sum:42' });
    assert.deepEqual(log.filter((line) => line.startsWith('send')),
                     ['send 1 p1 ok=1', 'send 1 p2 ok=1', 'send-trailers 1 ok=1']);
    const echo = JSON.parse(dataOf(log, 1).join(''));
    assert.equal(echo.body, 'p1p2');
    assert.deepEqual(echo.trailers, { 'x-req-sum': '42' });
    assert.deepEqual(log.slice(-2), ['trailers 1 x-echo-trailer=done', 'complete 1']);
    assert.ok(log.filter((line) => line.startsWith('data ')).every((l) => l.includes(' end=0 ')));
  });

  test('the upstream closing mid-response: reset (LocalReset, as Envoy reports every reset), ' +
       'nothing after', async () => {
    const log = await stream({ 'x-stream-path': '/reset' });
    assert.match(log[1], /^headers 1 end=0 :status=200/);
    assert.deepEqual(dataOf(log, 1), ['partial']);
    assert.equal(log.at(-1), 'reset 1 2');
    assert.ok(!log.some((line) => line.startsWith('complete')), log.join('\n'));
  });

  test('connect failure: the async client router answers 503 (headers, data, complete)',
       async () => {
    const log = await stream({ 'x-stream-cluster': 'dead', 'x-stream-pieces': 'x' });
    const body = 'upstream connect error or disconnect/reset before headers. reset reason: ' +
                 'connection failure';
    assert.deepEqual(log.filter((line) => !line.startsWith('send')), [
      'start 1',
      `headers 1 end=0 :status=503;content-length=${body.length};content-type=text/plain`,
      `data 1 end=1 chunks=1 ${body}`,
      'complete 1',
    ]);
  });

  test('timeout (from the end of the request): 504 before the response headers, a reset after',
       async () => {
    const slow = await stream({ 'x-stream-path': '/slow', 'x-stream-timeout-ms': '150' });
    assert.deepEqual(slow, [
      'start 1',
      'headers 1 end=0 :status=504;content-length=24;content-type=text/plain',
      'data 1 end=1 chunks=1 upstream request timeout',
      'complete 1',
    ]);
    const slowBody = await stream({ 'x-stream-path': '/slow-body', 'x-stream-timeout-ms': '150' });
    assert.match(slowBody[1], /^headers 1 end=0 :status=200;content-length=100/);
    assert.deepEqual(dataOf(slowBody, 1), ['hello']);
    assert.equal(slowBody.at(-1), 'reset 1 2');
  });

  test('the response ending first closes the stream: complete, then sends are refused',
       async () => {
    const log = await stream({ 'x-stream-path': '/early', 'x-stream-pieces': 'late,later',
                               'x-stream-pieces-on-headers': '1' });
    assert.deepEqual(log, ['start 1', log[1], 'data 1 end=1 chunks=1 early', 'complete 1',
                           'send 1 late ok=0']);
    assert.match(log[1], /^headers 1 end=0 :status=200;/);
    await waitFor(() => upstream.requests.at(-1).closed, 'the unfinished request to be closed');
  });

  test('reset_http_stream: the reset hook runs inside the call, then nothing for that stream; ' +
       'ids are per filter, shared by a second stream', async () => {
    // Reset from the first headers hook; a second stream (started from the reset hook) keeps the
    // filter waiting long enough for the rest of /stream to have arrived.
    const log = await stream({ 'x-stream-path': '/stream', 'x-stream-reset': 'headers',
                               'x-stream-then': '/delay' });
    assert.deepEqual(kinds(log).slice(0, 6),
                     ['start', 'headers', 'reset-call', 'reset', 'start', 'reset-returned']);
    assert.deepEqual(log.slice(2, 6), ['reset-call 1', 'reset 1 2', 'start 2', 'reset-returned 1']);
    assert.ok(!log.some((line) => / 1 /.test(line) && /^(data|complete|trailers)/.test(line)),
              log.join('\n'));
    assert.deepEqual(dataOf(log, 2).filter(Boolean), ['late']);
    assert.equal(log.at(-1), 'complete 2');

    // Right after the start, from the request headers hook; unknown ids are refused. The
    // connection is abandoned before it is up, so the upstream never gets the request.
    const hangs = () => upstream.requests.filter((r) => r.url === '/hang').length;
    const hangsBefore = hangs();
    const early = await stream({ 'x-stream-path': '/hang', 'x-stream-reset': 'start',
                                 'x-stream-probe': '1' });
    assert.deepEqual(early,
                     ['start 1', 'send-unknown ok=0', 'reset-call 1', 'reset 1 2',
                      'reset-returned 1']);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(hangs(), hangsBefore);
  });

  test('init results: missing required headers (1), unknown cluster (2)', async () => {
    const noHost = await request(host.port, { headers: { 'x-stream-no-host': '1' } });
    assert.equal(noHost.status, 500);
    assert.equal(noHost.body, 'init 1\n');
    const unknown = await request(host.port, { headers: { 'x-stream-cluster': 'nope' } });
    assert.equal(unknown.status, 500);
    assert.equal(unknown.body, 'init 2\n');
  });

  test('the filter destroyed (client gone): open streams are reset without events; the timeout ' +
       'waits for the request to end', async () => {
    const events = (tag) => host.output.split('\n').filter((l) => l.includes(`stream_event ${tag} `));
    const open = async (tag, headers) => {
      const socket = net.connect(host.port, '127.0.0.1');
      socket.on('error', () => {});
      await new Promise((resolve) => socket.on('connect', resolve));
      const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
      socket.write(`GET / HTTP/1.1\r\nhost: x\r\nx-stream-tag: ${tag}\r\n${extra}\r\n`);
      return socket;
    };
    // A response that started and stalls; a request never ended, with a short timeout.
    const hanging = await open('hang', { 'x-stream-path': '/hang' });
    const unended = await open('open', { 'x-stream-path': '/slow', 'x-stream-open': '1',
                                         'x-stream-timeout-ms': '50' });
    await waitFor(() => events('hang').some((l) => l.includes('data 1')), 'the first data');
    await waitFor(() => events('open').length === 1, 'the open stream to start');
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.deepEqual(events('open').map((l) => l.slice(l.indexOf('stream_event'))),
                     ['stream_event open start 1']);
    const requests = upstream.requests.filter((r) => r.url === '/hang' || r.url === '/slow')
      .slice(-2);
    assert.equal(requests.length, 2);
    assert.ok(requests.every((r) => !r.closed));
    const before = { hang: events('hang').length, open: events('open').length };
    hanging.destroy();
    unended.destroy();
    await waitFor(() => requests.every((r) => r.closed), 'both stream connections to close');
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual({ hang: events('hang').length, open: events('open').length }, before);
    // The host is fine.
    const log = await stream({ 'x-stream-path': '/stream' });
    assert.equal(log.at(-1), 'complete 1');
  });
});
