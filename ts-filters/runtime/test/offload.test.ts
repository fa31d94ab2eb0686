import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';

import { offloadTask } from '../offload';

// A bundle path inside the repository, so piscina resolves from its node_modules.
const repoBundle = resolve('build/tests/offload-bundle.js');
const settings = { threads: 1, idleTimeoutMs: 1000 };
const tasks = mkdtempSync(join(tmpdir(), 'envoy-ts-offload-'));
writeFileSync(join(tasks, 'square.js'), 'module.exports = (n) => n * n;\nmodule.exports.twice = (n) => 2 * n;\n');
writeFileSync(join(tasks, 'thread.js'), "module.exports = () => require('node:worker_threads').isMainThread;\n");

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
});
