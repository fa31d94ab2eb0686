// ctx.offload through the real module: as a task ends, its pool thread commits the waiting
// stream's event itself, just before piscina posts the result (counted by the environment:
// binding.offloadCounts = [wake-ups pool threads asked for, events they committed]); values,
// transferred input, thrown errors and a SharedArrayBuffer come back as piscina brings them; a task
// still running when its stream's wait times out is ended with it. A module installed without the
// runner script beside it offloads as before, the waker thread seeing results arrive, and says why
// at debug level.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { fixturesBundle, moduleDir, proxyForSuite, proxyName, request, startProxy, startUpstream } from './harness.mjs';

describe(`ctx.offload through ${proxyName}`, () => {
  const suite = proxyForSuite({
    filterConfigs: [{ bundle: fixturesBundle, chain: [{ name: 'offload-probe' }], offload: { threads: 1 },
                      asyncTimeoutMs: 500 }],
  });

  const probe = async (path) => {
    const response = await request(suite.proxy.port, { path });
    assert.equal(response.status, 200, `${path}: ${response.body}\n${suite.proxy.output}`);
    return JSON.parse(response.body);
  };

  test('each task\'s end wakes its waiting stream from the pool thread', async () => {
    const [requests, commits] = (await probe('/direct')).counts;
    for (let i = 1; i <= 5; i++) {
      const answer = await probe('/direct');
      assert.equal(answer.result, 42);
      // The stream waited when the task ended: the pool thread committed its event.
      assert.deepEqual(answer.counts, [requests + i, commits + i]);
    }
  });

  test('a transferred input arrives and its buffer is detached here', async () => {
    const [requests] = (await probe('/direct')).counts;
    const answer = await probe('/transfer');
    assert.equal(answer.result, 10);
    assert.equal(answer.detached, true);
    assert.equal(answer.counts[0], requests + 1);
  });

  test('a thrown error rejects the offload with its name and message', async () => {
    const [requests] = (await probe('/direct')).counts;
    const answer = await probe('/fail');
    assert.deepEqual({ ...answer, counts: undefined },
                     { rejected: true, name: 'TypeError', message: 'cannot work on this', counts: undefined });
    assert.equal(answer.counts[0], requests + 1);
  });

  test('a SharedArrayBuffer result comes back shared', async () => {
    const [requests] = (await probe('/direct')).counts;
    const answer = await probe('/shared');
    assert.equal(answer.shared, true);
    assert.deepEqual(answer.bytes, [7, 7, 7]);
    assert.equal(answer.counts[0], requests + 1);
  });

  test('a task still running when its stream\'s wait times out is ended; the pool serves on', async () => {
    const [requests] = (await probe('/direct')).counts;
    const hung = await request(suite.proxy.port, { path: '/hang' });
    assert.equal(hung.status, 500);
    // The pool's one thread was ended with the task: a new one runs the next.
    const answer = await probe('/direct');
    assert.equal(answer.result, 42);
    assert.equal(answer.counts[0], requests + 1, 'the hung task woke nothing');
    // Counted as the stream completes, which may come just after its response reached the client.
    let timeouts;
    for (let i = 0; i < 100 && timeouts !== 1; i++) {
      if (i > 0) await new Promise((resolve) => setTimeout(resolve, 20));
      timeouts = await suite.proxy.stat('envoy_ts.async_timeouts.filter.offload-probe');
    }
    assert.equal(timeouts, 1);
  });
});

describe(`ctx.offload from a module without its runner script, through ${proxyName}`, () => {
  // At the same depth as build/Release: the module's RUNPATH finds the checkout's libnode.
  const alone = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../build/e2e-module-alone');
  const suite = {};
  before(async () => {
    rmSync(alone, { recursive: true, force: true });
    mkdirSync(alone, { recursive: true });
    copyFileSync(path.join(moduleDir, 'libenvoy_ts.so'), path.join(alone, 'libenvoy_ts.so'));
    suite.upstream = await startUpstream();
    suite.proxy = await startProxy({
      upstreamPort: suite.upstream.port, logLevel: 'debug', env: { ENVOY_DYNAMIC_MODULES_SEARCH_PATH: alone },
      filterConfigs: [{ bundle: fixturesBundle, chain: [{ name: 'offload-probe' }], offload: { threads: 1 } }],
    });
  });
  after(async () => {
    const exit = await suite.proxy?.stop();
    await suite.upstream?.close();
    rmSync(alone, { recursive: true, force: true });
    assert.equal(exit?.code, 0, `clean shutdown, output:\n${suite.proxy?.output}`);
  });

  test('results still resume their streams, and the log says why', async () => {
    for (const [route, expected] of [['/direct', { result: 42 }], ['/transfer', { result: 10, detached: true }],
                                     ['/shared', { shared: true, bytes: [7, 7, 7] }]]) {
      const response = await request(suite.proxy.port, { path: route });
      assert.equal(response.status, 200, `${route}: ${response.body}\n${suite.proxy.output}`);
      assert.deepEqual(JSON.parse(response.body), { ...expected, counts: [0, 0] });
    }
    assert.match(suite.proxy.output, /ctx\.offload results wake their streams through the waker thread: the runner script \S+envoy-ts-offload-runner\.js is missing/);
  });
});
