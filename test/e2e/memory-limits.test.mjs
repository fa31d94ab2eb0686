// A filter that runs its worker's Node environment out of memory — the JS heap, or memory outside it
// (Buffers) — does not take the proxy down: the environment is stopped, its streams get the failure
// policy, and the worker goes on with a fresh environment. One worker (--concurrency 1), low limits.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';

import { echoOf, fixturesBundle, proxyForSuite, proxyName, request } from './harness.mjs';

const LIMIT_MB = 64;
// The heap runs out long before this CPU budget would stop the loop.
const hog = { bundle: fixturesBundle, chain: [{ name: 'memory-hog' }], cpuBudgetMs: 30_000 };

function rssKiB(pid) {
  return Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
}

describe(`memory limits through ${proxyName}`, () => {
  const suite = proxyForSuite({
    filterConfigs: [hog], concurrency: 1,
    env: { ENVOY_TS_HEAP_LIMIT_MB: String(LIMIT_MB), ENVOY_TS_EXTERNAL_MEMORY_LIMIT_MB: String(LIMIT_MB) },
  });

  test('a heap run out 5 times in a row: each time the policy answer, a request sent meanwhile and later ones served',
       async () => {
    const { pid } = suite.proxy.child;
    assert.equal((await request(suite.proxy.port, { path: '/warm' })).status, 200);
    const before = rssKiB(pid);
    for (let round = 0; round < 5; round++) {
      const growing = request(suite.proxy.port, { path: '/grow' });
      await new Promise((resolve) => setTimeout(resolve, 5));
      const meanwhile = request(suite.proxy.port, { path: `/meanwhile-${round}` });
      const [grown, other] = await Promise.all([growing, meanwhile]);
      assert.equal(grown.status, 500, `round ${round}`);
      assert.equal(other.status, 200, `round ${round}`);
      assert.equal(echoOf(other).path, `/meanwhile-${round}`);
    }
    assert.equal((await request(suite.proxy.port, { path: '/later' })).status, 200);
    assert.equal(suite.proxy.exited, null, 'the proxy is still running');
    const broke = suite.proxy.output.match(/environment of a worker broke: its JavaScript heap reached its limit/g);
    assert.equal(broke?.length, 5);
    // Each broken environment held about its heap limit; they are freed, not kept.
    const grownMiB = (rssKiB(pid) - before) / 1024;
    assert.ok(grownMiB < 3 * LIMIT_MB, `RSS grew ${grownMiB.toFixed(0)} MiB over 5 rounds`);
  });

  test('Buffers past the limit outside the heap: the policy answer, and the memory is given back', async () => {
    const response = await request(suite.proxy.port, { path: '/buffers' });
    assert.equal(response.status, 500);
    assert.match(suite.proxy.output,
                 /environment of a worker broke: its memory outside the JavaScript heap \(ArrayBuffers, Buffers\) grew past its limit/);
    assert.equal((await request(suite.proxy.port, { path: '/after-buffers' })).status, 200);
  });
});

describe(`memory limits through ${proxyName}, "open" policy`, () => {
  const suite = proxyForSuite({
    filterConfigs: [{ ...hog, failurePolicy: 'open' }], concurrency: 1,
    env: { ENVOY_TS_HEAP_LIMIT_MB: String(LIMIT_MB) },
  });

  test('the stream whose environment ran out of heap goes on to the upstream; later ones too', async () => {
    const response = await request(suite.proxy.port, { path: '/grow' });
    assert.equal(response.status, 200);
    assert.equal(echoOf(response).path, '/grow');
    assert.match(suite.proxy.output, /environment of a worker broke: its JavaScript heap reached its limit/);
    assert.equal((await request(suite.proxy.port, { path: '/later' })).status, 200);
  });
});
