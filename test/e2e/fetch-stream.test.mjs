// Streaming ctx.fetch: a large response read piece by piece as it arrives, and a request body
// uploaded as it is produced, through an Envoy cluster to a real server.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';

import { listenLoopback } from '../support/servers.mjs';
import { echoOf, fixturesBundle, proxyName, request, startProxy, startUpstream } from './harness.mjs';

const MiB = 1024 * 1024;

describe(`streaming fetch through ${proxyName}`, () => {
  let feed;
  let upstream;
  let proxy;

  before(async () => {
    // /big: 4 MiB in 64 KiB writes; /slow: three pieces 30 ms apart; /upload: echoes what it got;
    // /rpc: echoes the body and the request's x-checksum trailer, then answers with trailers.
    feed = await listenLoopback(http.createServer(async (req, res) => {
      if (req.url === '/rpc') {
        const chunks = [];
        for await (const chunk of req) chunks.push(chunk);
        res.writeHead(200, { 'content-type': 'application/grpc', trailer: 'grpc-status, grpc-message' });
        res.write(`pong to ${Buffer.concat(chunks).toString()} (checksum ${req.trailers['x-checksum'] ?? 'none'})`);
        res.addTrailers({ 'grpc-status': '0', 'grpc-message': 'all good' });
        res.end();
        return;
      }
      if (req.url === '/upload') {
        const chunks = [];
        for await (const chunk of req) chunks.push(chunk);
        res.writeHead(201, { 'content-type': 'text/plain' });
        res.end(`got ${Buffer.concat(chunks).toString()}`);
        return;
      }
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      if (req.url === '/big') {
        for (let sent = 0; sent < 4 * MiB; sent += 64 * 1024) {
          if (!res.write(Buffer.alloc(64 * 1024, 'x'))) await new Promise((resolve) => res.once('drain', resolve));
        }
      } else {
        for (const piece of ['one', 'two', 'three']) {
          res.write(piece);
          await new Promise((resolve) => setTimeout(resolve, 30));
        }
      }
      res.end();
    }));
    upstream = await startUpstream();
    proxy = await startProxy({
      upstreamPort: upstream.port,
      extraClusters: [{ name: 'feed', port: feed.port }],
      filterConfigs: [{ bundle: fixturesBundle, chain: [{ name: 'fetch-stream' }] }],
    });
  });

  after(async () => {
    const exit = await proxy?.stop();
    await upstream?.close();
    await feed?.close();
    assert.equal(exit?.code, 0, `clean shutdown, output:\n${proxy?.output}`);
  });

  test('a 4 MiB response, over the 1 MiB buffer limit, is read whole as it streams', async () => {
    const response = await request(proxy.port, { path: '/big' });
    assert.equal(response.status, 200);
    const seen = echoOf(response).headers;
    assert.equal(seen['x-feed-status'], '200');
    assert.equal(Number(seen['x-feed-bytes']), 4 * MiB);
    assert.ok(Number(seen['x-feed-pieces']) > 1, 'in several pieces');
  });

  test('pieces written apart arrive apart', async () => {
    const seen = echoOf(await request(proxy.port, { path: '/slow' })).headers;
    assert.equal(seen['x-feed-bytes'], String('onetwothree'.length));
    assert.equal(seen['x-feed-pieces'], '3');
  });

  test('a request body produced piece by piece reaches the server whole', async () => {
    const seen = echoOf(await request(proxy.port, { method: 'POST', path: '/post' })).headers;
    assert.equal(seen['x-upload-status'], '201');
    assert.equal(seen['x-upload-echo'], 'got alpha,beta,gamma');
  });

  test('request trailers reach the server after the body; the response trailers reach the filter', async () => {
    const seen = echoOf(await request(proxy.port, { method: 'PUT', path: '/call' })).headers;
    assert.equal(seen['x-rpc-body'], 'pong to ping (checksum c0ffee)');
    assert.equal(seen['x-rpc-status'], '0');
    assert.equal(seen['x-rpc-message'], 'all good');
  });
});
