// No cold first request (DESIGN §3): what Node 18 loads on first use of Response, Headers,
// TextDecoder, fetch and friends is loaded while each worker environment is prepared, so the first
// request on every worker loads nothing new. Asserted on Node's own list of loaded internal modules
// (deterministic); the hook times are reported, not asserted (a busy machine would fail them).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { fixturesBundle, proxyForSuite, request, startUpstream } from './harness.mjs';

const WORKERS = 2;

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? NaN : sorted[Math.floor(sorted.length / 2)];
};

describe('the first request on each worker', () => {
  let backend;
  const suite = proxyForSuite({
    filterConfigs: [{ bundle: fixturesBundle, chain: [{ name: 'first-use' }] }],
    concurrency: WORKERS,
    get extraClusters() { return [{ name: 'backend', port: backend.port }]; },
  }, {
    upstream: async () => {
      backend = await startUpstream();
      return backend;
    },
  });

  test('loads no internal module that later requests do not (Response, Headers, TextDecoder, fetch, ...)', async (t) => {
    // Requests land on workers by SO_REUSEPORT: new connections until both workers answered a few.
    const byEnvironment = new Map();
    for (let i = 0; i < 400; i++) {
      const response = await request(suite.proxy.port, { path: `/first-use/${i}` });
      assert.equal(response.status, 200, response.body);
      const report = JSON.parse(response.body);
      assert.equal(report.upstreamStatus, 200, 'ctx.fetch reached the backend cluster');
      const seen = byEnvironment.get(report.environmentId) ?? [];
      seen.push(report);
      byEnvironment.set(report.environmentId, seen);
      if (byEnvironment.size === WORKERS && [...byEnvironment.values()].every((r) => r.length >= 5)) break;
    }
    assert.equal(byEnvironment.size, WORKERS, `both workers answered (saw ${byEnvironment.size})`);

    // Times first (reported even when an assertion below fails), then what was loaded.
    for (const [id, reports] of byEnvironment) {
      const first = reports.find((r) => r.served === 1);
      const laterMs = reports.filter((r) => r.served > 1).map((r) => r.hookMs);
      if (first === undefined) continue;
      t.diagnostic(`worker environment ${id}: first request's hook ${first.hookMs.toFixed(2)} ms; ` +
                   `later ones median ${median(laterMs).toFixed(2)} ms over ${laterMs.length} ` +
                   `(ratio ${(first.hookMs / median(laterMs)).toFixed(1)}×); ${first.loaded.length} modules loaded by the first`);
    }
    for (const [id, reports] of byEnvironment) {
      const first = reports.find((r) => r.served === 1);
      assert.ok(first, `environment ${id}: its first request was seen`);
      assert.deepEqual(first.loaded, [], `environment ${id}: the first request loaded internal modules`);
      for (const later of reports.filter((r) => r.served > 1)) {
        assert.deepEqual(later.loaded, [], `environment ${id}: request ${later.served} loaded internal modules`);
      }
    }
  });
});
