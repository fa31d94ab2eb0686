// The release artifact (`npm run package`) works on its own: unpacked into a fresh folder, with
// nothing from this repository reachable, the conformance host in it loads its module (dlopen with
// RTLD_NOW, as Envoy 1.40 does; LD_BIND_NOW=1 binds every bundled library eagerly too) and serves
// requests through a bundle. As root, the host runs in a private mount namespace where the
// repository and its sysroot are hidden under empty tmpfs mounts and the artifact's share/nodejs is
// mounted on /usr/share/nodejs (what its README's install step does); the rest of the system is
// unchanged. Either way, /proc/<pid>/maps must show every library but glibc's from the artifact.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { runpathOf } from '../../scripts/package/closure.mjs';
import { assertLoadedFromArtifact, assertServesThroughBundle, copyExampleBundle, currentArtifact,
         exampleProxyYaml, root, startEchoUpstream, targetFacts, unpack, waitReady } from './artifact.mjs';

const isolated = process.getuid() === 0 && spawnSync('unshare', ['--version']).status === 0 &&
  existsSync('/usr/share/nodejs');
const hidden = [...new Set([root, path.join(root, '.sysroot'), path.join(root, 'node_modules'), path.join(root, 'build')]
  .filter(existsSync).map((p) => realpathSync(p)))]
  .sort((a, b) => b.length - a.length); // deepest first: a parent's mount then covers its children's

let artifact;
let dir;
before(() => {
  artifact = currentArtifact();
  dir = unpack(artifact);
});
after(() => rmSync(path.dirname(dir), { recursive: true, force: true }));

/**
 * Runs the artifact's host with `args`. As root: in a mount namespace hiding the repository, with
 * the artifact's builtins on /usr/share/nodejs (or, with `builtins: false`, an empty folder there).
 */
function spawnHost(args, { builtins = true } = {}) {
  const env = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LD_BIND_NOW: '1',
                ENVOY_DYNAMIC_MODULES_SEARCH_PATH: path.join(dir, 'lib') };
  const host = path.join(dir, 'bin/envoy-ts-host');
  if (!isolated) return spawn(host, args, { cwd: path.dirname(dir), env, stdio: ['ignore', 'pipe', 'pipe'] });
  const script = [
    'set -e',
    ...hidden.map((p) => `mount -t tmpfs -o ro,size=4k envoy-ts-hidden '${p}'`),
    builtins ? `mount --bind -o ro '${dir}/share/nodejs' /usr/share/nodejs`
             : "mount -t tmpfs -o ro,size=4k envoy-ts-no-builtins /usr/share/nodejs",
    'exec "$@"',
  ].join('\n');
  return spawn('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script, 'sh', host, ...args],
               { cwd: path.dirname(dir), env, stdio: ['ignore', 'pipe', 'pipe'] });
}

async function runToExit(child) {
  let output = '';
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  const code = await new Promise((resolve) => child.on('exit', (c, signal) => resolve(c ?? signal)));
  return { code, output };
}

test('the artifact and its files match their checksums', () => {
  execFileSync('sha256sum', ['--quiet', '-c', `${path.basename(artifact.tarball)}.sha256`], { cwd: path.dirname(artifact.tarball) });
  execFileSync('sha256sum', ['--quiet', '-c', 'SHA256SUMS'], { cwd: dir });
  const listed = execFileSync('sh', ['-c', 'find . -type f ! -name SHA256SUMS | sort'], { cwd: dir, encoding: 'utf8' })
    .trim().split('\n').map((f) => f.slice(2));
  const summed = execFileSync('sh', ['-c', "cut -c67- SHA256SUMS | sort"], { cwd: dir, encoding: 'utf8' }).trim().split('\n');
  assert.deepEqual(summed, listed, 'SHA256SUMS lists every file');
});

test('every ELF file finds its libraries relative to itself; the offload runner is next to the module', () => {
  assert.equal(runpathOf(path.join(dir, 'lib/libenvoy_ts.so')), '$ORIGIN');
  assert.ok(existsSync(path.join(dir, 'lib/envoy-ts-offload-runner.js')), 'lib/envoy-ts-offload-runner.js');
  const elves = ['bin/envoy-ts-host', ...readdirSync(path.join(dir, 'lib'), { recursive: true })
    .filter((f) => /\.so(\.|$)/.test(f)).map((f) => `lib/${f}`)];
  for (const file of elves) {
    const runpath = runpathOf(path.join(dir, file));
    assert.ok(runpath.split(':').every((p) => p.startsWith('$ORIGIN')), `${file}: RUNPATH '${runpath}'`);
  }
  const facts = targetFacts(dir);
  assert.equal(facts.target, artifact.target);
  for (const builtin of facts.builtins.split(':')) {
    assert.ok(existsSync(path.join(dir, 'share/nodejs', path.relative(facts.builtins_dir, builtin))), builtin);
  }
});

test('unpacked alone, the host loads the module with RTLD_NOW and serves requests through a bundle',
     { timeout: 60000 }, async (t) => {
  if (!isolated) t.diagnostic('not root (or no unshare): the repository stays visible; /proc/<pid>/maps is the only check');
  const upstream = await startEchoUpstream();
  const bundle = copyExampleBundle(path.join(path.dirname(dir), 'bundle'));
  const { listenPort, adminPort, yaml } = await exampleProxyYaml(bundle, upstream.port);
  const config = path.join(path.dirname(dir), 'envoy.yaml');
  writeFileSync(config, yaml);
  const child = spawnHost(['-c', config, '--concurrency', '1', '-l', 'info']);
  let output = '';
  let exited = null;
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  const exit = new Promise((resolve) => child.on('exit', (code, signal) => { exited = { code, signal }; resolve(exited); }));
  try {
    await waitReady(adminPort, { exited: () => exited, output: () => output });
    await assertServesThroughBundle(listenPort);
    const mapped = assertLoadedFromArtifact(child.pid, dir, artifact.libnode);
    t.diagnostic(`${mapped.length} shared objects mapped, all from the artifact but glibc's`);
    for (const p of isolated ? hidden : []) {
      assert.ok(!mapped.some((f) => f.startsWith(`${p}/`)), `something was loaded from ${p}`);
    }
  } finally {
    child.kill('SIGTERM');
    await exit;
    await upstream.close();
  }
  assert.equal(exited.code, 0, `the host's exit (${JSON.stringify(exited)}):\n${output}`);
});

test('without the JS builtins at /usr/share/nodejs the module refuses to start, naming them',
     { timeout: 30000 }, async (t) => {
  if (!isolated) return t.skip('needs root and unshare, to hide /usr/share/nodejs from the host alone');
  const bundle = copyExampleBundle(path.join(path.dirname(dir), 'bundle'));
  const { yaml } = await exampleProxyYaml(bundle, 9);
  const config = path.join(path.dirname(dir), 'validate.yaml');
  writeFileSync(config, yaml);
  const { code, output } = await runToExit(spawnHost(['--mode', 'validate', '-c', config], { builtins: false }));
  assert.equal(code, 1, output);
  assert.match(output, /refusing to start Node\.js: .*missing: \/usr\/share\/nodejs\/\S+/, output);
});
