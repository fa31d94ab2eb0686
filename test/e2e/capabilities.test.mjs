// The capability gate: by default a filter cannot load child_process, cluster or worker_threads,
// write process.env or write files; a filter_config opts in with "capabilities". A denied use gets
// the failure policy and the proxy goes on; a granted one works.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { envoyYaml, fixturesBundle, freePort, proxyForSuite, proxyName, request, root, runProxyToExit,
  startProxy, startUpstream } from './harness.mjs';

const topLevelChildProcess = path.join(root, 'dist/test/fixtures/top-level-child-process.js');

function freshDir() {
  const dir = mkdtempSync(path.join(tmpdir(), 'envoy-ts-capabilities-'));
  writeFileSync(path.join(dir, 'existing.txt'), 'existing');
  return dir;
}

const uses = [
  ['child_process', 'childProcess'], ['node:child_process', 'childProcess'], ['cluster', 'childProcess'],
  ['worker_threads', 'workerThreads'], ['node:worker_threads', 'workerThreads'],
  ['env-set', 'envWrite'], ['env-delete', 'envWrite'],
  ['fs-write', 'fsWrite'], ['fs-append', 'fsWrite'], ['fs-promises-write', 'fsWrite'], ['fs-open-write', 'fsWrite'],
  ['fs-stream', 'fsWrite'], ['fs-mkdir', 'fsWrite'], ['fs-rm', 'fsWrite'], ['fs-rename', 'fsWrite'],
];

describe(`capabilities denied by default, through ${proxyName}`, () => {
  const suite = proxyForSuite({
    filterConfigs: [{ bundle: fixturesBundle, chain: [{ name: 'capability-use' }], failurePolicy: 'closed' }],
  });
  let dir;
  before(() => { dir = freshDir(); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const [use, capability] of uses) {
    test(`${use} is refused naming "${capability}"; the policy answers 500; the proxy goes on`, async () => {
      const failures = (await suite.proxy.stat('envoy_ts.filter_failures.filter.capability-use')) ?? 0;
      const response = await request(suite.proxy.port, { headers: { 'x-use': use, 'x-dir': dir } });
      assert.equal(response.status, 500, response.body);
      assert.equal(await suite.proxy.stat('envoy_ts.filter_failures.filter.capability-use'), failures + 1);
      assert.match(suite.proxy.output, new RegExp(
        `filter=capability-use\\] onRequestHeaders rejected: CapabilityError \\[ETS_ERR_CAPABILITY\\]: .* is not ` +
        `available to filters: set "capabilities": \\{"${capability}": true\\} in the filter_config`));
      assert.equal(suite.proxy.exited, null, 'the proxy is still running');
      const read = await request(suite.proxy.port, { headers: { 'x-use': 'fs-read', 'x-dir': dir } });
      assert.equal(read.status, 200);
      assert.equal(read.body, 'existing');
    });
  }

  test('nothing was written', () => {
    assert.deepEqual(
      ['sync.txt', 'append.txt', 'promises.txt', 'opened.txt', 'stream.txt', 'sub', 'renamed.txt']
        .filter((name) => existsSync(path.join(dir, name))), []);
    assert.equal(readFileSync(path.join(dir, 'existing.txt'), 'utf8'), 'existing');
  });

  test('process.env reads work', async () => {
    const response = await request(suite.proxy.port, { headers: { 'x-use': 'env-read' } });
    assert.equal(response.status, 200);
    assert.equal(response.body, 'true');
  });

  test('ctx.offload still runs on its worker pool (piscina may load worker_threads)', async () => {
    const upstream = await startUpstream();
    const proxy = await startProxy({ upstreamPort: upstream.port,
                                     filterConfigs: [{ bundle: fixturesBundle, chain: [{ name: 'resume-offload' }] }] });
    try {
      const response = await request(proxy.port);
      assert.equal(response.status, 200, proxy.output);
    } finally {
      await proxy.stop();
      await upstream.close();
    }
  });
});

describe(`capabilities granted by the filter_config, through ${proxyName}`, () => {
  const suite = proxyForSuite({
    filterConfigs: [{ bundle: fixturesBundle, chain: [{ name: 'capability-use' }],
                      capabilities: { childProcess: true, workerThreads: true, envWrite: true, fsWrite: true } }],
  });
  let dir;
  before(() => { dir = freshDir(); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const expected = {
    'child_process': 'spawned', 'node:child_process': 'function', 'cluster': 'function',
    'worker_threads': 'from a worker', 'node:worker_threads': 'function',
    'env-set': 'set', 'env-delete': 'deleted',
    'fs-write': 'written', 'fs-append': 'appended', 'fs-promises-write': 'promised', 'fs-open-write': 'opened',
    'fs-stream': 'streamed', 'fs-mkdir': 'made', 'fs-rename': 'renamed',
  };
  for (const [use, answer] of Object.entries(expected)) {
    test(`${use} works`, async () => {
      const response = await request(suite.proxy.port, { headers: { 'x-use': use, 'x-dir': dir } });
      assert.equal(response.status, 200, `${response.body}\n${suite.proxy.output}`);
      assert.equal(response.body, answer);
    });
  }

  test('the files are on disk', () => {
    assert.equal(readFileSync(path.join(dir, 'sync.txt'), 'utf8'), 'written');
    assert.equal(readFileSync(path.join(dir, 'promises.txt'), 'utf8'), 'promised');
    assert.equal(readFileSync(path.join(dir, 'stream.txt'), 'utf8'), 'streamed');
    assert.equal(readFileSync(path.join(dir, 'renamed.txt'), 'utf8'), 'existing');
    assert.ok(existsSync(path.join(dir, 'sub')));
  });
});

describe(`grants are per environment (the union of its configs), through ${proxyName}`, () => {
  // Two envoy_ts filters in one chain share the worker's environment: the second config's
  // fsWrite lets the first config's filter write too.
  const suite = proxyForSuite({
    filterConfigs: [
      { bundle: fixturesBundle, chain: [{ name: 'capability-use' }] },
      { bundle: fixturesBundle, chain: [{ name: 'deferred-work' }], capabilities: { fsWrite: true } },
    ],
  });
  let dir;
  before(() => { dir = freshDir(); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('a config without fsWrite writes because another config of the environment grants it', async () => {
    const response = await request(suite.proxy.port, { headers: { 'x-use': 'fs-write', 'x-dir': dir } });
    assert.equal(response.status, 200, response.body);
    assert.equal(readFileSync(path.join(dir, 'sync.txt'), 'utf8'), 'written');
  });
});

describe(`a bundle that requires child_process when it loads, through ${proxyName}`, () => {
  let upstream;
  before(async () => { upstream = await startUpstream(); });
  after(async () => { await upstream?.close(); });

  test('is rejected at config load, naming the capability', async () => {
    const yaml = envoyYaml({ listenPort: await freePort(), adminPort: await freePort(), upstreamPort: upstream.port,
                             filterConfigs: [{ bundle: topLevelChildProcess, chain: [{ name: 'spawns-at-load' }] }] });
    const { code, output } = await runProxyToExit(yaml);
    assert.notEqual(code, 0, `the proxy must refuse the config; output:\n${output}`);
    assert.match(output, new RegExp('failed to load: child_process is not available to filters: ' +
                                    'set "capabilities": \\{"childProcess": true\\} in the filter_config'));
  });

  test('loads and runs with "capabilities": {"childProcess": true}', async () => {
    const proxy = await startProxy({ upstreamPort: upstream.port, filterConfigs: [{
      bundle: topLevelChildProcess, chain: [{ name: 'spawns-at-load' }], capabilities: { childProcess: true } }] });
    try {
      const response = await request(proxy.port);
      assert.equal(response.status, 200);
      assert.equal(response.body, 'spawned at load');
    } finally {
      assert.equal((await proxy.stop()).code, 0);
    }
  });
});
