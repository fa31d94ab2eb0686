// Per-route config (DynamicModuleFilterPerRoute): a route disables a filter of the chain or gives
// it another config; bad per-route configs are rejected at load.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { echoOf, envoyYaml, examplesBundle, freePort, proxyName, request, runProxyToExit, startProxy,
         startUpstream } from './harness.mjs';

const chain = {
  bundle: examplesBundle,
  chain: [{ name: 'request-id' }, { name: 'header-auth', config: { tokens: ['user-token'] } }],
};

describe(`per-route config through ${proxyName}`, () => {
  let upstream;
  let proxy;

  before(async () => {
    upstream = await startUpstream();
    proxy = await startProxy({
      upstreamPort: upstream.port,
      filterConfigs: [chain],
      routes: [
        { prefix: '/public', perRoute: { envoy_ts_0: { module: 'envoy_ts', config: JSON.stringify({
          bundle: examplesBundle, filters: { 'header-auth': { disabled: true } } }) } } },
        { prefix: '/admin', perRoute: { envoy_ts_0: { module: 'envoy_ts', config: JSON.stringify({
          bundle: examplesBundle, filters: { 'header-auth': { config: { tokens: ['admin-token'] } } } }) } } },
        { prefix: '/' },
      ],
    });
  });

  after(async () => {
    await proxy?.stop();
    await upstream?.close();
  });

  test('the default route runs the whole chain', async () => {
    assert.equal((await request(proxy.port, { path: '/orders' })).status, 401);
    assert.equal((await request(proxy.port, { path: '/orders', headers: { authorization: 'user-token' } })).status, 200);
  });

  test('a route can disable one filter; the others still run', async () => {
    const response = await request(proxy.port, { path: '/public/logo.png' });
    assert.equal(response.status, 200);
    assert.ok(echoOf(response).headers['x-request-id'], 'request-id still ran');
  });

  test("a route can give a filter its own config", async () => {
    assert.equal((await request(proxy.port, { path: '/admin', headers: { authorization: 'user-token' } })).status, 401);
    assert.equal((await request(proxy.port, { path: '/admin', headers: { authorization: 'admin-token' } })).status, 200);
  });

  test('a per-route config naming an unknown filter is rejected at load, naming it', async () => {
    const yaml = envoyYaml({
      listenPort: await freePort(), adminPort: await freePort(), upstreamPort: upstream.port, filterConfigs: [chain],
      routes: [{ prefix: '/', perRoute: { envoy_ts_0: { module: 'envoy_ts', config: JSON.stringify({
        bundle: examplesBundle, filters: { 'no-such-filter': { disabled: true } } }) } } }],
    });
    const { code, output } = await runProxyToExit(yaml);
    assert.notEqual(code, 0);
    assert.match(output, /filters\.no-such-filter: HTTP filter 'no-such-filter' is not exported/);
  });
});
