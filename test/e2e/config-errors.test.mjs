// Bad filter configs are rejected at load, with a message that names the problem.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { envoyYaml, examplesBundle, freePort, proxyName, runProxyToExit, startUpstream } from './harness.mjs';

describe(`config errors through ${proxyName}`, () => {
  let upstream;

  before(async () => {
    upstream = await startUpstream();
  });

  after(async () => {
    await upstream?.close();
  });

  const cases = [
    ['invalid JSON', '{"bundle": ', /not valid JSON/],
    ['a missing bundle', { bundle: '/nonexistent/filters.js', chain: [{ name: 'request-id' }] },
      /\/nonexistent\/filters\.js/],
    ['an unknown filter name', { bundle: examplesBundle, chain: [{ name: 'no-such-filter' }] },
      /no-such-filter.*available: .*request-id/],
    ['an empty chain', { bundle: examplesBundle, chain: [] }, /'chain' must be a non-empty array/],
    ['a bad failurePolicy', { bundle: examplesBundle, chain: [{ name: 'request-id' }], failurePolicy: 'maybe' },
      /failurePolicy/],
    ['an unknown key', { bundle: examplesBundle, chain: [{ name: 'request-id' }], chian: [] }, /chian/],
    ['an unknown capability', { bundle: examplesBundle, chain: [{ name: 'request-id' }],
      capabilities: { childProces: true } }, /'capabilities' has unknown key\(s\) 'childProces'/],
    ['a non-boolean capability', { bundle: examplesBundle, chain: [{ name: 'request-id' }],
      capabilities: { fsWrite: 'yes' } }, /'capabilities\.fsWrite' must be true or false/],
    ['a filter config its filter rejects', { bundle: examplesBundle, chain: [{ name: 'header-auth', config: {} }] },
      /header-auth.*tokens/],
    ['a filter config its schema rejects',
      { bundle: examplesBundle, chain: [{ name: 'rate-limit', config: { ratePerSecond: 0, burts: 2 } }] },
      /filter 'rate-limit': (?=.*config\.ratePerSecond must be > 0)(?=.*config\.burts is not a known field)/],
  ];

  for (const [what, config, message] of cases) {
    test(`${what} is rejected with a clear message`, async () => {
      const yaml = envoyYaml({ listenPort: await freePort(), adminPort: await freePort(),
                               upstreamPort: upstream.port, filterConfigs: [config] });
      const { code, output } = await runProxyToExit(yaml);
      assert.notEqual(code, 0, `the proxy must refuse the config; output:\n${output}`);
      assert.match(output, message);
    });
  }

  test('an unknown filter_name is rejected', async () => {
    const yaml = envoyYaml({ listenPort: await freePort(), adminPort: await freePort(),
                             upstreamPort: upstream.port,
                             filterConfigs: [{ bundle: examplesBundle, chain: [{ name: 'request-id' }] }] })
      .replace('filter_name: chain', 'filter_name: chian');
    const { code, output } = await runProxyToExit(yaml);
    assert.notEqual(code, 0);
    assert.match(output, /filter_name "chian" is unknown/);
  });
});
