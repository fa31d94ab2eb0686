// Streams that end early, several workers, keep-alive, and environments prepared before traffic.
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';

import { echoOf, examplesBundle, fixturesBundle, proxyName, realEnvoy, request, startProxy,
         startUpstream } from './harness.mjs';

const exampleChain = {
  bundle: examplesBundle,
  chain: [{ name: 'request-id' }, { name: 'async-delay', config: { ms: 2 } }],
};

/** Sends a request and closes the connection once `delayMs` passed, before any response. */
function abandonRequest(port, delayMs) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.write('GET /abandoned HTTP/1.1\r\nhost: test\r\n\r\n');
      setTimeout(() => {
        socket.destroy();
        resolve();
      }, delayMs);
    });
    socket.on('error', reject);
  });
}

describe(`stream lifecycle through ${proxyName}`, () => {
  let upstream;

  before(async () => {
    upstream = await startUpstream();
  });

  after(async () => {
    await upstream?.close();
  });

  test('clients that disconnect while a filter promise is pending leave the proxy healthy', async () => {
    const proxy = await startProxy({
      upstreamPort: upstream.port,
      concurrency: 2,
      filterConfigs: [{ bundle: fixturesBundle, chain: [{ name: 'slow', config: { ms: 20 } }] }],
    });
    try {
      for (let round = 0; round < 10; round++) {
        await Promise.all(Array.from({ length: 20 }, (_, i) => abandonRequest(proxy.port, i % 3 === 0 ? 1 : 5)));
      }
      // Let every pending timer fire against its destroyed stream.
      await new Promise((resolve) => setTimeout(resolve, 100));
      const response = await request(proxy.port, { path: '/after' });
      assert.equal(response.status, 200);
      assert.equal(echoOf(response).path, '/after');
      assert.equal(proxy.exited, null);
      assert.doesNotMatch(proxy.output, /ETS_ERR|threw|failed/i);
    } finally {
      const exit = await proxy.stop();
      assert.equal(exit.code, 0, `clean shutdown, output:\n${proxy.output}`);
    }
  });

  for (const concurrency of [2, 4]) {
    test(`--concurrency ${concurrency}: parallel requests on many connections all pass`, async () => {
      const proxy = await startProxy({
        upstreamPort: upstream.port, concurrency, filterConfigs: [exampleChain], logLevel: 'debug',
      });
      try {
        const responses = await Promise.all(Array.from({ length: 64 }, (_, i) =>
          request(proxy.port, { path: `/parallel/${i}` })));
        const ids = new Set();
        responses.forEach((response, i) => {
          assert.equal(response.status, 200);
          const echo = echoOf(response);
          assert.equal(echo.path, `/parallel/${i}`);
          assert.equal(echo.headers['x-async-delay-ms'], '2');
          assert.equal(response.headers['x-request-id'], echo.headers['x-request-id']);
          ids.add(echo.headers['x-request-id']);
        });
        assert.equal(ids.size, responses.length, 'every request got its own id');
        if (!realEnvoy) {
          // Every worker found an environment prepared at config load: none paid for creating one.
          assert.doesNotMatch(proxy.output, /creating one now/);
        }
      } finally {
        await proxy.stop();
      }
    });
  }

  test('keep-alive: many requests on one connection', async () => {
    const proxy = await startProxy({ upstreamPort: upstream.port, filterConfigs: [exampleChain] });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (let i = 0; i < 20; i++) {
        const response = await request(proxy.port, { path: `/ka/${i}`, agent });
        assert.equal(response.status, 200);
        assert.equal(echoOf(response).path, `/ka/${i}`);
      }
    } finally {
      agent.destroy();
      await proxy.stop();
    }
  });

  test('two envoy_ts filters in one HTTP filter chain each run their own chain', async () => {
    const proxy = await startProxy({
      upstreamPort: upstream.port,
      filterConfigs: [
        { bundle: examplesBundle, chain: [{ name: 'request-id' }] },
        { bundle: examplesBundle, chain: [{ name: 'header-auth', config: { tokens: ['t0k3n'] } }] },
      ],
    });
    try {
      const denied = await request(proxy.port);
      assert.equal(denied.status, 401);
      const allowed = await request(proxy.port, { headers: { authorization: 't0k3n' } });
      assert.equal(allowed.status, 200);
      assert.ok(echoOf(allowed).headers['x-request-id']);
    } finally {
      await proxy.stop();
    }
  });
});

describe(`worker environments through ${proxyName}`, () => {
  test('ENVOY_TS_WORKER_ENVIRONMENTS above Envoy\'s worker count is capped, with a warning', async () => {
    const upstream = await startUpstream();
    const proxy = await startProxy({
      upstreamPort: upstream.port, concurrency: 1, env: { ENVOY_TS_WORKER_ENVIRONMENTS: '40' },
      filterConfigs: [{ bundle: examplesBundle, chain: [{ name: 'request-id' }] }],
    });
    try {
      assert.equal((await request(proxy.port)).status, 200);
      assert.match(proxy.output, /ENVOY_TS_WORKER_ENVIRONMENTS=40 is more than Envoy's 1 workers; preparing 1/);
    } finally {
      await proxy.stop();
      await upstream.close();
    }
  });
});
