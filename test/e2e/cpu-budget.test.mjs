// A filter whose JavaScript runs away (in a hook, after an await, in a timer) is stopped by the CPU
// watchdog: the offending stream gets the failure policy, the worker goes on serving, the proxy
// stays up. One worker (--concurrency 1), so every request shares the worker that ran away.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';

import { echoOf, fixturesBundle, proxyForSuite, proxyName, request } from './harness.mjs';
import { connectRaw, startTcpProxy, startTcpUpstream } from './network-harness.mjs';

const BUDGET_MS = 50;
// Not a latency bound (the budget is CPU time; a busy machine stretches wall time): far below
// what a hung worker would take, so a request answered within it was not left hanging.
const ANSWERED_WITHIN_MS = 10_000;

function chainOf(name, extra = {}) {
  return { bundle: fixturesBundle, chain: [{ name }], cpuBudgetMs: BUDGET_MS, ...extra };
}

async function timed(promise) {
  const started = Date.now();
  const response = await promise;
  return { response, ms: Date.now() - started };
}

function processFacts(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return { rssKiB: Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1]), fds: readdirSync(`/proc/${pid}/fd`).length };
}

describe(`CPU budget through ${proxyName}: a loop in a hook`, () => {
  const suite = proxyForSuite({ filterConfigs: [chainOf('spin')], concurrency: 1 });

  test('the looping request gets the policy answer; one sent meanwhile on the same worker succeeds', async () => {
    const spinning = timed(request(suite.proxy.port, { path: '/spin' }));
    await new Promise((resolve) => setTimeout(resolve, 5));
    const meanwhile = timed(request(suite.proxy.port, { path: '/meanwhile' }));
    const [stopped, other] = await Promise.all([spinning, meanwhile]);
    assert.equal(stopped.response.status, 500);
    assert.equal(stopped.response.body, 'internal error');
    assert.ok(stopped.ms < ANSWERED_WITHIN_MS, `answered after ${stopped.ms} ms`);
    assert.equal(other.response.status, 200);
    assert.equal(echoOf(other.response).path, '/meanwhile');
    assert.equal(suite.upstream.seen.some((seen) => seen.path === '/spin'), false, 'nothing went upstream');
  });

  test('the log names the filter, the hook and the budget, with the stack; both counters moved', async () => {
    assert.match(suite.proxy.output,
                 /filter=spin\] onRequestHeaders was stopped: CpuBudgetError \[ETS_ERR_CPU_BUDGET\]: onRequestHeaders ran past its CPU budget of 50 ms/);
    assert.match(suite.proxy.output, /at spinForever \(.*test\/e2e\/fixtures\/runaway-filters\.ts:\d+:\d+\)/,
                 'the stack, in the TypeScript source (the bundle has a source map)');
    assert.ok((await suite.proxy.stat('envoy_ts.cpu_budget_exceeded.filter.spin')) >= 1);
    assert.ok((await suite.proxy.stat('envoy_ts.filter_failures.filter.spin')) >= 1);
  });

  test('100 loops in a row: each answered, later requests served, RSS and open fds flat', async () => {
    const { pid } = suite.proxy.child;
    for (let i = 0; i < 10; i++) await request(suite.proxy.port, { path: '/spin' });
    const warm = processFacts(pid);
    for (let i = 0; i < 100; i++) {
      const response = await request(suite.proxy.port, { path: '/spin' });
      assert.equal(response.status, 500, `loop ${i}`);
    }
    const after = processFacts(pid);
    assert.equal((await request(suite.proxy.port, { path: '/after' })).status, 200);
    assert.ok(after.fds <= warm.fds + 2, `open fds ${warm.fds} → ${after.fds}`);
    assert.ok(after.rssKiB - warm.rssKiB < 32 * 1024, `RSS ${warm.rssKiB} → ${after.rssKiB} KiB`);
    assert.ok((await suite.proxy.stat('envoy_ts.cpu_budget_exceeded.filter.spin')) >= 111);
  });
});

describe(`CPU budget through ${proxyName}: a loop in a response hook`, () => {
  const suite = proxyForSuite({ filterConfigs: [chainOf('spin-on-response')], concurrency: 1 });

  test('the response is replaced by the policy answer; later requests are served', async () => {
    const { response, ms } = await timed(request(suite.proxy.port, { path: '/spin' }));
    assert.equal(response.status, 500);
    assert.ok(ms < ANSWERED_WITHIN_MS, `answered after ${ms} ms`);
    assert.match(suite.proxy.output, /filter=spin-on-response\] onResponseHeaders was stopped/);
    assert.equal((await request(suite.proxy.port, { path: '/fine' })).status, 200);
  });
});

describe(`CPU budget through ${proxyName}: a loop after an await`, () => {
  const suite = proxyForSuite({ filterConfigs: [chainOf('spin-after-await', { asyncTimeoutMs: 500 })],
                                concurrency: 1 });

  test('it is stopped and logged with its stack; its stream times out into the policy', async () => {
    const { response, ms } = await timed(request(suite.proxy.port, { path: '/spin' }));
    assert.equal(response.status, 500);
    assert.ok(ms >= 499, `the stream waited for its asyncTimeoutMs (${ms} ms)`);
    assert.match(suite.proxy.output,
                 /JavaScript outside any filter hook .* ran past the CPU budget of 50 ms and was stopped\n\s+at spinForever/);
    assert.match(suite.proxy.output, /filter=spin-after-await\] onRequestHeaders rejected: TimeoutError/);
    assert.ok((await suite.proxy.stat('envoy_ts.async_timeouts.filter.spin-after-await')) >= 1);
    assert.equal((await request(suite.proxy.port, { path: '/fine' })).status, 200);
  });
});

describe(`CPU budget through ${proxyName}: a loop in a timer`, () => {
  const suite = proxyForSuite({ filterConfigs: [chainOf('spin-in-timer')], concurrency: 1 });

  test('it is stopped; the request that started it and later ones are served', async () => {
    const stops = () => (suite.proxy.output.match(/outside any filter hook/g) ?? []).length;
    assert.equal((await request(suite.proxy.port, { path: '/spin' })).status, 200);
    // The timer runs when the worker's loop is next pumped: more requests keep it turning.
    for (let i = 0; i < 100 && stops() === 0; i++) {
      assert.equal((await request(suite.proxy.port, { path: `/after-${i}` })).status, 200);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(stops(), 1, 'the timer was stopped');
    assert.equal((await request(suite.proxy.port, { path: '/later' })).status, 200);
  });
});

describe(`CPU budget through ${proxyName}: the "open" policy`, () => {
  const suite = proxyForSuite({ filterConfigs: [chainOf('spin', { failurePolicy: 'open' })], concurrency: 1 });

  test('the looping request goes on to the upstream', async () => {
    const response = await request(suite.proxy.port, { path: '/spin' });
    assert.equal(response.status, 200);
    assert.equal(echoOf(response).path, '/spin');
    assert.ok((await suite.proxy.stat('envoy_ts.cpu_budget_exceeded.filter.spin')) >= 1);
  });
});

describe(`CPU budget through ${proxyName}: the "open" policy, two filters running away in one hook`, () => {
  const suite = proxyForSuite({
    filterConfigs: [{ bundle: fixturesBundle, chain: [{ name: 'spin' }, { name: 'spin-too' }], cpuBudgetMs: BUDGET_MS,
                      failurePolicy: 'open' }],
    concurrency: 1,
  });

  test('each is stopped and passed over in turn: the request goes on to the upstream', async () => {
    const response = await request(suite.proxy.port, { path: '/spin' });
    assert.equal(response.status, 200);
    assert.equal(echoOf(response).path, '/spin');
    for (const filter of ['spin', 'spin-too']) {
      assert.match(suite.proxy.output, new RegExp(`filter=${filter}\\] onRequestHeaders was stopped: CpuBudgetError`));
      assert.ok((await suite.proxy.stat(`envoy_ts.cpu_budget_exceeded.filter.${filter}`)) >= 1, filter);
    }
    assert.doesNotMatch(suite.proxy.output, /could not recover/);
  });
});

describe(`async timeout through ${proxyName}`, () => {
  const suite = proxyForSuite({ filterConfigs: [chainOf('spin', { asyncTimeoutMs: 300 })], concurrency: 1 });

  test('a promise that never settles gets the policy answer at asyncTimeoutMs; the worker goes on', async () => {
    const hanging = timed(request(suite.proxy.port, { path: '/hang' }));
    const meanwhile = await request(suite.proxy.port, { path: '/meanwhile' });
    assert.equal(meanwhile.status, 200);
    const { response, ms } = await hanging;
    assert.equal(response.status, 500);
    assert.ok(ms >= 299 && ms < ANSWERED_WITHIN_MS, `answered after ${ms} ms`);
    assert.match(suite.proxy.output,
                 /filter=spin\] onRequestHeaders rejected: TimeoutError \[ETS_ERR_TIMEOUT\]: onRequestHeaders's promise did not settle within 300 ms/);
    assert.ok((await suite.proxy.stat('envoy_ts.async_timeouts.filter.spin')) >= 1);
    assert.equal(suite.upstream.seen.some((seen) => seen.path === '/hang'), false);
  });
});

describe(`CPU budget through ${proxyName}: a loop in a network filter`, { timeout: 30000 }, () => {
  let upstream;
  let proxy;

  before(async () => {
    upstream = await startTcpUpstream((chunk) => chunk);
    proxy = await startTcpProxy({ clusters: [{ name: 'echo', port: upstream.port }],
                                  filterConfigs: [chainOf('spin-on-data')] });
  });

  after(async () => {
    await proxy?.stop();
    await upstream?.close();
  });

  test('the connection that looped is closed; another one on the same worker echoes', async () => {
    const looping = await connectRaw(proxy.port);
    const other = await connectRaw(proxy.port);
    await looping.write('spin please');
    await looping.waitClosed(ANSWERED_WITHIN_MS);
    await other.write('hello');
    await other.readUntil((text) => text === 'hello', 'the echo');
    other.close();
    assert.match(proxy.output, /filter=spin-on-data\] onData was stopped: CpuBudgetError/);
    assert.ok((await proxy.stat('envoy_ts.spin-on-data.cpu_budget_exceeded')) >= 1);
    assert.equal(proxy.exited, null);
  });
});
