import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';

import { offloadTask, useOffloadRunner } from '../offload';

// A bundle path inside the repository, so piscina resolves from its node_modules.
const repoBundle = resolve('build/tests/offload-bundle.js');
const settings = { threads: 1, idleTimeoutMs: 1000 };
const tasks = mkdtempSync(join(tmpdir(), 'envoy-ts-offload-'));
writeFileSync(join(tasks, 'square.js'), 'module.exports = (n) => n * n;\nmodule.exports.twice = (n) => 2 * n;\n');
writeFileSync(join(tasks, 'thread.js'), "module.exports = () => require('node:worker_threads').isMainThread;\n");
writeFileSync(join(tasks, 'fail.js'), "module.exports = (what) => { throw new RangeError(`no ${what}`); };\n");
writeFileSync(join(tasks, 'module.mjs'), 'export default (n) => n + 1;\n');
writeFileSync(join(tasks, 'sum.js'), 'module.exports = (buffer) => new Uint8Array(buffer).reduce((a, b) => a + b, 0);\n');
// Stands in for the environment's binding on the pool thread (the native side is not in plain
// Node): each wake-up is posted on a BroadcastChannel, which the test counts.
writeFileSync(join(tasks, 'fake-binding.js'), `
const { BroadcastChannel } = require('node:worker_threads');
const channel = new BroadcastChannel('envoy-ts-offload-test');
channel.unref();
const linkedBinding = process._linkedBinding;
process._linkedBinding = (name) => name !== 'envoy_ts_offload' ? linkedBinding.call(process, name)
  : { wake: () => channel.postMessage('wake') };
module.exports = (input) => input;
module.exports.fail = () => { throw new Error('failed on the pool'); };
`);
// Built by scripts/build-ts.mjs, shipped next to the module.
const runner = resolve('build/runtime/offload-runner.js');

describe('offload', () => {
  const signal = new AbortController().signal;

  test('runs a task module on a pool thread (absolute path, file: URL, named export)', async () => {
    assert.equal(await offloadTask(repoBundle, settings, join(tasks, 'square.js'), 7, undefined, signal), 49);
    assert.equal(await offloadTask(repoBundle, settings, pathToFileURL(join(tasks, 'square.js')), 3, undefined, signal), 9);
    assert.equal(await offloadTask(repoBundle, settings, join(tasks, 'square.js'), 5, { name: 'twice' }, signal), 10);
    assert.equal(await offloadTask(repoBundle, settings, join(tasks, 'thread.js'), null, undefined, signal), false);
  });

  test('a relative task path is resolved against the bundle\'s folder', async () => {
    const bundle = join(tasks, 'filters.js');
    // piscina is not installed there: the error says what is missing.
    assert.throws(() => offloadTask(bundle, settings, './square.js', 2, undefined, signal), /needs piscina 4/);
    assert.throws(() => offloadTask(repoBundle, settings, './no-such-task.js', 2, undefined, signal),
                  /task module .*no-such-task\.js does not exist/);
  });

  test('an aborted signal cancels the task', async () => {
    const aborted = AbortSignal.abort();
    await assert.rejects(offloadTask(repoBundle, settings, join(tasks, 'square.js'), 2, undefined, aborted));
  });

  test('through the runner, results, exports, ES modules, errors and transferred input are as piscina has them', async () => {
    useOffloadRunner(() => runner);
    try {
      assert.equal(await offloadTask(repoBundle, settings, join(tasks, 'square.js'), 7, undefined, signal), 49);
      assert.equal(await offloadTask(repoBundle, settings, join(tasks, 'square.js'), 5, { name: 'twice' }, signal), 10);
      assert.equal(await offloadTask(repoBundle, settings, join(tasks, 'module.mjs'), 1, undefined, signal), 2);
      await assert.rejects(offloadTask(repoBundle, settings, join(tasks, 'fail.js'), 'luck', undefined, signal),
                           { name: 'RangeError', message: 'no luck' });
      await assert.rejects(offloadTask(repoBundle, settings, join(tasks, 'square.js'), 1, { name: 'none' }, signal),
                           { message: `No handler function exported from ${join(tasks, 'square.js')}` });
      const bytes = new Uint8Array([1, 2, 3]);
      assert.equal(await offloadTask(repoBundle, settings, join(tasks, 'sum.js'), bytes.buffer,
                                     { transferList: [bytes.buffer] }, signal), 6);
      assert.equal(bytes.byteLength, 0, 'transferred');
      await assert.rejects(offloadTask(repoBundle, settings, join(tasks, 'square.js'), 2, undefined, AbortSignal.abort()));
    } finally {
      useOffloadRunner(() => undefined);
    }
  });

  test('the pool thread asks for one wake-up per task, whether it returned or threw', async () => {
    const channel = new BroadcastChannel('envoy-ts-offload-test');
    let wakes = 0;
    channel.onmessage = () => { wakes += 1; };
    useOffloadRunner(() => runner);
    try {
      const task = join(tasks, 'fake-binding.js');
      assert.deepEqual(await offloadTask(repoBundle, settings, task, { n: 1 }, undefined, signal), { n: 1 });
      await assert.rejects(offloadTask(repoBundle, settings, task, null, { name: 'fail' }, signal), { message: 'failed on the pool' });
      // The wake-ups travel on their own channel: wait for them, not for a time.
      for (let i = 0; i < 3000 && wakes < 2; i++) await new Promise((resolve) => setTimeout(resolve, 10));
      assert.equal(wakes, 2);
    } finally {
      useOffloadRunner(() => undefined);
      channel.close();
    }
  });
});
