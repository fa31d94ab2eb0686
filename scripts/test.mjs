#!/usr/bin/env node
// `npm test`: the TypeScript and native unit tests, the conformance host's own tests, the deployment recipes,
// the e2e suite over real HTTP through the conformance host, the release artifact and the Bazel
// build; then the e2e suite again under real Envoy when ENVOY_BIN is set.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function run(title, args, env = process.env) {
  console.log(`\n[test] ${title}`);
  const result = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit', env });
  return result.status === 0;
}

function testFiles(dir) {
  return readdirSync(join(root, dir)).filter((f) => f.endsWith('.test.mjs')).sort().map((f) => join(dir, f));
}

const e2e = ['--test', '--test-concurrency=1', ...testFiles('test/e2e')];
const { ENVOY_BIN, ...withoutEnvoy } = process.env;

const results = [
  run('TypeScript unit tests', ['scripts/test-ts.mjs']),
  run('native unit tests (test/native)', ['--test', ...testFiles('test/native')]),
  run('conformance host tests', ['--test', '--test-concurrency=1', ...testFiles('test/host/test')]),
  run('deployment recipes (envoy-configs/)', ['--test', ...testFiles('test/configs')]),
  run('e2e suite through the conformance host', e2e, withoutEnvoy),
  run('release artifact (dist/release, unpacked alone)', ['--test', ...testFiles('test/release')]),
  run('Bazel build (bazel/, WORKSPACE)', ['--test', ...testFiles('test/bazel')]),
];
if (ENVOY_BIN) {
  results.push(run(`e2e suite through Envoy (${ENVOY_BIN})`, e2e, process.env));
} else {
  console.log('\n[test] e2e suite under real Envoy: skipped (ENVOY_BIN is not set; ' +
              'run `ENVOY_BIN=/path/to/envoy npm test` to run it there too)');
}
const failed = results.filter((ok) => !ok).length;
console.log(`\n[test] ${failed === 0 ? 'all suites passed' : `${failed} suite(s) failed`}`);
process.exit(failed === 0 ? 0 : 1);
