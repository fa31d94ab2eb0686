// A stream whose hook waits goes on once the wait is over, however the work comes due: on the
// loop's next turn (the worker commits the event on the stream's scheduler as its call returns),
// after a timer (the waker thread watches the deadline), or when a pool thread hands a result back
// (it commits the event itself as the task ends; the waker thread sees the result arrive should the
// worker get there first).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { echoOf, fixturesBundle, proxyForSuite, proxyName, request } from './harness.mjs';

describe(`async resume through ${proxyName}`, () => {
  const suite = proxyForSuite({
    concurrency: 2,
    filterConfigs: [
      { bundle: fixturesBundle, chain: [{ name: 'async-resume' }] },
      { bundle: fixturesBundle, chain: [{ name: 'slow', config: { ms: 3 } }] },
      { bundle: fixturesBundle, chain: [{ name: 'resume-offload' }], offload: { threads: 1 } },
    ],
  });

  const resumed = async (path) => {
    const response = await request(suite.proxy.port, { path });
    assert.equal(response.status, 200, path);
    assert.equal(response.headers['x-resumed'], '1', path);
    assert.equal(echoOf(response).path, path);
  };

  test('one stream after another goes on after work due now, a timer and a pool task', async () => {
    for (let i = 0; i < 20; i++) await resumed(`/one-${i}`);
  });

  test('many streams waiting at once all go on', async () => {
    await Promise.all(Array.from({ length: 40 }, (_, i) => resumed(`/many-${i}`)));
    assert.equal(suite.proxy.exited, null);
  });
});
