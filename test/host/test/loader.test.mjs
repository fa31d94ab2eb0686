// The host's module loader and scheduler semantics, proven with tiny broken modules
// (test/host/modules/*.c, built into build/Release/test-modules) instead of our own .so.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  freePort, hostYaml, request, runHostToExit, startHost, startUpstream, testModulesDir,
} from './helpers.mjs';

const searchPath = testModulesDir;
const modulePath = (name) => path.join(testModulesDir, `lib${name}.so`);
const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('loading broken modules', () => {
  let upstream;

  before(async () => {
    for (const name of ['program_init_null', 'abi_version_mismatch', 'missing_hook', 'config_new_null',
                        'scheduler_commit_after_destroy']) {
      assert.ok(existsSync(modulePath(name)), `${modulePath(name)} is not built (run npm run build)`);
    }
    upstream = await startUpstream();
  });

  after(async () => {
    await upstream?.close();
  });

  async function refuse(filters) {
    const yaml = hostYaml({ listenPort: await freePort(), adminPort: await freePort(),
                            upstreamPort: upstream.port, filters });
    return runHostToExit(yaml, { searchPath });
  }

  test('program_init returning NULL: the host does not start and names the module', async () => {
    const { code, output } = await refuse([{ module: 'program_init_null' }]);
    assert.equal(code, 1, output);
    assert.match(output, new RegExp(`initialize dynamic module: ${escape(modulePath('program_init_null'))}`));
  });

  test('a missing required hook: the host does not start and names the missing symbol', async () => {
    const { code, output } = await refuse([{ module: 'missing_hook' }]);
    assert.equal(code, 1, output);
    assert.match(output, /Failed to resolve symbol envoy_dynamic_module_on_http_filter_scheduled in /);
    assert.match(output, new RegExp(escape(modulePath('missing_hook'))));
  });

  test('config_new returning NULL: the host does not start and names the filter\'s path', async () => {
    // The first filter is fine, so the message must point at the second one precisely.
    const { code, output } = await refuse([{ module: 'abi_version_mismatch' },
                                           { module: 'config_new_null' }]);
    assert.equal(code, 1, output);
    assert.match(output, /http_filters\[1\][^\n]*: dynamic module filter config rejected/);
    assert.doesNotMatch(output, /http_filters\[0\][^\n]*rejected/);
  });

  test('a module that is not found: the host does not start and names the file', async () => {
    const { code, output } = await refuse([{ module: 'no_such_module' }]);
    assert.equal(code, 1, output);
    assert.match(output, /Failed to load dynamic module: .*libno_such_module\.so/);
  });

  test('another ABI version: the host warns, then serves requests through the module', async () => {
    const host = await startHost({ upstreamPort: upstream.port, filters: [{ module: 'abi_version_mismatch' }],
                                   searchPath });
    try {
      const response = await request(host.port, { path: '/through' });
      assert.equal(response.status, 200);
      assert.equal(response.body, 'upstream saw GET /through');
      assert.match(host.output, new RegExp(`\\[warning\\]\\[dynamic_modules\\] Dynamic module ` +
        `${escape(modulePath('abi_version_mismatch'))} ABI version v0\\.0\\.0-test differs from v0\\.1\\.0`));
    } finally {
      const exited = await host.stop();
      assert.deepEqual(exited, { code: 0, signal: null }, host.output);
    }
  });
});

describe('scheduler commits from another thread after the stream is destroyed', () => {
  let upstream;
  let host;

  before(async () => {
    upstream = await startUpstream();
    host = await startHost({ upstreamPort: upstream.port, searchPath,
                             filters: [{ module: 'scheduler_commit_after_destroy' }] });
  });

  after(async () => {
    await host?.stop();
    await upstream?.close();
  });

  const commits = (what) => (host.output.match(new RegExp(`\\] ${what}$`, 'gm')) ?? []).length;

  async function waitForCommits(count) {
    const deadline = Date.now() + 5000;
    while (commits('commit (after|before) destroy') < count && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(commits('commit (after|before) destroy'), count, host.output);
  }

  /** A request to the never-answering upstream that the client abandons after `ms`. */
  function abandonedRequest(ms) {
    return new Promise((resolve) => {
      const req = http.request({ host: '127.0.0.1', port: host.port, path: '/hang', agent: false });
      req.on('error', () => resolve());
      req.on('response', () => resolve());
      req.end();
      setTimeout(() => { req.destroy(); resolve(); }, ms);
    });
  }

  test('events of finished and of abandoned streams are dropped; the host keeps serving', async () => {
    const finished = await Promise.all([1, 2, 3].map((i) => request(host.port, { path: `/done/${i}` })));
    assert.deepEqual(finished.map((r) => r.status), [200, 200, 200]);
    await Promise.all([1, 2, 3].map(() => abandonedRequest(20)));

    // Each stream's thread commits 100 ms after its request headers, into a destroyed stream: the
    // module aborts the process if the host delivers such an event.
    await waitForCommits(6);
    assert.equal(commits('commit after destroy'), 6, host.output);
    await new Promise((resolve) => setTimeout(resolve, 50)); // let the posted events run (or not)
    assert.equal(host.exited, null, `the host died:\n${host.output}`);

    const again = await request(host.port, { path: '/still-serving' });
    assert.equal(again.status, 200);
    assert.equal(again.body, 'upstream saw GET /still-serving');
    await waitForCommits(7);
    assert.equal(host.exited, null, `the host died:\n${host.output}`);
    const exited = await host.stop();
    assert.deepEqual(exited, { code: 0, signal: null }, host.output);
  });
});

describe('a scheduler event committed during stream_complete', () => {
  test('is dropped, as Envoy destroys the filter before its dispatcher runs the event', async () => {
    const upstream = await startUpstream();
    const host = await startHost({ upstreamPort: upstream.port, searchPath,
                                   filters: [{ module: 'scheduler_commit_in_stream_complete' }] });
    try {
      const res = await request(host.port, { path: '/' });
      assert.equal(res.status, 200);
      // destroy is the last hook of the stream: after it, nothing can be delivered.
      const deadline = Date.now() + 5000;
      while (!/\] destroyed$/m.test(host.output) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.match(host.output, /\] committed in stream_complete$[\s\S]*\] destroyed$/m);
      assert.doesNotMatch(host.output, /scheduled 7 delivered/);
    } finally {
      await host.stop();
      await upstream.close();
    }
  });
});
