// ENVOY_TS_SOURCE_MAPS: stack traces name the filters' TypeScript (1, the default) or the bundle's
// JavaScript (0); any other value stops the proxy at startup with a clear error.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { envoyYaml, fixturesBundle, freePort, proxyForSuite, request, runProxyToExit } from './harness.mjs';

const config = { bundle: fixturesBundle, chain: [{ name: 'stack-cost' }] };

async function topFrame(proxy) {
  const response = await request(proxy.port, { path: '/?n=0' });
  assert.equal(response.status, 200, response.body);
  return JSON.parse(response.body).topFrame;
}

for (const [setting, expected, label] of [
  [undefined, /test\/e2e\/fixtures\/filters\.ts:\d+:\d+/, 'unset (the default): the TypeScript source'],
  ['1', /test\/e2e\/fixtures\/filters\.ts:\d+:\d+/, '1: the TypeScript source'],
  ['0', /dist\/test\/fixtures\/filters\.js:\d+:\d+/, '0: the bundle'],
]) {
  describe(`ENVOY_TS_SOURCE_MAPS ${label}`, () => {
    const suite = proxyForSuite({ filterConfigs: [config], env: setting === undefined ? {} : { ENVOY_TS_SOURCE_MAPS: setting } });

    test('an error\'s stack names it', async () => {
      const frame = await topFrame(suite.proxy);
      assert.match(frame, /stackCostError/);
      assert.match(frame, expected);
    });
  });
}

describe('ENVOY_TS_SOURCE_MAPS that is not 0 or 1', () => {
  for (const value of ['yes', 'true', '2', '']) {
    test(`"${value}" stops the proxy at startup with a clear error`, async () => {
      const yaml = envoyYaml({ listenPort: await freePort(), adminPort: await freePort(), upstreamPort: 9, filterConfigs: [config] });
      const { code, output } = await runProxyToExit(yaml, { env: { ENVOY_TS_SOURCE_MAPS: value } });
      assert.notEqual(code, 0);
      assert.match(output, new RegExp(`ENVOY_TS_SOURCE_MAPS must be 0 \\(stack traces name the bundle's \\.js\\) or 1 \\(they name the TypeScript sources\\), got "${value}"`));
    });
  }
});
