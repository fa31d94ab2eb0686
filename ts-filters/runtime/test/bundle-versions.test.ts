// Bundle versions: content hashes, two versions of one path side by side, versions released when
// no config holds them, watch-mode reloads (ts-filters/runtime/bundle-versions.ts, config-store.ts).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';

import { BundleVersions } from '../bundle-versions';
import { HookKind, HookOutcome } from '../codes';
import { setup } from './fake-binding';

const dir = mkdtempSync(join(tmpdir(), 'envoy-ts-versions-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A bundle whose filter 'stamp' sets x-version: `version` on the request and counts its loads in
 *  globalThis.__loads[path]. `metrics`: what the filter declares. Same-length versions make files
 *  of the same size. */
function bundleSource(version: string, metrics: Record<string, string> = { seen: 'counter' }): string {
  return `
    globalThis.__loads = globalThis.__loads ?? {};
    globalThis.__loads[__filename] = (globalThis.__loads[__filename] ?? 0) + 1;
    let calls = 0;
    exports.stamp = Object.freeze({
      name: 'stamp', metrics: ${JSON.stringify(metrics)},
      onRequestHeaders(headers) { calls++; headers.set('x-version', '${version}'); headers.set('x-calls', String(calls)); },
      [Symbol.for('envoy-ts.http-filter')]: 1,
    });`;
}

let files = 0;
function bundleFile(version: string): string {
  const path = join(dir, `bundle-${files++}.js`);
  writeFileSync(path, bundleSource(version));
  return path;
}

/** A request header of a fake stream (map 0: request headers). */
function header(stream: { maps: [string, string][][] }, name: string): string | undefined {
  return stream.maps[0]?.find(([key]) => key === name)?.[1];
}

function loads(path: string): number {
  return (globalThis as { __loads?: Record<string, number> }).__loads?.[path] ?? 0;
}

const chainOf = (bundle: string, extra: object = {}): string =>
  JSON.stringify({ bundle, chain: [{ name: 'stamp' }], ...extra });

describe('BundleVersions', () => {
  test('a version is its content: the same bytes compile once, a change of the same size and mtime is a new version', () => {
    const path = bundleFile('v1');
    const versions = new BundleVersions();
    const a = versions.acquire(path);
    const b = versions.acquire(path);
    assert.equal(a, b, 'one compile for two holders');
    assert.equal(loads(path), 1);

    const { mtime, atime, size } = statSync(path);
    writeFileSync(path, bundleSource('v2'));
    utimesSync(path, atime, mtime);  // what mtime+size detection cannot see
    assert.equal(statSync(path).size, size);
    const c = versions.acquire(path);
    assert.notEqual(c.hash, a.hash);
    assert.notEqual(c.exports, a.exports, 'two versions of one path live side by side');
    assert.equal(loads(path), 2);
    assert.equal(versions.size, 2);

    versions.release(a);
    assert.equal(versions.size, 2, 'one holder of v1 is left');
    versions.release(b);
    versions.release(c);
    assert.equal(versions.size, 0, 'nothing held: nothing kept');
    assert.equal(versions.acquire(path).hash, c.hash);
    assert.equal(loads(path), 3, 'a released version is compiled again when needed');
  });

  test('a pinned source is compiled instead of what the file holds now', () => {
    const path = bundleFile('v1');
    const versions = new BundleVersions();
    const pinned = { hash: 'pinned-hash', source: bundleSource('vP') };
    const version = versions.acquire(path, pinned);
    assert.equal(version.hash, 'pinned-hash');
    assert.equal(version.source, pinned.source);
    assert.equal(version.path, path);
  });

  test('versions stay out of require.cache', () => {
    const path = bundleFile('v1');
    new BundleVersions().acquire(path);
    assert.equal(require.cache[path], undefined);
  });
});

describe('configs and bundle versions', () => {
  test('two configs of one path hold two versions; each stream runs the chain it started with', () => {
    const path = bundleFile('v1');
    const { runtime, binding } = setup();
    assert.equal(runtime.loadConfig(1, chainOf(path), 0), undefined);
    const old = binding.openStream(1);
    writeFileSync(path, bundleSource('v2'));
    assert.equal(runtime.loadConfig(2, chainOf(path), 0), undefined);
    assert.equal(runtime.bundleVersionCount(), 2);
    const fresh = binding.openStream(2);
    binding.hook(old, HookKind.RequestHeaders);
    binding.hook(fresh, HookKind.RequestHeaders);
    assert.equal(header(old, 'x-version'), 'v1');
    assert.equal(header(fresh, 'x-version'), 'v2');

    runtime.unloadConfig(1);
    assert.equal(runtime.bundleVersionCount(), 1, 'the old version is released with its last config');
    assert.ok(binding.logs.some((l) => /^\[envoy-ts\] bundle version \w{12} of .* released \(no config holds it\)$/.test(l.message)),
              JSON.stringify(binding.logs));
    runtime.unloadConfig(2);
    assert.equal(runtime.bundleVersionCount(), 0);
  });

  test('configs of the same content share one module (and its module-level state)', () => {
    const path = bundleFile('v1');
    const { runtime, binding } = setup();
    runtime.loadConfig(1, chainOf(path), 0);
    runtime.loadConfig(2, chainOf(path, { failurePolicy: 'open' }), 0);
    assert.equal(runtime.bundleVersionCount(), 1);
    const s1 = binding.openStream(1);
    const s2 = binding.openStream(2);
    binding.hook(s1, HookKind.RequestHeaders);
    binding.hook(s2, HookKind.RequestHeaders);
    assert.equal(header(s2, 'x-calls'), '2');
  });

  test('a pinned load compiles the source the validating environment read, whatever the file holds', () => {
    const path = bundleFile('v1');
    const main = setup({}, true);
    main.runtime.loadConfig(1, chainOf(path), 0);
    const [bundlePath, hash, source, watch] = main.runtime.bundleOf(1) ?? [];
    assert.equal(bundlePath, path);
    assert.equal(watch, 0);
    writeFileSync(path, bundleSource('v9'));  // changed after validation
    const worker = setup();
    assert.equal(worker.runtime.loadConfig(1, chainOf(path), 0, hash, source), undefined);
    const s = worker.binding.openStream(1);
    worker.binding.hook(s, HookKind.RequestHeaders);
    assert.equal(header(s, 'x-version'), 'v1');
  });

  test('loading a config id again replaces it only when the new load succeeds', () => {
    const path = bundleFile('v1');
    const { runtime, binding } = setup();
    runtime.loadConfig(1, chainOf(path), 0);
    assert.match(runtime.loadConfig(1, chainOf(path), 0, 'h', 'throw new Error("broken build")') ?? '',
                 /bundle .* failed to load: broken build/);
    const s = binding.openStream(1);
    binding.hook(s, HookKind.RequestHeaders);
    assert.equal(header(s, 'x-version'), 'v1', 'the loaded revision keeps serving');
    assert.equal(runtime.bundleVersionCount(), 1);
  });
});

describe('watch-mode reload (reloadConfig)', () => {
  test('unchanged, reloaded, broken: new streams get the new version, running ones keep theirs', () => {
    const path = bundleFile('v1');
    const { runtime, binding } = setup();
    runtime.loadConfig(1, chainOf(path, { watch: true }), 0);
    assert.equal(runtime.bundleOf(1)?.[3], 1);
    const firstHash = runtime.bundleOf(1)?.[1];
    assert.equal(runtime.reloadConfig(1), undefined);
    assert.equal(runtime.bundleOf(1)?.[1], firstHash, 'unchanged: same version');

    const running = binding.openStream(1);
    binding.hook(running, HookKind.RequestHeaders);
    writeFileSync(path, bundleSource('v2'));
    assert.equal(runtime.reloadConfig(1), undefined);
    assert.notEqual(runtime.bundleOf(1)?.[1], firstHash);
    assert.equal(runtime.bundleVersionCount(), 1, 'the replaced version is released');
    const fresh = binding.openStream(1);
    binding.hook(fresh, HookKind.RequestHeaders);
    assert.equal(header(fresh, 'x-version'), 'v2');
    assert.equal(binding.hook(running, HookKind.ResponseHeaders), HookOutcome.Continue,
                 'a stream that started on v1 goes on with its chain');

    const reloadedHash = runtime.bundleOf(1)?.[1];
    writeFileSync(path, 'exports.stamp = ; // a syntax error');
    assert.match(runtime.reloadConfig(1) ?? '', /failed to load: Unexpected token ';'/);
    assert.equal(runtime.bundleOf(1)?.[1], reloadedHash, 'a broken version is rejected');
    const after = binding.openStream(1);
    binding.hook(after, HookKind.RequestHeaders);
    assert.equal(header(after, 'x-version'), 'v2');
  });

  test('a version that declares a new metric, or changes one, is rejected naming it; same metrics keep their indexes', () => {
    const path = join(dir, 'metrics.js');
    writeFileSync(path, bundleSource('v1', { seen: 'counter', size: 'histogram' }));
    const { runtime } = setup();
    runtime.loadConfig(1, chainOf(path, { watch: true }), 0);
    const defined = runtime.describeMetrics(1);

    writeFileSync(path, bundleSource('v2', { size: 'histogram', seen: 'counter' }));
    assert.equal(runtime.reloadConfig(1), undefined, 'the same metrics in another order');
    assert.deepEqual(runtime.describeMetrics(1), defined, 'indexes unchanged');

    writeFileSync(path, bundleSource('v3', { seen: 'counter', size: 'histogram', errors: 'counter' }));
    assert.match(runtime.reloadConfig(1) ?? '',
                 /declares the new counter 'stamp\.errors': Envoy defines a filter config's metrics only when it loads/);
    writeFileSync(path, bundleSource('v4', { seen: 'gauge', size: 'histogram' }));
    assert.match(runtime.reloadConfig(1) ?? '', /metric 'stamp\.seen' is now a gauge, was a counter/);

    writeFileSync(path, bundleSource('v5', { seen: 'counter' }));
    assert.equal(runtime.reloadConfig(1), undefined, 'a metric left out is fine');
    assert.deepEqual(runtime.describeMetrics(1), defined);
  });

  test("'watch' must be a boolean", () => {
    const { runtime } = setup();
    assert.match(runtime.loadConfig(1, chainOf(bundleFile('v1'), { watch: 'yes' }), 0) ?? '',
                 /'watch' must be true or false, got "yes"/);
  });
});

