// Each release artifact in a minimal Debian root of its target release (debootstrap
// --variant=minbase: glibc, coreutils, tar, apt; no Node, no /usr/share/nodejs), installed with
// exactly the steps of its README ("On a machine"), serving requests through a bundle: this
// machine's target and every other one in dist/release (`npm run package -- --target all`).
//
// Opt-in (root, debootstrap, network on the first run): `npm run test:release`. The Debian root
// is created once in $ENVOY_TS_DEBIAN_ROOT_CACHE (default /var/cache/envoy-ts-test/<suite>-minbase,
// 1–2 minutes) and never written again: each run mounts an overlay on it in a private mount
// namespace, so every mount (the overlay, /proc) goes away with the host process, whatever happens.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync,
         writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

import { assertServesThroughBundle, copyExampleBundle, currentArtifact, exampleProxyYaml, mappedLibraries,
         otherTargetArtifacts, startEchoUpstream, targetFacts, unpack, waitReady } from './artifact.mjs';
import { GLIBC_SONAMES } from '../../scripts/package/closure.mjs';

const cacheDir = process.env.ENVOY_TS_DEBIAN_ROOT_CACHE || '/var/cache/envoy-ts-test';

function whyNot() {
  if (process.env.ENVOY_TS_TEST_DEBIAN_ROOT !== '1') {
    return 'opt-in: `npm run test:release` runs it (as root, with debootstrap; the first run creates ' +
           `a minimal Debian root in ${cacheDir}, 1–2 minutes)`;
  }
  if (process.getuid() !== 0) return 'needs root (debootstrap, mount, chroot)';
  for (const tool of ['debootstrap', 'unshare', 'chroot']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `needs ${tool} (apt-get install ${tool})`;
  }
  return null;
}

/** The cached minbase root of `suite`, created first when missing. */
function debianRoot(suite, t) {
  const rootfs = path.join(cacheDir, `${suite}-minbase`);
  if (existsSync(path.join(rootfs, 'etc/debian_version'))) return rootfs;
  const partial = `${rootfs}.partial`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(cacheDir, { recursive: true });
  const started = Date.now();
  t.diagnostic(`creating ${rootfs} (debootstrap --variant=minbase ${suite}, once)`);
  execFileSync('debootstrap', ['--variant=minbase', suite, partial, 'http://deb.debian.org/debian'], { stdio: 'ignore' });
  renameSync(partial, rootfs);
  t.diagnostic(`created ${rootfs} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return rootfs;
}

/** The sh block of the artifact README's install steps (the one after the install-steps marker). */
function installSteps(artifactDir) {
  const readme = readFileSync(path.join(artifactDir, 'README.md'), 'utf8');
  const block = /<!-- install-steps[^>]*-->\s*```sh\n([\s\S]*?)```/.exec(readme);
  assert.ok(block, 'the artifact README has its install-steps block');
  return block[1];
}

// This machine's artifact, and every other target's that `npm run package -- --target all` built.
const artifacts = whyNot() ? [] : [currentArtifact(), ...otherTargetArtifacts()];

for (const artifact of artifacts.length ? artifacts : [null]) {
  test(`installed as its README says in a minimal Debian root, the ${artifact?.target ?? ''} artifact serves requests through a bundle`,
       { skip: whyNot() ?? false, timeout: 600000 }, (t) => installAndServe(artifact, t));
}

async function installAndServe(artifact, t) {
  const unpacked = unpack(artifact);
  const facts = targetFacts(unpacked);
  const rootfs = debianRoot(facts.suite, t);
  assert.ok(!existsSync(path.join(rootfs, 'usr/share/nodejs')), `${rootfs} has no /usr/share/nodejs of its own`);
  const work = mkdtempSync(path.join(tmpdir(), 'envoy-ts-debian-root-'));
  const upstream = await startEchoUpstream();
  let child;
  let exited = null;
  let output = '';
  try {
    const [upper, overlayWork, merged] = ['upper', 'work', 'merged'].map((d) => path.join(work, d));
    for (const d of [path.join(upper, 'tmp'), overlayWork, merged]) mkdirSync(d, { recursive: true });
    for (const f of [artifact.tarball, `${artifact.tarball}.sha256`]) copyFileSync(f, path.join(upper, 'tmp', path.basename(f)));
    copyExampleBundle(path.join(upper, 'etc/envoy-ts-test'));
    const { listenPort, adminPort, yaml } = await exampleProxyYaml('/etc/envoy-ts-test/filters.js', upstream.port);
    writeFileSync(path.join(upper, 'etc/envoy-ts-test/envoy.yaml'), yaml);

    const script = [
      'set -e',
      `mount -t overlay envoy-ts-test -o lowerdir='${rootfs}',upperdir='${upper}',workdir='${overlayWork}' '${merged}'`,
      `mount -t proc proc '${merged}/proc'`,
      `chroot '${merged}' /bin/sh -ec 'cd /tmp && ${installSteps(unpacked).replace(/'/g, "'\\''")}'`,
      `exec chroot '${merged}' /usr/bin/env -i PATH=/usr/bin:/bin ENVOY_DYNAMIC_MODULES_SEARCH_PATH=/opt/envoy-ts/lib ` +
        'LD_BIND_NOW=1 /opt/envoy-ts/bin/envoy-ts-host -c /etc/envoy-ts-test/envoy.yaml --concurrency 1 -l info',
    ].join('\n');
    const started = Date.now();
    child = spawn('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script],
                  { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } });
    child.stdout.on('data', (d) => { output += d; });
    child.stderr.on('data', (d) => { output += d; });
    const exit = new Promise((resolve) => child.on('exit', (code, signal) => { exited = { code, signal }; resolve(); }));
    await waitReady(adminPort, { exited: () => exited, output: () => output, timeoutMs: 60000 });
    t.diagnostic(`installed and ready in ${Date.now() - started} ms`);
    await assertServesThroughBundle(listenPort);

    // Inside the chroot, every library but glibc's comes from /opt/envoy-ts (glibc: the root's own).
    const mapped = mappedLibraries(child.pid);
    const outside = mapped.filter((f) => !/\/opt\/envoy-ts[^/]*\//.test(f) &&
      !GLIBC_SONAMES.has(path.basename(f).replace(/^(.*\.so\.\d+).*$/, '$1')));
    assert.deepEqual(outside, [], `loaded from outside the artifact:\n${mapped.join('\n')}`);
    assert.ok(mapped.some((f) => f.endsWith(`/lib/${facts.libnode}`)), mapped.join('\n'));
    t.diagnostic(`${mapped.length} shared objects mapped, e.g. ${mapped.find((f) => f.endsWith('libstdc++.so.6'))}`);

    child.kill('SIGTERM');
    await exit;
    assert.equal(exited.code, 0, `the host's exit (${JSON.stringify(exited)}):\n${output}`);
  } finally {
    if (child && !exited) child.kill('SIGKILL');
    await upstream.close();
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8');
    rmSync(work, { recursive: true, force: true });
    rmSync(path.dirname(unpacked), { recursive: true, force: true });
    assert.ok(!mounts.includes(work), `a mount under ${work} is left in this namespace`);
  }
}
