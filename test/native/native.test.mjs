// Runs the native unit tests (test/native, built with the module as
// build/Release/envoy-ts-native-tests): every case must pass.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const binary = resolve(dirname(fileURLToPath(import.meta.url)), '../../build/Release/envoy-ts-native-tests');

test('native unit tests (stream logic against fakes, the loop waker)', () => {
  assert.ok(existsSync(binary), `${binary} is missing: build with scripts/setup.sh`);
  const run = spawnSync(binary, { encoding: 'utf8', timeout: 120_000 });
  assert.equal(run.status, 0, `${binary} failed:\n${run.stdout}${run.stderr}`);
  assert.match(run.stdout, /# 0 of \d+ failed/);
});
