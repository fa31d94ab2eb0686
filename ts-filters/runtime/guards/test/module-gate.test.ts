import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { parseCapabilities } from '../capabilities';
import { CapabilityGrants } from '../capability-grants';
import { gatedCapability, installModuleGate, type ModuleLoader } from '../module-gate';

// A stand-in for require('module'): the real loader is the test runner's own.
function fakeLoader(): ModuleLoader & { loads: unknown[][] } {
  const loads: unknown[][] = [];
  return {
    loads,
    _load(...args: unknown[]): unknown {
      loads.push(args);
      return `loaded ${String(args[0])}`;
    },
  };
}

const bundleParent = { filename: '/srv/filters/dist/filters.js' };

describe('module gate', () => {
  test('gated modules, with or without node:', () => {
    assert.equal(gatedCapability('child_process'), 'childProcess');
    assert.equal(gatedCapability('node:child_process'), 'childProcess');
    assert.equal(gatedCapability('cluster'), 'childProcess');
    assert.equal(gatedCapability('node:worker_threads'), 'workerThreads');
    for (const free of ['fs', 'zlib', 'node:crypto', 'undici', './child_process', 'child_process/x', 42]) {
      assert.equal(gatedCapability(free), undefined, String(free));
    }
  });

  test('a gated module is refused without the grant, naming it and the switch', () => {
    const loader = fakeLoader();
    installModuleGate(loader, new CapabilityGrants());
    for (const [request, capability] of [['child_process', 'childProcess'], ['node:child_process', 'childProcess'],
                                         ['cluster', 'childProcess'], ['worker_threads', 'workerThreads'],
                                         ['node:worker_threads', 'workerThreads']]) {
      assert.throws(() => loader._load(request, bundleParent, false), (error: Error & { code?: string }) => {
        assert.equal(error.code, 'ETS_ERR_CAPABILITY');
        assert.equal(error.message, `${String(request).replace('node:', '')} is not available to filters: ` +
                     `set "capabilities": {"${capability}": true} in the filter_config`);
        return true;
      });
    }
    assert.equal(loader.loads.length, 0);
  });

  test('other modules load as before, with the loader\'s arguments and this', () => {
    const loader = fakeLoader();
    installModuleGate(loader, new CapabilityGrants());
    assert.equal(loader._load('zlib', bundleParent, false), 'loaded zlib');
    assert.deepEqual(loader.loads, [['zlib', bundleParent, false]]);
  });

  test('a granted module loads', () => {
    const loader = fakeLoader();
    const grants = new CapabilityGrants();
    installModuleGate(loader, grants);
    grants.grant(1, parseCapabilities({ childProcess: true }));
    assert.equal(loader._load('node:child_process', bundleParent, false), 'loaded node:child_process');
    assert.equal(loader._load('cluster', bundleParent, false), 'loaded cluster');
    assert.throws(() => loader._load('worker_threads', bundleParent, false), /workerThreads/);
    grants.revoke(1);
    assert.throws(() => loader._load('child_process', bundleParent, false), /childProcess/);
  });

  test('piscina\'s own files may load worker_threads (ctx.offload)', () => {
    const loader = fakeLoader();
    installModuleGate(loader, new CapabilityGrants());
    assert.equal(loader._load('node:worker_threads', { filename: '/srv/node_modules/piscina/dist/index.js' }, false),
                 'loaded node:worker_threads');
    assert.throws(() => loader._load('worker_threads', { filename: '/srv/node_modules/piscina-like/x.js' }, false),
                  /workerThreads/);
    assert.throws(() => loader._load('worker_threads', undefined, false), /workerThreads/);
  });
});
