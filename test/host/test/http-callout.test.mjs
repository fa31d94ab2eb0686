// One-shot HTTP callouts (envoy_dynamic_module_callback_http_filter_http_callout and the
// on_http_filter_http_callout_done hook) with Envoy's AsyncClient semantics, proven through real
// HTTP with the tiny C module test/host/modules/http_callout.c, an external-authorization filter:
// it asks the `authz` cluster (a raw TCP server here, so every framing and failure is in reach)
// and either forwards the request with the answer in x-authz-* headers, or replies itself
// (403 "denied <status>: <body>", 502 "callout result <r>", 500 "callout init <r>").
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { freePort, request, startHost, testModulesDir } from './helpers.mjs';
import { listenLoopback } from '../../support/servers.mjs';

const searchPath = testModulesDir;
const module = 'http_callout';

/** The main upstream: answers with the x-authz-* request headers it got, as JSON. */
async function startUpstream() {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({
        path: req.url,
        status: req.headers['x-authz-status'] ?? null,
        body: req.headers['x-authz-body'] ?? null,
        id: req.headers['x-authz-id'] ?? null,
      }));
    });
  });
  return listenLoopback(server);
}

/**
 * The authz upstream, raw HTTP/1.1 over TCP. Keeps every request it parsed (`requests`) and
 * counts closed sockets. Behaviour by path:
 *   /allow      200, content-length, body "ok <method> <x-authz-client> <host> <x-envoy-internal> <body>"
 *   /deny       403 "nope"
 *   /chunked    200, chunked in three writes: "chunk-1 chunk-2 chunk-3"
 *   /close      200 without length, body "until close", then closes
 *   /malformed  bytes that are not HTTP
 *   /cut        200 with content-length 100, 5 bytes, then a reset
 *   /slow       never answers
 *   /slow-body  200 with content-length 100 and 5 bytes, then nothing
 *   /big        200 with a 33 MiB body (over Envoy's 32 MiB async client limit)
 */
async function startAuthz() {
  const state = { requests: [], closed: 0, sockets: new Set() };
  const server = net.createServer((socket) => {
    state.sockets.add(socket);
    socket.on('close', () => { state.closed += 1; state.sockets.delete(socket); });
    socket.on('error', () => {});
    let buffered = Buffer.alloc(0);
    socket.on('data', (data) => {
      buffered = Buffer.concat([buffered, data]);
      for (;;) {
        const end = buffered.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buffered.subarray(0, end).toString('latin1').split('\r\n');
        const [method, target] = head[0].split(' ');
        const headers = {};
        for (const line of head.slice(1)) {
          const colon = line.indexOf(':');
          headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
        }
        const length = Number(headers['content-length'] ?? 0);
        if (buffered.length < end + 4 + length) return;
        const body = buffered.subarray(end + 4, end + 4 + length).toString('utf8');
        buffered = buffered.subarray(end + 4 + length);
        state.requests.push({ method, target, headers, body, head: head.join('\n') });
        respond(socket, method, target, headers, body);
      }
    });
  });
  const listening = await new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
  return {
    port: listening,
    state,
    close: () => new Promise((resolve) => {
      for (const socket of state.sockets) socket.destroy();
      server.close(resolve);
    }),
  };
}

function respond(socket, method, target, headers, body) {
  const send = (status, text, extra = '') => socket.write(
    `HTTP/1.1 ${status} X\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(text)}\r\n${extra}\r\n${text}`);
  switch (target) {
    case '/allow':
      send(200, `ok ${method} ${headers['x-authz-client']} ${headers.host} ${headers['x-envoy-internal']} ${body}`,
           'x-authz-extra: Yes\r\n');
      return;
    case '/deny':
      send(403, 'nope');
      return;
    case '/chunked':
      socket.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n8\r\nchunk-1 \r\n');
      setTimeout(() => socket.write('8\r\nchunk-2 \r\n'), 20);
      setTimeout(() => socket.write('7\r\nchunk-3\r\n0\r\n\r\n'), 40);
      return;
    case '/close':
      socket.end('HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nuntil close');
      return;
    case '/malformed':
      socket.write('this is not http\r\n\r\n');
      return;
    case '/cut':
      socket.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nhello');
      setTimeout(() => socket.resetAndDestroy(), 20);
      return;
    case '/slow':
      return;
    case '/slow-body':
      socket.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nhello');
      return;
    case '/big': {
      const size = 33 * 1024 * 1024;
      socket.write(`HTTP/1.1 200 OK\r\ncontent-length: ${size}\r\n\r\n`);
      socket.write(Buffer.alloc(size, 'x'));
      return;
    }
    default:
      send(404, 'unknown');
  }
}

const doneLines = (host) => host.output.split('\n').filter((line) => line.includes('callout_done'));

async function waitFor(predicate, what, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('HTTP callouts: one-shot requests to a cluster with Envoy AsyncClient semantics', () => {
  let upstream;
  let authz;
  let deadPort;
  const hosts = [];

  // The module's config names its callout cluster.
  async function startAuthzHost(cluster = 'authz') {
    const host = await startHost({
      upstreamPort: upstream.port, searchPath,
      filters: [{ module, filterName: 'authz', config: cluster }],
      extraClusters: [{ name: 'authz', port: authz.port }, { name: 'dead', port: deadPort }],
    });
    hosts.push(host);
    return host;
  }

  const ask = (host, authzPath, headers = {}) =>
    request(host.port, { path: '/resource', headers: { 'x-authz-path': authzPath, ...headers } });

  before(async () => {
    assert.ok(existsSync(path.join(testModulesDir, `lib${module}.so`)),
              `lib${module}.so is not built (run npm run build)`);
    upstream = await startUpstream();
    authz = await startAuthz();
    deadPort = await freePort(); // Nobody listens there.
  });

  after(async () => {
    for (const host of hosts) await host.stop();
    await upstream?.close();
    await authz?.close();
  });

  test('success: the request goes out as sent, the answer reaches the hook, the filter continues',
       async () => {
    const host = await startAuthzHost();
    const response = await ask(host, '/allow', { 'x-authz-body': 'payload' });
    assert.equal(response.status, 200);
    assert.deepEqual(JSON.parse(response.body), {
      path: '/resource', status: '200', body: 'ok POST callout-test authz true payload', id: '1',
    });
    const sent = authz.state.requests.at(-1);
    assert.equal(sent.method, 'POST');
    assert.equal(sent.target, '/allow');
    // host from the `host` header, keys lowercased, no pseudo-headers, content-length of the body.
    assert.equal(sent.headers.host, 'authz');
    assert.equal(sent.headers['content-length'], '7');
    assert.equal(sent.headers['x-envoy-internal'], 'true');
    assert.match(sent.head, /\nx-authz-client: callout-test(\n|$)/);
    assert.doesNotMatch(sent.head, /\n:/);
    assert.match(doneLines(host).at(-1), /callout_done id=1 result=0 status=200 headers=4 chunks=1/);

    // Chunked and close-delimited responses are read to their end.
    const chunked = await ask(host, '/chunked');
    assert.equal(JSON.parse(chunked.body).body, 'chunk-1 chunk-2 chunk-3');
    const closed = await ask(host, '/close');
    assert.equal(JSON.parse(closed.body).body, 'until close');
  });

  test('a non-200 answer: the module replies 403 with the callout status and body', async () => {
    const host = hosts[0];
    const response = await ask(host, '/deny');
    assert.equal(response.status, 403);
    assert.equal(response.body, 'denied 403: nope');
  });

  test('the hook may start another callout; ids count from 1 per filter', async () => {
    const host = hosts[0];
    const response = await ask(host, '/allow', { 'x-authz-twice': '1' });
    assert.equal(response.status, 200);
    assert.equal(JSON.parse(response.body).id, '1,2');
  });

  test('init results: unknown cluster (2), missing headers are checked first', async () => {
    const host = await startAuthzHost('no-such-cluster');
    const response = await ask(host, '/allow');
    assert.equal(response.status, 500);
    assert.equal(response.body, 'callout init 2');
    // MissingRequiredHeaders (1) is checked before the cluster, as in Envoy's abi_impl.cc.
    const noHost = await ask(host, '/allow', { 'x-authz-no-host': '1' });
    assert.equal(noHost.status, 500);
    assert.equal(noHost.body, 'callout init 1');
  });

  test('failures before the response headers: the async client router answers 503/504 (Success)',
       async () => {
    const host = hosts[0];
    // Connection refused (cluster "dead").
    const refused = await ask(host, '/allow', { 'x-authz-cluster': 'dead' });
    assert.equal(refused.status, 403);
    assert.match(refused.body,
                 /^denied 503: upstream connect error or disconnect\/reset before headers\. reset reason: connection failure/);
    const malformed = await ask(host, '/malformed');
    assert.equal(malformed.status, 403);
    assert.match(malformed.body, /^denied 503: .*reset reason: protocol error$/);
    const slow = await ask(host, '/slow', { 'x-authz-timeout-ms': '200' });
    assert.equal(slow.status, 403);
    assert.equal(slow.body, 'denied 504: upstream request timeout');
  });

  test('failures after the response headers are Reset; an oversized body ExceedResponseBufferLimit',
       async () => {
    const host = hosts[0];
    const cut = await ask(host, '/cut');
    assert.equal(cut.status, 502);
    assert.equal(cut.body, 'callout result 1');
    const slowBody = await ask(host, '/slow-body', { 'x-authz-timeout-ms': '200' });
    assert.equal(slowBody.status, 502);
    assert.equal(slowBody.body, 'callout result 1');
    assert.match(doneLines(host).at(-1), /result=1 status= headers=0 chunks=0/);
    const big = await ask(host, '/big');
    assert.equal(big.status, 502);
    assert.equal(big.body, 'callout result 2');
  });

  test('a client gone while the callout is pending: cancelled, the hook never runs', async () => {
    const host = hosts[0];
    const before = doneLines(host).length;
    const requestsBefore = authz.state.requests.length;
    const closedBefore = authz.state.closed;
    const socket = net.connect(host.port, '127.0.0.1');
    socket.on('error', () => {});
    await new Promise((resolve) => socket.on('connect', resolve));
    socket.write('GET /resource HTTP/1.1\r\nhost: x\r\nx-authz-path: /slow\r\n\r\n');
    await waitFor(() => authz.state.requests.length > requestsBefore, 'the callout request');
    socket.destroy();
    // The callout's connection is closed by the host (Envoy cancels the request).
    await waitFor(() => authz.state.closed > closedBefore, 'the callout connection to close');
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(doneLines(host).length, before);
    // The host is fine.
    const response = await ask(host, '/allow');
    assert.equal(response.status, 200);
    assert.equal(doneLines(host).length, before + 1);
  });
});
