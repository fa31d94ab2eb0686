// A filter that reaches for the process (exit, kill, abort, chdir, credentials, the uncaught-exception
// capture callback) gets the failure policy; the proxy stays up and its environment keeps working.
// Bundle code that rethrows from, or removes, the uncaught-exception listeners cannot take it down.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, test } from 'node:test';

import { fixturesBundle, proxyForSuite, proxyName, request } from './harness.mjs';

async function waitForOutput(proxy, text) {
  const deadline = Date.now() + 3000;
  while (!proxy.output.includes(text)) {
    assert.ok(Date.now() < deadline, `no log line with ${JSON.stringify(text)}:\n${proxy.output}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A request that runs Node's deferred work (nextTick, zlib, a stream) in a hook. */
async function assertDeferredWorkRuns(proxy) {
  const response = await request(proxy.port);
  assert.equal(response.status, 200, response.body);
  assert.deepEqual(JSON.parse(response.body), { tick: 'ran', zlib: 'zlib works', stream: 'stream', exiting: false });
}

describe(`process guards through ${proxyName}`, () => {
  const suite = proxyForSuite({
    filterConfigs: [{ bundle: fixturesBundle, chain: [{ name: 'process-reach' }], failurePolicy: 'closed' }],
  });

  const reaches = ['exit', 'reallyExit', 'abort', 'kill-self', 'kill-group', 'kill-own-group', 'kill-parent',
    'chdir', 'setuid', 'setgid', 'seteuid', 'setegid', 'setgroups', 'initgroups', 'capture', 'restore'];
  for (const reach of reaches) {
    test(`${reach}: the filter gets ProcessGuardError and the policy answers 500; the proxy goes on`, async () => {
      const failures = (await suite.proxy.stat('envoy_ts.filter_failures.filter.process-reach')) ?? 0;
      const response = await request(suite.proxy.port, { headers: { 'x-reach': reach } });
      assert.equal(response.status, 500, response.body);
      assert.equal(await suite.proxy.stat('envoy_ts.filter_failures.filter.process-reach'), failures + 1);
      assert.match(suite.proxy.output, new RegExp('filter=process-reach\\] onRequestHeaders rejected: ' +
        'ProcessGuardError \\[ETS_ERR_PROCESS_GUARD\\]: process\\.\\w+\\(\\) is not available to filters'));
      assert.equal(suite.proxy.exited, null, 'the proxy is still running');
      await assertDeferredWorkRuns(suite.proxy);
    });
  }

  test('after process.exit(), nextTick, zlib and streams still work in later requests', async () => {
    assert.equal((await request(suite.proxy.port, { headers: { 'x-reach': 'exit' } })).status, 500);
    for (let i = 0; i < 3; i++) await assertDeferredWorkRuns(suite.proxy);
  });

  test('kill of another process still signals it', async () => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve(signal)));
    const response = await request(suite.proxy.port, { headers: { 'x-kill-pid': String(child.pid) } });
    assert.equal(response.status, 200, response.body);
    assert.equal(await exited, 'SIGTERM');
  });
});

describe(`uncaught-exception handling bundle code cannot break, through ${proxyName}`, () => {
  const suite = proxyForSuite({
    filterConfigs: [{ bundle: fixturesBundle, chain: [{ name: 'listener-abuse' }, { name: 'process-reach' }] }],
  });

  for (const abuse of ['rethrow', 'remove-all', 'exit-in-listener']) {
    test(`${abuse}: a throw in a timer and an unhandled rejection are logged; the proxy goes on`, async () => {
      const response = await request(suite.proxy.port, { headers: { 'x-abuse': abuse } });
      assert.equal(response.status, 200, response.body);
      await waitForOutput(suite.proxy, `uncaught exception: Error: fixture: thrown in a timer after ${abuse}`);
      await waitForOutput(suite.proxy, `unhandled rejection: Error: fixture: rejected after ${abuse}`);
      assert.equal(suite.proxy.exited, null, 'the proxy is still running');
      await assertDeferredWorkRuns(suite.proxy);
    });
  }

  test('what a bundle\'s listener throws is logged too', async () => {
    await waitForOutput(suite.proxy,
                        "a 'uncaughtException' listener threw: Error: fixture: thrown in a timer after rethrow");
    await waitForOutput(suite.proxy, "a 'uncaughtException' listener threw: ProcessGuardError [ETS_ERR_PROCESS_GUARD]");
  });

  test('later timers that throw still do not take the proxy down', async () => {
    for (let i = 0; i < 3; i++) {
      assert.equal((await request(suite.proxy.port, { headers: { 'x-abuse': 'none' } })).status, 200);
    }
    await waitForOutput(suite.proxy, 'uncaught exception: Error: fixture: thrown in a timer after none');
    await assertDeferredWorkRuns(suite.proxy);
  });
});
