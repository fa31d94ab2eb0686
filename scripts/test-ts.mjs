#!/usr/bin/env node
// Runs the TypeScript unit tests built by scripts/build-ts.mjs (build/tests/**/*.test.js) with
// node --test. Extra arguments go to node (e.g. --test-name-pattern=header).

import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
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
const files = walk(dir).sort();
if (files.length === 0) {
  console.error('[test-ts] no tests in build/tests');
  process.exit(1);
}
const result = spawnSync(process.execPath, ['--test', ...process.argv.slice(2), ...files],
                         { cwd: root, stdio: 'inherit' });
process.exit(result.status ?? 1);
