// What both release tests share: the artifact of this build (packaged again when the build or the
// packaging changed), unpacked into a fresh folder, an envoy.yaml serving the example bundle in
// front of a real upstream, and the libraries a running process really mapped.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { freePort, httpProxyYaml } from '../support/proxy-config.mjs';
import { listenLoopback } from '../support/servers.mjs';
import { GLIBC_SONAMES } from '../../scripts/package/closure.mjs';
import { runtimeNameOfThisMachine, runtimes } from '../../scripts/runtimes.mjs';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const releaseDir = path.join(root, 'dist/release');

/** The tarball of this build (name, path), packaged first when missing or older than its inputs. */
export function currentArtifact() {
  const { version } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
  const target = runtimeNameOfThisMachine();
  const name = `envoy-ts-${version}-linux-x64-${target}`;
  const tarball = path.join(releaseDir, `${name}.tar.gz`);
  const inputs = ['build/Release/libenvoy_ts.so', 'build/Release/envoy-ts-offload-runner.js', 'build/Release/envoy-ts-host',
    'scripts/package.mjs',
    'scripts/runtimes.mjs', 'scripts/runtimes.json', ...readdirSync(path.join(root, 'scripts/package')).map((f) => `scripts/package/${f}`)];
  const newest = Math.max(...inputs.map((f) => statSync(path.join(root, f)).mtimeMs));
  if (!existsSync(tarball) || !existsSync(`${tarball}.sha256`) || statSync(tarball).mtimeMs < newest) {
    execFileSync(process.execPath, ['scripts/package.mjs'], { cwd: root, stdio: 'inherit' });
  }
  return { name, tarball, target, libnode: runtimes[target].libnode };
}

/** The artifacts of this version for the other targets that are in dist/release (none by default). */
export function otherTargetArtifacts() {
  const { version } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
  const here = runtimeNameOfThisMachine();
  return Object.keys(runtimes).filter((target) => target !== here).map((target) => {
    const name = `envoy-ts-${version}-linux-x64-${target}`;
    return { name, tarball: path.join(releaseDir, `${name}.tar.gz`), target, libnode: runtimes[target].libnode };
  }).filter((artifact) => existsSync(artifact.tarball));
}

/** Unpacks `tarball` into a new temp folder; returns the artifact's folder in it. */
export function unpack({ name, tarball }) {
  const dir = mkdtempSync(path.join(tmpdir(), 'envoy-ts-release-'));
  execFileSync('tar', ['-xzf', tarball, '-C', dir]);
  return path.join(dir, name);
}

/** Reads the TARGET file of an unpacked artifact into an object. */
export function targetFacts(artifactDir) {
  return Object.fromEntries(readFileSync(path.join(artifactDir, 'TARGET'), 'utf8').trim().split('\n')
    .map((line) => line.split(/=(.*)/s).slice(0, 2)));
}

/** The example bundle (and its source map) copied into `dir`; returns the bundle's path there. */
export function copyExampleBundle(dir) {
  mkdirSync(dir, { recursive: true });
  for (const f of ['filters.js', 'filters.js.map']) copyFileSync(path.join(root, 'dist/examples', f), path.join(dir, f));
  return path.join(dir, 'filters.js');
}

/** An upstream answering 200 with a JSON echo of the request's method, path and headers. */
export async function startEchoUpstream() {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ method: req.method, path: req.url, headers: req.headers }));
    });
  });
  return listenLoopback(server);
}

/** Ports and an envoy.yaml: the example chain (request-id, header-auth) on `bundlePath`. */
export async function exampleProxyYaml(bundlePath, upstreamPort) {
  const listenPort = await freePort();
  const adminPort = await freePort();
  const config = JSON.stringify({
    bundle: bundlePath,
    chain: [{ name: 'request-id' },
            { name: 'header-auth', config: { tokens: ['let-me-in'], prefix: 'Bearer ' } }],
  });
  const yaml = httpProxyYaml({ listenPort, adminPort, upstreamPort,
                               filters: [{ module: 'envoy_ts', filterName: 'chain', config }] });
  return { listenPort, adminPort, yaml };
}

export function get(port, urlPath, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
    });
    req.on('error', reject);
  });
}

/** Resolves once the admin endpoint answers /ready with 200; throws with `output()` when `exited()`. */
export async function waitReady(adminPort, { exited, output, timeoutMs = 30000 }) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited()) throw new Error(`the host exited before it was ready:\n${output()}`);
    try {
      if ((await get(adminPort, '/ready')).status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the host was not ready after ${timeoutMs} ms:\n${output()}`);
}

/** The shared objects process `pid` has mapped (paths as /proc/<pid>/maps shows them). */
export function mappedLibraries(pid) {
  const files = new Set();
  for (const line of readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n')) {
    const file = line.split(/\s+/).slice(5).join(' ');
    if (/\.so(\.|$)/.test(path.basename(file))) files.add(file);
  }
  return [...files].sort();
}

/**
 * Asserts that every library `pid` mapped lies under `artifactPrefix`, except glibc's own, and
 * that the module and `libnode` (its soname) are among them.
 */
export function assertLoadedFromArtifact(pid, artifactPrefix, libnode) {
  // Run inside a chroot, this reader sees the paths of a process in another mount namespace from
  // that namespace's root (the chroot's folder comes first): the artifact's (unique, temporary)
  // folder is matched wherever it appears.
  const mapped = mappedLibraries(pid).map((f) => {
    const at = f.indexOf(`${artifactPrefix}/`);
    return at > 0 ? f.slice(at) : f;
  });
  const outside = mapped.filter((f) => !f.startsWith(`${artifactPrefix}/`) &&
                                       !GLIBC_SONAMES.has(path.basename(f).replace(/^(.*\.so\.\d+).*$/, '$1')));
  assert.deepEqual(outside, [], `libraries loaded from outside the artifact (${artifactPrefix}):\n${mapped.join('\n')}`);
  for (const lib of ['lib/libenvoy_ts.so', `lib/${libnode}`]) {
    assert.ok(mapped.includes(`${artifactPrefix}/${lib}`), `${lib} is not mapped:\n${mapped.join('\n')}`);
  }
  return mapped;
}

/** Both example requests: without a token header-auth answers 401, with one the upstream answers. */
export async function assertServesThroughBundle(listenPort) {
  const denied = await get(listenPort, '/hello');
  assert.equal(denied.status, 401, `without a token: ${JSON.stringify(denied)}`);
  const allowed = await get(listenPort, '/hello', { authorization: 'Bearer let-me-in' });
  assert.equal(allowed.status, 200, `with a token: ${JSON.stringify(allowed)}`);
  const echo = JSON.parse(allowed.body);
  assert.equal(echo.path, '/hello');
  assert.match(echo.headers['x-request-id'] ?? '', /\S/, 'request-id set x-request-id upstream');
}
