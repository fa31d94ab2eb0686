// Hot reload in watch mode ("watch": true): the bundle file changes under a running proxy with
// requests in flight; new streams get the new code, running ones finish on theirs, nothing fails.
// Bundle versions are built here with esbuild from test/e2e/fixtures/versioned/stamp.ts, whose
// filter stamps its version on the request (seen by the upstream) and on the response.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import esbuild from 'esbuild';

import { parse, stringify } from 'yaml';

import { echoOf, envoyYaml, freePort, launchProxy, proxyName, request, root, startProxy, startUpstream } from './harness.mjs';

const dir = mkdtempSync(path.join(tmpdir(), 'envoy-ts-hot-reload-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The stamp bundle's source for `version` (built once per variant). */
const builds = new Map();
async function versionSource(version, { extraMetric = false, paddingBytes = 0 } = {}) {
  const key = JSON.stringify([version, extraMetric, paddingBytes]);
  if (!builds.has(key)) {
    const result = await esbuild.build({
      entryPoints: [path.join(root, 'test/e2e/fixtures/versioned/stamp.ts')],
      bundle: true, platform: 'node', target: 'node18', format: 'cjs', write: false, logLevel: 'warning',
      tsconfig: path.join(root, 'tsconfig.json'), absWorkingDir: root,
      define: {
        __STAMP_VERSION__: JSON.stringify(version),
        __STAMP_EXTRA_METRIC__: String(extraMetric),
        __STAMP_PADDING__: JSON.stringify('p'.repeat(paddingBytes)),
      },
    });
    builds.set(key, result.outputFiles[0].text);
  }
  return builds.get(key);
}

let deploys = 0;
/** Puts `source` at `bundle` the two ways builds do: written in place, or renamed over it. */
function deploy(bundle, source) {
  if (deploys++ % 2 === 0) {
    writeFileSync(bundle, source);
  } else {
    const staged = `${bundle}.${deploys}.tmp`;
    writeFileSync(staged, source);
    renameSync(staged, bundle);
  }
}

/** Requests until one is served by `version` on a new connection; returns how many it took. */
async function waitForVersion(port, version) {
  for (let attempt = 1; attempt <= 2000; attempt++) {
    const response = await request(port, { path: '/probe' });
    if (response.headers['x-stamp-response'] === version) return attempt;
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error(`version ${version} never served`);
}

/** Waits until `predicate(output)` holds (the proxy's log). */
async function waitForLog(proxy, predicate, what) {
  for (let i = 0; i < 2000; i++) {
    if (predicate(proxy.output)) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`no log line for ${what}:\n${proxy.output}`);
}

/**
 * Clients that send requests back to back until stop(): `keepAlive` of them on one kept-alive
 * connection each, `fresh` of them on a new connection per request. Every result is recorded with
 * the reload phase it was sent in (what phaseOf() said then).
 */
function startLoad(port, { keepAlive, fresh, phaseOf }) {
  const results = [];
  let running = true;
  const agents = [];
  const loop = async (agent) => {
    while (running) {
      const phase = phaseOf();
      const started = process.hrtime.bigint();
      try {
        const response = await request(port, { path: '/load', agent });
        const echo = echoOf(response);
        results.push({
          phase, status: response.status, ms: Number(process.hrtime.bigint() - started) / 1e6,
          requestStamp: echo.headers['x-stamp-request'], responseStamp: response.headers['x-stamp-response'],
          total: Number(echo.headers['x-stamp-total']),
        });
      } catch (error) {
        results.push({ phase, error: String(error) });
      }
    }
  };
  const loops = [];
  for (let i = 0; i < keepAlive; i++) {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    agents.push(agent);
    loops.push(loop(agent));
  }
  for (let i = 0; i < fresh; i++) loops.push(loop(false));
  return {
    results,
    async stop() {
      running = false;
      await Promise.all(loops);
      for (const agent of agents) agent.destroy();
    },
  };
}

/** Waits until `load` recorded `count` more results. */
async function completions(load, count) {
  const target = load.results.length + count;
  while (load.results.length < target) await new Promise((resolve) => setTimeout(resolve, 1));
}

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p))];
}

describe(`hot reload in watch mode through ${proxyName}`, () => {
  let upstream;
  before(async () => {
    upstream = await startUpstream();
  });
  after(async () => {
    await upstream?.close();
  });

  async function proxyFor(bundle, { concurrency = 2, logLevel = 'info', ms = 3 } = {}) {
    return startProxy({
      upstreamPort: upstream.port, concurrency, logLevel,
      filterConfigs: [{ bundle, watch: true, chain: [{ name: 'heap-probe' }, { name: 'stamp', config: { ms } }] }],
    });
  }

  test('20 reloads under load: no request fails, each one runs one version, new streams get the new one', async () => {
    const bundle = path.join(dir, 'load.js');
    const versions = [await versionSource('A'), await versionSource('B')];
    deploy(bundle, versions[0]);
    const proxy = await proxyFor(bundle, { logLevel: 'debug' });
    upstream.seen.length = 0;
    // Phase k: version k is live and no newer file has been written; "writing" between a write and
    // the first response of the new version (either version may serve then).
    let phase = { index: 0, version: 'A', writing: false };
    const load = startLoad(proxy.port, { keepAlive: 4, fresh: 2, phaseOf: () => phase });
    const reloadRounds = [];
    try {
      await completions(load, 300);  // warm-up: connections, first streams on each worker
      const steadyFrom = load.results.length;
      await completions(load, 1500);  // the steady state, before any reload
      const steadyCount = load.results.length;
      for (let i = 1; i <= 20; i++) {
        const version = i % 2 === 0 ? 'A' : 'B';
        phase = { ...phase, writing: true };
        const written = process.hrtime.bigint();
        deploy(bundle, versions[i % 2]);
        const probes = await waitForVersion(proxy.port, version);
        reloadRounds.push({ ms: Number(process.hrtime.bigint() - written) / 1e6, probes });
        phase = { index: i, version, writing: false };
        await completions(load, 30);  // requests of this version, on every client
      }
      await load.stop();

      const failures = load.results.filter((r) => r.error !== undefined || r.status !== 200);
      assert.deepEqual(failures, [], 'no request failed or was reset');
      for (const r of load.results) {
        assert.equal(r.requestStamp, r.responseStamp, 'one version produced the whole exchange');
        if (!r.phase.writing) assert.equal(r.responseStamp, r.phase.version, `sent in phase ${r.phase.index}`);
      }
      for (let i = 0; i <= 20; i++) {
        assert.ok(load.results.some((r) => r.phase.index === i && !r.phase.writing), `phase ${i} has requests`);
      }
      // 20 reloads, each logged once; ctx.shared kept counting across all of them (every request,
      // probes included, went through the filter once: the last total is their count).
      assert.equal(proxy.output.match(/watch: reloaded /g)?.length, 20);
      const served = upstream.seen.length;
      const last = await request(proxy.port, { path: '/last' });
      assert.equal(Number(echoOf(last).headers['x-stamp-total']), served + 1, 'ctx.shared survived every reload');
      // The filter's own metric and the built-in hook counter kept counting across versions.
      assert.equal(await proxy.stat('stamp.requests'), served + 1);
      assert.equal(await proxy.stat('envoy_ts.stamp.hook_invocations'), 2 * (served + 1));

      const steady = load.results.slice(steadyFrom, steadyCount).map((r) => r.ms);
      const reloading = load.results.slice(steadyCount).map((r) => r.ms);
      const workerLoads = [...proxy.output.matchAll(/loaded filter config \d+ \(bundle [^)]*\) revision [1-9]\d* in (\d+) us/g)]
        .map((m) => Number(m[1]) / 1000);
      console.log(`# reload: file written → first response of the new version (on a new connection): ` +
                  `median ${percentile(reloadRounds.map((r) => r.ms), 0.5).toFixed(1)} ms, ` +
                  `max ${Math.max(...reloadRounds.map((r) => r.ms)).toFixed(1)} ms (includes the 100 ms quiet period); ` +
                  `worker environment load per reload: median ${percentile(workerLoads, 0.5).toFixed(2)} ms, ` +
                  `p99 ${percentile(workerLoads, 0.99).toFixed(2)} ms over ${workerLoads.length}`);
      console.log(`# latency: steady p50 ${percentile(steady, 0.5).toFixed(2)} ms p99 ${percentile(steady, 0.99).toFixed(2)} ms ` +
                  `(${steady.length}); during reloads p50 ${percentile(reloading, 0.5).toFixed(2)} ms ` +
                  `p99 ${percentile(reloading, 0.99).toFixed(2)} ms (${reloading.length}); p99 ratio ` +
                  `${(percentile(reloading, 0.99) / percentile(steady, 0.99)).toFixed(2)}`);
    } finally {
      await load.stop();
      const exit = await proxy.stop();
      assert.equal(exit.code, 0, `clean shutdown, output:\n${proxy.output}`);
    }
  });

  test('a broken bundle or one with a new metric is rejected, named in the log, and the old version keeps serving', async () => {
    const bundle = path.join(dir, 'broken.js');
    deploy(bundle, await versionSource('A'));
    const proxy = await proxyFor(bundle);
    let phase = { version: 'A' };
    const load = startLoad(proxy.port, { keepAlive: 2, fresh: 1, phaseOf: () => phase });
    try {
      await completions(load, 50);
      deploy(bundle, `${await versionSource('B')}\nexports.oops = ;\n`);
      await waitForLog(proxy, (out) => /watch: the new version of .*broken\.js was rejected, the running version keeps serving: bundle .*broken\.js failed to load: Unexpected token ';'/.test(out),
                       'the syntax error');
      await completions(load, 50);
      deploy(bundle, await versionSource('C', { extraMetric: true }));
      await waitForLog(proxy, (out) => /was rejected, the running version keeps serving: .*declares the new counter 'stamp\.extra': Envoy defines a filter config's metrics only when it loads the config/.test(out),
                       'the new metric');
      await completions(load, 50);
      phase = { version: 'D' };
      deploy(bundle, await versionSource('D'));
      await waitForVersion(proxy.port, 'D');
      phase = { version: 'D', after: true };
      await completions(load, 20);
      await load.stop();

      assert.deepEqual(load.results.filter((r) => r.error !== undefined || r.status !== 200), []);
      for (const r of load.results) {
        assert.equal(r.requestStamp, r.responseStamp);
        if (!r.phase.after) assert.ok(r.responseStamp === 'A' || r.phase.version === 'D', 'A served until D');
        else assert.equal(r.responseStamp, 'D');
      }
      assert.equal(proxy.output.match(/watch: reloaded /g)?.length, 1, 'only D went live');
    } finally {
      await load.stop();
      const exit = await proxy.stop();
      assert.equal(exit.code, 0, `clean shutdown, output:\n${proxy.output}`);
    }
  });

  test('100 reloads: the JS heap and RSS stay flat (old versions are released)', async () => {
    // Each version carries 1 MiB of module-held filler (a string literal): a version kept alive
    // after its reload would keep at least that (its source, and the literal) in the worker's heap
    // and as much in the prepared spare's.
    const paddingBytes = 1024 * 1024;
    const bundle = path.join(dir, 'heap.js');
    const versions = [await versionSource('A', { paddingBytes }), await versionSource('B', { paddingBytes })];
    deploy(bundle, versions[0]);
    const proxy = await proxyFor(bundle, { concurrency: 1 });
    const heap = async () => JSON.parse((await request(proxy.port, { path: '/__heap' })).body);
    const rss = () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${proxy.child.pid}/status`, 'utf8'))[1]) * 1024;
    const reload = async (i) => {
      deploy(bundle, versions[i % 2]);
      await waitForVersion(proxy.port, i % 2 === 0 ? 'A' : 'B');
      for (let r = 0; r < 5; r++) assert.equal((await request(proxy.port, { path: '/r' })).status, 200);
    };
    try {
      // Warm-up: V8 grows its old space to fit the versions' big strings, Ajv, code caches and
      // allocator pools settle (a 600-reload run showed RSS level off after ~30).
      for (let i = 1; i <= 30; i++) await reload(i);
      const heapBefore = await heap();
      const rssBefore = rss();
      for (let i = 31; i <= 100; i++) await reload(i);
      const heapAfter = await heap();
      const rssAfter = rss();
      const growth = heapAfter.usedHeapBytes - heapBefore.usedHeapBytes;
      console.log(`# 100 reloads: worker heap ${(heapBefore.usedHeapBytes / 2 ** 20).toFixed(2)} → ` +
                  `${(heapAfter.usedHeapBytes / 2 ** 20).toFixed(2)} MiB from reload 30 to 100; RSS ` +
                  `${(rssBefore / 2 ** 20).toFixed(1)} → ${(rssAfter / 2 ** 20).toFixed(1)} MiB; contexts ` +
                  `${heapBefore.nativeContexts} → ${heapAfter.nativeContexts}`);
      assert.equal(proxy.output.match(/watch: reloaded /g)?.length, 100);
      // 70 leaked versions would hold ≥ 70 MiB of this heap. What does grow is V8's own bookkeeping
      // (≈ 1 KiB per reload, levelling off): 2 MiB is 25 times that.
      assert.ok(growth < 2 * 2 ** 20, `heap grew ${growth} bytes over 70 reloads`);
      // RSS is coarse (tcmalloc and V8 keep freed pages; it swung ±12 MiB around a flat level in a
      // 600-reload run), but 70 leaked versions in two environments would add ≥ 140 MiB.
      assert.ok(rssAfter - rssBefore < 40 * 2 ** 20, `RSS grew ${rssAfter - rssBefore} bytes over 70 reloads`);
      assert.equal(heapAfter.nativeContexts, heapBefore.nativeContexts);
    } finally {
      const exit = await proxy.stop();
      assert.equal(exit.code, 0, `clean shutdown, output:\n${proxy.output}`);
    }
  });
});

// The production path: Envoy replaces the filter config through an LDS update that points the chain
// at another bundle file. Without a control plane that is Envoy's filesystem LDS: listeners come
// from a DiscoveryResponse file, and a new file moved into place is applied as an update (the new
// config_new first, open connections drained on the old chain, the old config destroyed after the
// drain time). The conformance host does the same (test/host/README.md, "Listeners from a file").

/** envoy.yaml taking its listeners from `ldsPath`, and the DiscoveryResponse for `filterConfigs`. */
function ldsSetup({ ldsPath, listenPort, adminPort, upstreamPort }) {
  const staticConfig = (filterConfigs) =>
    parse(envoyYaml({ listenPort, adminPort, upstreamPort, filterConfigs }));
  const bootstrap = staticConfig([{ bundle: 'unused', chain: [] }]);
  delete bootstrap.static_resources.listeners;
  bootstrap.node = { id: 'e2e', cluster: 'e2e' };
  bootstrap.dynamic_resources = { lds_config: { resource_api_version: 'V3', path_config_source: {
    path: ldsPath, watched_directory: { path: path.dirname(ldsPath) } } } };
  return {
    bootstrap: stringify(bootstrap),
    /** Moves a DiscoveryResponse holding the listener with `filterConfigs` into place. */
    publish(version, filterConfigs) {
      const [listener] = staticConfig(filterConfigs).static_resources.listeners;
      const response = { version_info: String(version),
                         resources: [{ '@type': 'type.googleapis.com/envoy.config.listener.v3.Listener', ...listener }] };
      const staged = `${ldsPath}.${version}.tmp`;
      writeFileSync(staged, JSON.stringify(response));
      renameSync(staged, ldsPath);
    },
  };
}

/** Waits until the LDS counter `name` (update_success, update_rejected) reaches `count`. */
async function ldsCounter(proxy, name, count) {
  for (let i = 0; i < 3000; i++) {
    if ((await proxy.stat(`listener_manager.lds.${name}`) ?? 0) >= count) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`listener_manager.lds.${name} never reached ${count}:\n${proxy.output}`);
}

describe(`hot reload by an LDS update through ${proxyName}`, () => {
  test('an update under kept-alive load: each worker loads the new bundle ahead of its first stream of it',
       async () => {
    const upstream = await startUpstream();
    const bundles = {};
    for (const version of ['A', 'B']) {
      mkdirSync(path.join(dir, `ahead-${version}`), { recursive: true });
      bundles[version] = path.join(dir, `ahead-${version}`, 'stamp.js');
      writeFileSync(bundles[version], await versionSource(version));
    }
    const chainOf = (bundle) => [{ bundle, chain: [{ name: 'stamp', config: { ms: 1 } }] }];
    const [listenPort, adminPort] = [await freePort(), await freePort()];
    const lds = ldsSetup({ ldsPath: path.join(mkdtempSync(path.join(dir, 'lds-')), 'lds.json'), listenPort, adminPort,
                           upstreamPort: upstream.port });
    lds.publish(0, chainOf(bundles.A));
    // A long drain: the kept-alive connections stay on A while the test needs them.
    const proxy = await launchProxy(lds.bootstrap, { port: listenPort, adminPort, concurrency: 2, logLevel: 'debug',
                                                     extraArgs: ['--drain-time-s', '600'] });
    const agents = [];
    try {
      await ldsCounter(proxy, 'update_success', 1);
      // Kept-alive connections until both workers serve some (the kernel spreads new connections
      // over the workers' sockets): each worker's environment names itself on its responses.
      const environments = new Set();
      while (environments.size < 2 && agents.length < 64) {
        const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
        agents.push(agent);
        const response = await request(proxy.port, { path: '/warm', agent });
        assert.equal(response.headers['x-stamp-response'], 'A');
        environments.add(response.headers['x-stamp-environment']);
      }
      assert.equal(environments.size, 2, 'both workers serve a kept-alive connection');

      lds.publish(1, chainOf(bundles.B));
      await ldsCounter(proxy, 'update_success', 2);
      // A's connections send once more (an in-place filter chain update closes each after its
      // next response, as Envoy's drain does): the first stream of A on each worker has its
      // environment load B in an event after its first hook, before any stream of B needs it.
      const escaped = bundles.B.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      const loaded = (occasion) => proxy.output.match(new RegExp(
        `loaded filter config \\d+ \\(bundle ${escaped}\\) revision \\d+ in \\d+ us \\(on a worker, ${occasion}`, 'g'))
        ?.length ?? 0;
      for (const agent of agents) {
        const response = await request(proxy.port, { path: '/old', agent });
        assert.equal(response.status, 200);
        assert.equal(response.headers['x-stamp-response'], 'A', 'a connection opened before the update keeps A');
      }
      await waitForLog(proxy, () => loaded('ahead of the streams that need it') >= 2, 'B loaded ahead on both workers');
      for (let i = 0; i < 20; i++) {
        const response = await request(proxy.port, { path: '/new' });
        assert.equal(response.headers['x-stamp-response'], 'B', 'a new connection gets B');
      }
      assert.equal(loaded('ahead of the streams that need it'), 2, 'each worker loaded B once, ahead');
      assert.equal(loaded('at the start of a stream'), 0, 'no stream of B waited for its load');
    } finally {
      for (const agent of agents) agent.destroy();
      const exit = await proxy.stop();
      await upstream.close();
      assert.equal(exit.code, 0, `clean shutdown, output:\n${proxy.output}`);
    }
  });

  test('20 updates under load, one of them a broken bundle: no request fails, new connections get ' +
       'the new bundle, the broken one is rejected, old versions are released', async () => {
    const upstream = await startUpstream();
    const bundles = [];
    for (const version of ['A', 'B']) {
      mkdirSync(path.join(dir, `lds-${version}`), { recursive: true });
      const bundle = path.join(dir, `lds-${version}`, 'stamp.js');
      writeFileSync(bundle, await versionSource(version));
      bundles.push({ version, bundle });
    }
    const broken = path.join(dir, 'lds-broken.js');
    writeFileSync(broken, 'module.exports = ;');
    const chainOf = (bundle) => [{ bundle, chain: [{ name: 'stamp', config: { ms: 3 } }] }];
    const ldsDir = mkdtempSync(path.join(dir, 'lds-'));
    const [listenPort, adminPort] = [await freePort(), await freePort()];
    const lds = ldsSetup({ ldsPath: path.join(ldsDir, 'lds.json'), listenPort, adminPort, upstreamPort: upstream.port });
    lds.publish(0, chainOf(bundles[0].bundle));
    const proxy = await launchProxy(lds.bootstrap, { port: listenPort, adminPort, concurrency: 2, logLevel: 'debug',
                                                     extraArgs: ['--drain-time-s', '1'] });
    await ldsCounter(proxy, 'update_success', 1);
    upstream.seen.length = 0;
    let phase = { index: 0, version: 'A', updating: false };
    const load = startLoad(proxy.port, { keepAlive: 3, fresh: 0, phaseOf: () => phase });
    const freshLoad = startLoad(proxy.port, { keepAlive: 0, fresh: 2, phaseOf: () => phase });
    let successes = 1;
    try {
      await completions(load, 100);
      for (let i = 1; i <= 20; i++) {
        phase = { ...phase, updating: true };
        if (i === 10) {
          // A broken build mid-run: Envoy rejects the update, the running chain keeps serving.
          lds.publish(`broken-${i}`, chainOf(broken));
          await ldsCounter(proxy, 'update_rejected', 1);
          phase = { ...phase, updating: false };
          await completions(freshLoad, 30);
          continue;
        }
        lds.publish(i, chainOf(bundles[i % 2].bundle));
        await ldsCounter(proxy, 'update_success', ++successes);
        phase = { index: i, version: bundles[i % 2].version, updating: false };
        await completions(freshLoad, 30);
      }
      await load.stop();
      await freshLoad.stop();

      const all = [...load.results, ...freshLoad.results];
      assert.deepEqual(all.filter((r) => r.error !== undefined || r.status !== 200), [], 'no request failed or was reset');
      for (const r of all) assert.equal(r.requestStamp, r.responseStamp, 'one version produced the whole exchange');
      for (const r of freshLoad.results) {
        if (!r.phase.updating) assert.equal(r.responseStamp, r.phase.version, 'a new connection gets the new chain');
      }
      assert.ok(all.some((r) => r.responseStamp === 'A') && all.some((r) => r.responseStamp === 'B'));
      assert.match(proxy.output, /lds-broken\.js failed to load/);
      // Each old config is destroyed after its drain. The last one held B (update 19), now unused:
      // B's bundle version is released in the main thread's environment, and in a worker's when it
      // next updates its configs (before its next stream).
      const releasedB = () => proxy.output.match(new RegExp(`bundle version \\w+ of ${bundles[1].bundle} released`, 'g'))?.length ?? 0;
      await waitForLog(proxy, () => releasedB() >= 1, "B's release in the main thread's environment");
      for (let i = 0; i < 8; i++) assert.equal((await request(proxy.port, { path: '/after' })).status, 200);
      await waitForLog(proxy, () => releasedB() >= 2, "B's release in a worker's environment");
      // Envoy's stats store gives the new config the counters of the same names: counts continue.
      const served = upstream.seen.length;
      assert.equal(await proxy.stat('stamp.requests'), served);
      const last = await request(proxy.port, { path: '/last' });
      assert.equal(Number(echoOf(last).headers['x-stamp-total']), served + 1, 'ctx.shared survived the updates');
    } finally {
      await load.stop();
      await freshLoad.stop();
      const exit = await proxy.stop();
      await upstream.close();
      assert.equal(exit.code, 0, `clean shutdown, output:\n${proxy.output}`);
    }
  });
});
