// Bad filter configs are rejected at load, with a message that names the problem.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
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

  // Bundles written for one test each; they brand their filter the way defineHttpFilter does.
  const dir = mkdtempSync(path.join(tmpdir(), 'envoy-ts-config-errors-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  function bundleOf(name, topLevel) {
    const file = path.join(dir, `${name}.js`);
    writeFileSync(file, `${topLevel}
      exports.f = Object.freeze({ name: 'f', [Symbol.for('envoy-ts.http-filter')]: 1 });`);
    return file;
  }
  async function refused(config, { env, timeoutMs } = {}) {
    const yaml = envoyYaml({ listenPort: await freePort(), adminPort: await freePort(),
                             upstreamPort: upstream.port, filterConfigs: [config] });
    return runProxyToExit(yaml, { env, timeoutMs });
  }

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

  test("a bundle that loads in validation but throws in a worker's environment is rejected with that error",
       async () => {
    const bundle = bundleOf('worker-only-failure', `
      if (!process._linkedBinding('envoy_ts').isMainThread) throw new Error('fixture: no worker may load me');`);
    const { code, output } = await refused({ bundle, chain: [{ name: 'f' }] });
    assert.notEqual(code, 0, `the proxy must refuse the config; output:\n${output}`);
    assert.match(output, /a worker's Node\.js environment could not load it: .*fixture: no worker may load me/);
  });

  test('a bundle whose top level loops forever is stopped by the config-load budget and rejected', async () => {
    const bundle = bundleOf('loops-at-load', 'for (;;) {}');
    // The budget is 10 s of CPU time: on a busy machine that takes longer on the wall clock.
    const { code, output } = await refused({ bundle, chain: [{ name: 'f' }] }, { timeoutMs: 180000 });
    assert.notEqual(code, 0, `the proxy must refuse the config; output:\n${output}`);
    assert.match(output, /loading filter config \d+ ran past its CPU budget of 10000 ms and was stopped\n\s+at /);
    assert.match(output, /filter_config rejected: loading it ran past its CPU budget/);
  });

  for (const value of ['abc', '-1', '257', '']) {
    test(`ENVOY_TS_WORKER_ENVIRONMENTS=${JSON.stringify(value)} is rejected naming the variable`, async () => {
      const { code, output } = await refused({ bundle: examplesBundle, chain: [{ name: 'request-id' }] },
                                             { env: { ENVOY_TS_WORKER_ENVIRONMENTS: value } });
      assert.notEqual(code, 0);
      assert.match(output, new RegExp(`ENVOY_TS_WORKER_ENVIRONMENTS must be a whole number from 0 to 256, got "${value}"`));
    });
  }

  test('a bundle that fills the heap while loading is rejected; the proxy does not abort', async () => {
    const bundle = bundleOf('fills-heap-at-load', 'const kept = []; for (;;) kept.push(new Array(100000).fill(kept.length));');
    const { code, output } = await refused({ bundle, chain: [{ name: 'f' }] }, { env: { ENVOY_TS_HEAP_LIMIT_MB: '32' } });
    assert.notEqual(code, 0, `the proxy must refuse the config; output:\n${output}`);
    assert.match(output, /environment of the main thread broke: its JavaScript heap reached its limit/);
    assert.match(output, /filter_config rejected: the main thread's Node\.js environment ran out of memory while loading it/);
    assert.doesNotMatch(output, /JavaScript heap out of memory/, 'V8 did not abort the process');
  });

  for (const [variable, value] of [['ENVOY_TS_HEAP_LIMIT_MB', 'lots'], ['ENVOY_TS_HEAP_LIMIT_MB', '8'],
                                   ['ENVOY_TS_EXTERNAL_MEMORY_LIMIT_MB', '1e3']]) {
    test(`${variable}=${JSON.stringify(value)}: the module refuses to start, naming the variable`, async () => {
      const { code, output } = await refused({ bundle: examplesBundle, chain: [{ name: 'request-id' }] },
                                             { env: { [variable]: value } });
      assert.notEqual(code, 0);
      assert.match(output, new RegExp(`${variable} must be a whole number of MiB from 16 to \\d+, got "${value}"`));
    });
  }
});
