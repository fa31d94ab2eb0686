// The Bazel build (WORKSPACE, bazel/, the BUILD.bazel files next to the sources) with Debian's
// Bazel 4.2: it builds //native:envoy_ts and //test/host:envoy-ts-host offline (.bazelrc forbids
// downloads), the module exports exactly what the CMake build's does (the host: the same ABI
// callbacks), hosts serve requests through the
// Bazel module and the example bundle, and a workspace that depends on envoy-ts as README.md says
// builds the same module. Bazel runs with --batch (no server stays behind) in fresh output bases,
// removed afterwards; actions are kept in a disk cache shared by every checkout
// ($ENVOY_TS_BAZEL_CACHE, default /var/cache/envoy-ts-test/bazel), so only a machine's first build
// compiles.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import {
  existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';

import { assertServesThroughBundle, exampleProxyYaml, mappedLibraries, root, startEchoUpstream }
  from '../release/artifact.mjs';
import { startHostWithYaml } from '../host/test/helpers.mjs';
import { runtimeNameOfThisMachine, runtimes } from '../../scripts/runtimes.mjs';

const cacheDir = process.env.ENVOY_TS_BAZEL_CACHE || '/var/cache/envoy-ts-test/bazel';
const work = mkdtempSync(path.join(tmpdir(), 'envoy-ts-bazel-'));
after(() => rmSync(work, { recursive: true, force: true }));

const consumerDir = path.join(work, 'consumer-workspace');
const cmake = {
  module: path.join(root, 'build/Release/libenvoy_ts.so'),
  host: path.join(root, 'build/Release/envoy-ts-host'),
};
const bazel = {};  // the checkout's Bazel build: its module and host, once built
const libnode = path.join(root, '.sysroot/usr/lib/x86_64-linux-gnu', runtimes[runtimeNameOfThisMachine()].libnode);

/** Runs `file` with `args` in `cwd`; resolves with its exit code and its whole output. */
function run(file, args, cwd) {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => { output += d; });
    child.stderr.on('data', (d) => { output += d; });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

/**
 * `bazel build` of `targets` in `workspace` (its output base under <work>/<name>); `startup` are
 * more startup options. Fails with Bazel's output; returns its bazel-bin and a line saying how the
 * build went.
 */
async function bazelBuild(name, workspace, targets, startup = []) {
  const bazelArgs = ['--batch', ...startup, `--output_base=${path.join(work, name)}`];
  mkdirSync(cacheDir, { recursive: true });
  const started = performance.now();
  // No convenience symlinks: Bazel 4.2 would put a bazel-out link into the workspace.
  const { code, output } = await run('bazel', [
    ...bazelArgs, 'build', `--disk_cache=${path.join(cacheDir, 'disk-cache')}`,
    '--experimental_convenience_symlinks=ignore', '--color=no', '--curses=no', ...targets,
  ], workspace);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  assert.equal(code, 0, `bazel build ${targets.join(' ')} failed:\n${output}`);
  const quiet = { cwd: workspace, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] };
  const bin = execFileSync('bazel', [...bazelArgs, 'info', 'bazel-bin'], quiet).trim();
  const version = execFileSync('dpkg-query', ['-W', '-f', '${Version}', 'bazel-bootstrap'],
                               { encoding: 'utf8' });
  const actions = /^INFO: (\d+ processes: .*)$/m.exec(output)?.[1] ?? '(no action summary)';
  return { bin, summary: `bazel-bootstrap ${version}: built in ${seconds} s, ${actions}` };
}

/** Names (with their @VERSION) of the dynamic symbols `file` defines, sorted. */
function exportedSymbols(file) {
  return execFileSync('nm', ['-D', '--defined-only', file], { encoding: 'utf8' }).split('\n')
    .filter(Boolean).map((line) => line.trim().split(/\s+/).at(-1)).sort();
}

// The module's exports are all of its ABI. The host's exports are compared on the ABI callbacks
// it gives modules: the rest are C++ template instantiations (of yaml-cpp and libstdc++) whose
// presence follows the compiler's inlining choices, which differ between releases and flags.
const comparedExports = {
  module: () => true,
  host: (symbol) => symbol.startsWith('envoy_dynamic_module_'),
};

function assertExportsAsCMake(binary, file) {
  const expected = exportedSymbols(cmake[binary]).filter(comparedExports[binary]);
  assert.ok(expected.some((s) => s.startsWith('envoy_dynamic_module_')), expected.join('\n'));
  assert.deepEqual(exportedSymbols(file).filter(comparedExports[binary]), expected);
}

test('Bazel builds the module and the host offline', { timeout: 30 * 60_000 }, async (t) => {
  const { bin, summary } =
    await bazelBuild('checkout', root, ['//native:envoy_ts', '//test/host:envoy-ts-host']);
  bazel.module = path.join(bin, 'native/libenvoy_ts.so');
  bazel.host = path.join(bin, 'test/host/envoy-ts-host');
  // //native:envoy_ts is the module and, beside it, the script ctx.offload's pool threads run.
  assert.ok(existsSync(path.join(bin, 'native/envoy-ts-offload-runner.js')), 'the offload runner is beside the module');
  t.diagnostic(summary);
});

for (const binary of ['module', 'host']) {
  test(`the Bazel ${binary} exports what the CMake build's exports`, () => {
    assert.ok(bazel[binary], 'the Bazel build failed');
    assertExportsAsCMake(binary, bazel[binary]);
  });
}

for (const [hostBuild, build] of [['CMake', cmake], ['Bazel', bazel]]) {
  test(`the ${hostBuild} host serves requests through the Bazel module and the example bundle`,
       { timeout: 60000 }, async () => {
    assert.ok(bazel.module, 'the Bazel build failed');
    assert.ok(existsSync(build.host), `${build.host} is missing`);
    const upstream = await startEchoUpstream();
    let host;
    let exited;
    try {
      const { listenPort, adminPort, yaml } =
        await exampleProxyYaml(path.join(root, 'dist/examples/filters.js'), upstream.port);
      host = await startHostWithYaml(yaml, { listenPort, adminPort, bin: build.host,
                                             searchPath: path.dirname(bazel.module) });
      await assertServesThroughBundle(listenPort);
      // The Bazel module, and the libnode of the checkout's sysroot through the module's RUNPATH.
      const mapped = mappedLibraries(host.child.pid);
      for (const library of [bazel.module, libnode]) {
        assert.ok(mapped.includes(realpathSync(library)),
                  `${library} is not mapped:\n${mapped.join('\n')}`);
      }
    } finally {
      // Closed whatever failed: an open server would keep the test process alive.
      exited = await host?.stop();
      await upstream.close();
    }
    assert.deepEqual(exited, { code: 0, signal: null }, host.output);
  });
}

/** The body of README.md's python code block that starts with the comment `# <file>`. */
function readmeBlock(file) {
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
  const opening = `\`\`\`python\n# ${file}\n`;
  const start = readme.indexOf(opening);
  assert.ok(start >= 0, `README.md has no python block starting with "# ${file}"`);
  return readme.slice(start + opening.length, readme.indexOf('```', start + opening.length));
}

test('a workspace that depends on @envoy_ts as README.md says builds the same module',
     { timeout: 30 * 60_000 }, async (t) => {
  const workspace = readmeBlock('WORKSPACE');
  assert.ok(workspace.includes('"/src/envoy-ts"'), workspace);
  mkdirSync(consumerDir);
  writeFileSync(path.join(consumerDir, 'WORKSPACE'),
                workspace.replace('"/src/envoy-ts"', JSON.stringify(root)));
  writeFileSync(path.join(consumerDir, 'BUILD.bazel'), readmeBlock('BUILD.bazel'));
  // The consumer builds with envoy-ts's .bazelrc, as README.md suggests: optimized, offline.
  const { bin, summary } = await bazelBuild('consumer', consumerDir, ['//:dynamic_modules'],
                                            [`--bazelrc=${path.join(root, '.bazelrc')}`]);
  t.diagnostic(summary);
  assertExportsAsCMake('module', path.join(bin, 'external/envoy_ts/native/libenvoy_ts.so'));
});
