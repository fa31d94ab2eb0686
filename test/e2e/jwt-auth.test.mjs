// The jwt-auth example: RS256 tokens checked against a real JWKS server reached through an Envoy
// cluster, the signature verified on the worker pool (ctx.offload), over real HTTP.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';

import { newRsaKey, signJwt } from '../support/jwt.mjs';
import { listenLoopback } from '../support/servers.mjs';
import { echoOf, examplesBundle, proxyName, realEnvoy, request, startProxy, startUpstream } from './harness.mjs';

const ISSUER = 'https://idp.example';
const AUDIENCE = 'orders-api';

const now = () => Math.floor(Date.now() / 1000);
const claims = (extra = {}) => ({ iss: ISSUER, aud: AUDIENCE, sub: 'user-42', exp: now() + 600, ...extra });
const threadsOf = (pid) => readdirSync(`/proc/${pid}/task`).length;

describe(`jwt-auth through ${proxyName}`, () => {
  const key = newRsaKey('key-1');
  const otherKey = newRsaKey('key-1');  // same kid, different key: signatures must not verify
  let jwks;
  let jwksHits = 0;
  let jwksDelayMs = 0;
  let upstream;
  let proxy;

  before(async () => {
    jwks = await listenLoopback(http.createServer((req, res) => {
      jwksHits++;
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ keys: [key.jwk] }));
      }, jwksDelayMs);
    }));
    upstream = await startUpstream();
    proxy = await startProxy({
      upstreamPort: upstream.port,
      extraClusters: [{ name: 'jwks', port: jwks.port }],
      filterConfigs: [{
        bundle: examplesBundle,
        offload: { threads: 1 },
        chain: [{ name: 'jwt-auth', config: { jwksUrl: 'http://jwks/keys', issuer: ISSUER, audiences: [AUDIENCE] } }],
      }],
    });
  });

  after(async () => {
    const exit = await proxy?.stop();
    await upstream?.close();
    await jwks?.close();
    assert.equal(exit?.code, 0, `clean shutdown, output:\n${proxy?.output}`);
  });

  const withToken = (value, headers = {}) => request(proxy.port, { headers: { authorization: `Bearer ${value}`, ...headers } });

  test('a valid token passes; its subject reaches the upstream; a spoofed header is replaced', async () => {
    const threadsBefore = realEnvoy ? 0 : threadsOf(proxy.child.pid);
    const response = await withToken(signJwt(key, claims()), { 'x-jwt-sub': 'admin' });
    assert.equal(response.status, 200);
    assert.equal(echoOf(response).headers['x-jwt-sub'], 'user-42');
    if (!realEnvoy) {
      // The signature was checked on a pool thread the first offload started.
      assert.ok(threadsOf(proxy.child.pid) > threadsBefore, 'the worker pool started a thread');
    }
  });

  test('keys are fetched once through the cluster and cached', async () => {
    for (let i = 0; i < 5; i++) assert.equal((await withToken(signJwt(key, claims({ sub: `u${i}` })))).status, 200);
    assert.equal(jwksHits, 1);
  });

  test('missing, malformed, expired, early, foreign and forged tokens get 401 with a reason', async () => {
    const cases = [
      [await request(proxy.port), 'a bearer token is required'],
      [await withToken('not.a-token'), 'a bearer token is required'],
      [await withToken('e30.e30.sig'), 'only RS256 tokens are accepted'],
      [await withToken(signJwt(key, claims({ exp: now() - 120 }))), 'the token expired'],
      [await withToken(signJwt(key, claims({ nbf: now() + 600 }))), 'the token is not valid yet'],
      [await withToken(signJwt(key, claims({ iss: 'https://evil.example' }))), 'wrong issuer'],
      [await withToken(signJwt(key, claims({ aud: 'billing' }))), 'wrong audience'],
      [await withToken(signJwt(key, claims(), { kid: 'key-9' })), 'unknown signing key'],
      [await withToken(signJwt(otherKey, claims())), 'bad signature'],
    ];
    for (const [response, reason] of cases) {
      assert.equal(response.status, 401, reason);
      assert.equal(response.body, 'unauthorized');
      assert.match(response.headers['www-authenticate'], new RegExp(`error_description="${reason}"`));
    }
  });

  test('a bad config is refused at load, naming the field', async () => {
    await assert.rejects(startProxy({
      upstreamPort: upstream.port,
      filterConfigs: [{ bundle: examplesBundle, chain: [{ name: 'jwt-auth', config: { jwksUrl: 'jwks/keys' } }] }],
    }), /config\.jwksUrl must match pattern/);
  });

  describe('keys cached for 1 s, a JWKS endpoint that answers slowly', () => {
    let shortCache;
    const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
    const valid = () => `Bearer ${signJwt(key, claims())}`;

    before(async () => {
      shortCache = await startProxy({
        upstreamPort: upstream.port,
        extraClusters: [{ name: 'jwks', port: jwks.port }],
        filterConfigs: [{
          bundle: examplesBundle,
          offload: { threads: 1 },
          chain: [{ name: 'jwt-auth', config: { jwksUrl: 'http://jwks/keys', cacheSeconds: 1 } }],
        }],
      });
      assert.equal((await request(shortCache.port, { headers: { authorization: valid() } })).status, 200);
    });

    after(async () => {
      jwksDelayMs = 0;
      const exit = await shortCache?.stop();
      assert.equal(exit?.code, 0, `clean shutdown, output:\n${shortCache?.output}`);
    });

    test('requests that find the keys stale together share one JWKS fetch', async () => {
      await sleep(1100);
      jwksDelayMs = 200;
      const hits = jwksHits;
      const responses = await Promise.all(Array.from({ length: 8 }, () =>
        request(shortCache.port, { headers: { authorization: valid() } })));
      assert.deepEqual(responses.map((r) => r.status), Array(8).fill(200));
      assert.equal(jwksHits - hits, 1);
    });

    test('when the stream that fetched goes away, one that waited for it fetches again', async () => {
      await sleep(1100);
      jwksDelayMs = 300;
      const hits = jwksHits;
      // The first request starts the fetch, the second waits for it, then the first client leaves.
      const leaving = http.request({ host: '127.0.0.1', port: shortCache.port, headers: { authorization: valid() } });
      leaving.on('error', () => {});
      leaving.end();
      await sleep(50);
      const waiting = request(shortCache.port, { headers: { authorization: valid() } });
      await sleep(50);
      leaving.destroy();
      const response = await waiting;
      assert.equal(response.status, 200);
      assert.equal(jwksHits - hits, 2);
    });
  });
});
