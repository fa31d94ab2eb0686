// The HTTP stream data API through a real proxy: attributes, dynamic metadata, filter state,
// labelled metrics in /stats, response trailers, onStreamComplete, and re-routing on :path.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';

import { echoOf, fixturesBundle, proxyName, request, startProxy } from './harness.mjs';
import { listenLoopback } from '../support/servers.mjs';

/** An upstream that echoes like the harness's and, for /trailers, answers with chunked trailers. */
async function startTrailerUpstream() {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url === '/trailers') {
        res.writeHead(200, { 'content-type': 'text/plain', trailer: 'x-upstream-trailer' });
        res.write('body');
        res.addTrailers({ 'x-upstream-trailer': 'from-upstream' });
        res.end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ method: req.method, path: req.url, headers: req.headers }));
    });
  });
  return listenLoopback(server);
}

/** A GET whose response trailers are collected. */
function getWithTrailers(port, path) {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, trailers: res.trailers }));
      res.on('error', reject);
    }).on('error', reject);
  });
}

describe(`stream data API through ${proxyName}`, () => {
  let upstream;
  let proxy;

  before(async () => {
    upstream = await startTrailerUpstream();
    proxy = await startProxy({
      upstreamPort: upstream.port,
      filterConfigs: [{ bundle: fixturesBundle, chain: [{ name: 'stream-data' }] }],
    });
  });

  after(async () => {
    await proxy?.stop();
    await upstream?.close();
  });

  test('attributes, metadata and filter state are readable by the filter', async () => {
    const response = await request(proxy.port, { path: '/meta' });
    assert.equal(response.status, 200);
    const { headers } = echoOf(response);
    assert.equal(headers['x-attr-protocol'], 'HTTP/1.1');
    assert.match(headers['x-attr-source'], /^127\.0\.0\.1:\d+$/);
    assert.match(headers['x-attr-source-port'], /^\d+$/);
    assert.match(headers['x-attr-connection-id'], /^\d+$/);
    assert.equal(headers['x-metadata-path'], '/meta');
    assert.equal(headers['x-metadata-flag'], 'true');
    assert.equal(headers['x-filter-state'], 'kept');
  });

  test('a :path rewritten in a request hook is what the upstream receives', async () => {
    const response = await request(proxy.port, { path: '/rewrite-me' });
    assert.equal(echoOf(response).path, '/rewritten');
  });

  test('response trailers reach the trailer hook and its writes reach the client', async () => {
    const response = await getWithTrailers(proxy.port, '/trailers');
    assert.equal(response.status, 200);
    assert.equal(response.trailers['x-upstream-trailer'], 'from-upstream');
    assert.equal(response.trailers['x-trailer-seen'], 'from-upstream');
  });

  test('declared metrics, with labels, show up in /stats; onStreamComplete runs per stream', async () => {
    const before = await proxy.stat('stream-data.completed') ?? 0;
    await request(proxy.port, { method: 'POST', path: '/count', body: 'x' });
    await request(proxy.port, { path: '/count' });
    const stats = await proxy.statsText();
    assert.match(stats, /stream-data\.requests\S*POST\S*: [1-9]/, stats);
    assert.match(stats, /stream-data\.requests\S*GET\S*: [1-9]/);
    // onStreamComplete runs as the stream ends, right after the response is written.
    for (let i = 0; i < 50 && (await proxy.stat('stream-data.completed') ?? 0) < before + 2; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.ok((await proxy.stat('stream-data.completed')) >= before + 2);
    assert.ok((await proxy.stat('stream-data.trailers')) >= 1);
  });
});
