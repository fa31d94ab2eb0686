#!/usr/bin/env node
// Runs the TypeScript unit tests built by scripts/build-ts.mjs: first the api's type tests
// (ts-filters/api/test/types, type-checked against the built dist/api declarations with
// tsconfig.api-test.json: a test passes when it compiles, and each `@ts-expect-error` must be an
// error), then build/tests/**/*.test.js with node --test. Extra arguments go to node (e.g.
// --test-name-pattern=header).

import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const dir = join(root, 'build/tests');

function walk(path, out = []) {
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    const child = join(path, entry.name);
    if (entry.isDirectory()) walk(child, out);
    else if (entry.name.endsWith('.test.js')) out.push(child);
  }
  return out;
}

if (!existsSync(dir)) {
  console.error('[test-ts] build/tests is missing: run `node scripts/build-ts.mjs` first');
  process.exit(1);
}
if (!existsSync(join(root, 'dist/api/index.d.ts'))) {
  console.error('[test-ts] dist/api/index.d.ts is missing: run `node scripts/build-ts.mjs` first');
  process.exit(1);
}
console.log('[test-ts] type tests: tsc -p tsconfig.api-test.json');
const typeTests = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.api-test.json', '--pretty'],
                            { cwd: root, stdio: 'inherit' });
if (typeTests.status !== 0) {
  console.error('[test-ts] type tests failed');
  process.exit(1);
}
const files = walk(dir).sort();
if (files.length === 0) {
  console.error('[test-ts] no tests in build/tests');
  process.exit(1);
}
const result = spawnSync(process.execPath, ['--test', ...process.argv.slice(2), ...files],
                         { cwd: root, stdio: 'inherit' });
process.exit(result.status ?? 1);
