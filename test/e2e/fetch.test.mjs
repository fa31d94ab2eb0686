// ctx.fetch through an Envoy cluster: a filter asks a real authz service before the request goes on.
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';

import { listenLoopback } from '../support/servers.mjs';
import { echoOf, fixturesBundle, proxyName, request, startProxy, startUpstream } from './harness.mjs';

/** The authz service: /check?user=alice → 200 {"role":"admin"}; slow → waits; others → 403. */
async function startAuthz() {
  const calls = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://authz');
    calls.push({ path: url.pathname, user: url.searchParams.get('user'), host: req.headers.host,
                 originalPath: req.headers['x-original-path'] });
    const user = url.searchParams.get('user');
    if (user === 'slow') {
      setTimeout(() => res.end('{"role":"late"}'), 1000);
      return;
    }
    res.writeHead(user === 'alice' ? 200 : 403, { 'content-type': 'application/json' });
    res.end(user === 'alice' ? '{"role":"admin"}' : '{}');
  });
  return { ...(await listenLoopback(server)), calls };
}

describe(`ctx.fetch through ${proxyName}`, () => {
  let upstream;
  let authz;
  let proxy;

  before(async () => {
    upstream = await startUpstream();
    authz = await startAuthz();
    proxy = await startProxy({
      upstreamPort: upstream.port,
      extraClusters: [{ name: 'authz', port: authz.port }],
      filterConfigs: [{ bundle: fixturesBundle, chain: [{ name: 'fetch-authz', config: { timeoutMs: 200 } }] }],
    });
  });

  after(async () => {
    await proxy?.stop();
    await authz?.close();
    await upstream?.close();
  });

  test('an allowed user goes upstream with what authz answered', async () => {
    const response = await request(proxy.port, { path: '/orders', headers: { 'x-user': 'alice' } });
    assert.equal(response.status, 200);
    assert.equal(echoOf(response).headers['x-authz-role'], 'admin');
    const call = authz.calls.at(-1);
    assert.deepEqual(call, { path: '/check', user: 'alice', host: 'authz', originalPath: '/orders' });
  });

  test("a denied user gets 403 and the upstream never sees the request", async () => {
    const before = upstream.seen.length;
    const response = await request(proxy.port, { headers: { 'x-user': 'mallory' } });
    assert.equal(response.status, 403);
    assert.equal(response.body, 'denied by authz (403)');
    assert.equal(upstream.seen.length, before);
  });

  test('a call slower than its timeout fails: the filter answers 503', async () => {
    const response = await request(proxy.port, { headers: { 'x-user': 'slow' } });
    assert.equal(response.status, 503);
    assert.equal(response.body, 'authz unavailable');
  });

  test('clients that leave while the call is pending leave the proxy healthy', async () => {
    await Promise.all(Array.from({ length: 10 }, () => new Promise((resolve, reject) => {
      const socket = net.connect(proxy.port, '127.0.0.1', () => {
        socket.write('GET / HTTP/1.1\r\nhost: x\r\nx-user: slow\r\n\r\n');
        setTimeout(() => { socket.destroy(); resolve(); }, 20);
      });
      socket.on('error', reject);
    })));
    await new Promise((resolve) => setTimeout(resolve, 300));
    const response = await request(proxy.port, { headers: { 'x-user': 'alice' } });
    assert.equal(response.status, 200);
    assert.equal(proxy.exited, null);
  });
});
