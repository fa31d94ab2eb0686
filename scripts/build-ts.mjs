#!/usr/bin/env node
// Builds the TypeScript side. One line per step; skips everything when no input changed since the
// last successful build (pass --force to rebuild anyway).
//
//   1. type-check everything (tsc -p tsconfig.json, incremental)
//   2. api declarations       → dist/api/*.d.ts (tsc -p tsconfig.api.json)
//   3. runtime bundle         → build/runtime/runtime.js (iife; embedded into libenvoy_ts.so),
//                               build/runtime/offload-runner.js (ships next to libenvoy_ts.so)
//   4. filter bundles         → dist/examples/filters.js (+ tasks/*.js), dist/test/fixtures/filters.js (+ tasks/*.js),
//                               dist/test/fixtures/top-level-child-process.js,
//                               dist/api/index.js
//   5. the envoy-ts CLI        → dist/cli/envoy-ts.js (+ templates/, the init command's project)
//   6. unit tests             → build/tests/*.test.js (run by scripts/test-ts.mjs)
//   7. test kit               → dist/testing/index.js + index.d.ts (envoy-ts/testing)
//   8. proxy-wasm fixtures    → dist/test/fixtures/proxy-wasm/*.wasm (AssemblyScript, compiled by asc)

import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const force = process.argv.includes('--force');
const stampFile = join(root, 'build/ts.stamp');

const log = (message) => console.log(`[build-ts] ${message}`);
const rel = (path) => relative(root, path);

function walk(dir, keep, out = []) {
  if (!existsSync(dir)) return out;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules') walk(path, keep, out);
    } else if (keep(path)) {
      out.push(path);
    }
  }
  return out;
}

const cliTemplates = join(root, 'ts-filters/cli/templates');
// proxy-wasm filters written with the AssemblyScript SDK (@solo-io/proxy-runtime), for the tests
// and the bench.
const wasmFixtureSources = walk(join(root, 'test/fixtures/proxy-wasm'), (p) => p.endsWith('.ts'));
const wasmFixturesDir = join(root, 'dist/test/fixtures/proxy-wasm');
const inputs = [
  ...wasmFixtureSources,
  ...walk(join(root, 'ts-filters'), (p) => p.endsWith('.ts')),
  ...walk(cliTemplates, (p) => !p.endsWith('.ts')),
  ...walk(join(root, 'test/e2e/fixtures'), (p) => p.endsWith('.ts')),
  join(root, 'tsconfig.json'),
  join(root, 'tsconfig.api.json'),
  join(root, 'tsconfig.testing.json'),
  join(root, 'package-lock.json'),
  fileURLToPath(import.meta.url),
].filter((p) => existsSync(p));

const outputs = {
  runtime: join(root, 'build/runtime/runtime.js'),
  // The script pool threads run offloaded tasks through (ts-filters/runtime/offload-runner.ts):
  // the native build copies it next to the module.
  offloadRunner: join(root, 'build/runtime/offload-runner.js'),
  examples: join(root, 'dist/examples/filters.js'),
  fixtures: join(root, 'dist/test/fixtures/filters.js'),
  // A bundle that requires child_process at load (capabilities.test.mjs).
  topLevelChildProcess: join(root, 'dist/test/fixtures/top-level-child-process.js'),
  fixtureTasks: join(root, 'dist/test/fixtures/tasks'),
  // The examples' offload task modules (ctx.offload loads them from files next to the bundle).
  exampleTasks: join(root, 'dist/examples/tasks'),
  apiJs: join(root, 'dist/api/index.js'),
  apiDts: join(root, 'dist/api/index.d.ts'),
  cli: join(root, 'dist/cli/envoy-ts.js'),
  testingJs: join(root, 'dist/testing/index.js'),
  testingDts: join(root, 'dist/testing/index.d.ts'),
  ...Object.fromEntries(wasmFixtureSources.map((source) => [source, wasmFixtureOf(source)])),
};

function wasmFixtureOf(source) {
  return join(wasmFixturesDir, source.slice(source.lastIndexOf('/') + 1).replace(/\.ts$/, '.wasm'));
}

// Inputs newer than the stamp, or an input added/removed since it (the stamp lists them).
function upToDate() {
  if (force || !existsSync(stampFile)) return false;
  if (!Object.values(outputs).every((p) => existsSync(p))) return false;
  const stamp = statSync(stampFile);
  if (readFileSync(stampFile, 'utf8') !== stampText()) return false;
  return inputs.every((p) => statSync(p).mtimeMs <= stamp.mtimeMs);
}
function stampText() {
  return inputs.map(rel).sort().join('\n') + '\n';
}

async function step(name, fn) {
  const start = performance.now();
  await fn();
  log(`${name} (${Math.round(performance.now() - start)} ms)`);
}

function tsc(project) {
  const result = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', project, '--pretty'],
                           { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    throw new Error(`tsc -p ${project} failed`);
  }
}

function asc(source, outfile) {
  const args = [require.resolve('assemblyscript/bin/asc'), rel(source), '-b', rel(outfile),
                '--use', 'abort=abort_proc_exit', '--optimize'];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => { output += d; });
    child.stderr.on('data', (d) => { output += d; });
    child.on('exit', (code) => (code === 0 ? resolve()
      : reject(new Error(`asc ${rel(source)} failed:\n${output}`))));
  });
}

async function main() {
  if (upToDate()) {
    log('up to date (inputs unchanged; --force rebuilds)');
    return;
  }
  const esbuild = await import('esbuild');
  const common = {
    bundle: true,
    platform: 'node',
    target: 'node18',
    tsconfig: join(root, 'tsconfig.json'),
    logLevel: 'warning',
    legalComments: 'none',
    minify: false,
    sourcemap: false,
    absWorkingDir: root,
  };

  await step('type-check: tsc -p tsconfig.json', () => tsc('tsconfig.json'));
  await step('api declarations: dist/api/*.d.ts', () => tsc('tsconfig.api.json'));

  await step('runtime: build/runtime/runtime.js', async () => {
    const { metafile } = await esbuild.build({
      ...common,
      entryPoints: ['ts-filters/runtime/index.ts'],
      outfile: outputs.runtime,
      metafile: true,
      // An iife made by hand around cjs output: esbuild's own iife routes require() through a
      // __require shim, cjs output calls the in-scope `require` directly.
      format: 'cjs',
      banner: { js: '// envoy-ts runtime: generated by scripts/build-ts.mjs from ts-filters/runtime. Do not edit.\n(function () {' },
      footer: { js: '})();' },
    });
    // The embedding's main script gets a builtin-only require and no module object: everything
    // else must be bundled, and the entry must export nothing.
    const allowed = new Set(['crypto', 'fs', 'inspector', 'module', 'path', 'stream', 'timers', 'url', 'util', 'worker_threads']);
    const output = Object.values(metafile.outputs)[0];
    const bad = output.imports.filter((i) => i.external && !allowed.has(i.path)).map((i) => `require('${i.path}')`);
    if (output.exports.length > 0) bad.push(`exports ${output.exports.join(', ')}`);
    const source = readFileSync(outputs.runtime, 'utf8');
    for (const name of ['import.meta', '__dirname', '__filename']) {
      if (source.includes(name)) bad.push(name);
    }
    if (bad.length > 0) {
      throw new Error(`runtime.js uses what the embedding's main script does not have: ${bad.join(', ')}`);
    }
  });

  await step('offload runner: build/runtime/offload-runner.js', () =>
    esbuild.build({ ...common, entryPoints: ['ts-filters/runtime/offload-runner.ts'], outfile: outputs.offloadRunner,
                    format: 'cjs',
                    banner: { js: '// envoy-ts offload runner: generated by scripts/build-ts.mjs from ts-filters/runtime. Do not edit.' } }));

  // Filter bundles carry source maps: the embedded Node maps their stack traces to the TypeScript.
  const bundle = { ...common, sourcemap: true };
  await step('bundles: dist/examples/filters.js, dist/test/fixtures/filters.js (+ tasks/), dist/api/index.js', () =>
    Promise.all([
      esbuild.build({ ...bundle, entryPoints: ['ts-filters/examples/index.ts'], outfile: outputs.examples, format: 'cjs' }),
      esbuild.build({ ...bundle, entryPoints: walk(join(root, 'ts-filters/examples/tasks'), (p) => p.endsWith('.ts')),
                      outdir: outputs.exampleTasks, format: 'cjs' }),
      esbuild.build({ ...bundle, entryPoints: ['test/e2e/fixtures/filters.ts'], outfile: outputs.fixtures, format: 'cjs' }),
      esbuild.build({ ...bundle, entryPoints: ['test/e2e/fixtures/top-level-child-process.ts'],
                      outfile: outputs.topLevelChildProcess, format: 'cjs' }),
      esbuild.build({ ...bundle, entryPoints: walk(join(root, 'test/e2e/fixtures/tasks'), (p) => p.endsWith('.ts')),
                      outdir: outputs.fixtureTasks, format: 'cjs' }),
      esbuild.build({ ...common, entryPoints: ['ts-filters/api/index.ts'], outfile: outputs.apiJs, format: 'cjs' }),
    ]));

  // The CLI runs in the user's Node (20+); esbuild stays a package (it has a native binary).
  await step('cli: dist/cli/envoy-ts.js (+ templates/)', async () => {
    await esbuild.build({ ...common, entryPoints: ['ts-filters/cli/main.ts'], outfile: outputs.cli, format: 'cjs',
                          target: 'node20', external: ['esbuild'], banner: { js: '#!/usr/bin/env node' } });
    chmodSync(outputs.cli, 0o755);
    rmSync(join(dirname(outputs.cli), 'templates'), { recursive: true, force: true });
    cpSync(cliTemplates, join(dirname(outputs.cli), 'templates'), { recursive: true });
  });

  // The init template's test runs in the project it creates (test/e2e/filter-project.test.mjs).
  const tests = walk(join(root, 'ts-filters'), (p) => /[\\/]test[\\/][^\\/]+\.test\.ts$/.test(p) && !p.startsWith(cliTemplates));
  await step(`unit tests: ${tests.length} files → build/tests/`, async () => {
    const outdir = join(root, 'build/tests');
    await esbuild.build({
      ...common,
      entryPoints: tests.map((p) => ({ in: p, out: rel(p).replace(/^ts-filters[\\/]/, '').replace(/[\\/]test[\\/]/, '/').replace(/\.ts$/, '') })),
      outdir,
      format: 'cjs',
      target: 'node20',
      sourcemap: 'inline',
      external: ['esbuild', 'typescript'],
    });
  });

  // The test kit runs in the filter author's Node (not the embedded one). tsc emits its
  // declarations with everything they reach (build/testing-dts); dist/testing gets the kit's
  // files that index.d.ts reaches (the api's come from dist/api, which the package ships).
  await step('test kit: dist/testing/index.js, dist/testing/*.d.ts', async () => {
    await esbuild.build({ ...common, target: 'node20', entryPoints: ['ts-filters/testing/index.ts'],
                          outfile: outputs.testingJs, format: 'cjs' });
    tsc('tsconfig.testing.json');
    const emitted = join(root, 'build/testing-dts/testing');
    const pending = ['index.d.ts'];
    for (const done = new Set(); pending.length > 0;) {
      const name = pending.pop();
      if (done.has(name)) continue;
      done.add(name);
      const text = readFileSync(join(emitted, name), 'utf8');
      for (const [, local] of text.matchAll(/from '\.\/([\w-]+)'/g)) pending.push(`${local}.d.ts`);
      writeFileSync(join(root, 'dist/testing', name), text);
    }
  });

  // asc 0.14 (the version the SDK builds with), optimized, with the SDK's abort (it logs the message
  // and calls proc_exit). Each takes seconds: only those older than their source (or than the
  // lockfile, which pins asc and the SDK) are compiled, two at a time.
  const lockTime = statSync(join(root, 'package-lock.json')).mtimeMs;
  const stale = wasmFixtureSources.filter((source) => {
    const out = wasmFixtureOf(source);
    return !existsSync(out) || statSync(out).mtimeMs < Math.max(statSync(source).mtimeMs, lockTime);
  });
  await step(`proxy-wasm fixtures: ${stale.length} of ${wasmFixtureSources.length} → ${rel(wasmFixturesDir)}/*.wasm`, async () => {
    mkdirSync(wasmFixturesDir, { recursive: true });
    const pending = [...stale];
    const compileNext = async () => {
      for (let source = pending.shift(); source !== undefined; source = pending.shift()) {
        await asc(source, wasmFixtureOf(source));
      }
    };
    await Promise.all([compileNext(), compileNext()]);
  });

  mkdirSync(dirname(stampFile), { recursive: true });
  writeFileSync(stampFile, stampText());
}

main().catch((error) => {
  log(`FAILED: ${error.message}`);
  process.exit(1);
});
