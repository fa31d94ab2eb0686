#!/usr/bin/env node
// `npm run package`: the release artifact of the built module, one per target, a tarball a platform
// team drops into an Envoy image:
//   dist/release/envoy-ts-<version>-linux-x64-<target>.tar.gz (+ .sha256)
// holding lib/libenvoy_ts.so with RUNPATH $ORIGIN and its offload runner script, every library it
// loads except glibc's (libnode and its Debian dependencies, each with RUNPATH $ORIGIN), the JS
// builtins libnode reads from
// /usr/share/nodejs, the conformance host (bin/, its own libraries in lib/host/), a README
// (scripts/package/README.release.md) and SHA256SUMS.
// It packages build/Release as built (`npm run package` builds first).
// Usage: node scripts/package.mjs [--target debian12|debian13|all] [--out <dir>]
// (default: this machine's release; another release's target is built in a root of that release).
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync,
         statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { DebianPackages, GLIBC_SONAMES, glibcVersionNeeded, runpathOf, sharedLibraries } from './package/closure.mjs';
import { runtimeNameOfThisMachine, runtimes as targets } from './runtimes.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const say = (message) => console.log(`[package] ${message}`);
const fail = (message) => { console.error(`[package] error: ${message}`); process.exit(1); };

// libnode reads these JS sources from fixed absolute paths (Debian builds Node with
// --shared-builtin-*-path=/usr/share/nodejs/...); native/CMakeLists.txt finds them the same way.
const BUILTINS_DIR = '/usr/share/nodejs';
const BUILTIN_PATH = /^\/[^\s"]+\/nodejs\/[^\s"]+\.js$/;

function parseArgs(argv) {
  const usage = 'usage: node scripts/package.mjs [--target <name>|all] [--out <dir>]';
  const args = { targets: [], out: path.join(root, 'dist/release') };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--target') args.targets.push(argv[++i]);
    else if (argv[i] === '--out') args.out = path.resolve(argv[++i]);
    else fail(`unknown argument '${argv[i]}' (${usage})`);
  }
  if (args.targets.includes('all')) args.targets = Object.keys(targets);
  if (args.targets.length === 0) {
    const here = runtimeNameOfThisMachine();
    if (!here) fail(`no release target for this machine (not Debian 12 or 13); targets: ${Object.keys(targets).join(', ')}`);
    args.targets = [here];
  }
  for (const t of args.targets) {
    if (!targets[t]) fail(`unknown target '${t}'; targets: ${Object.keys(targets).join(', ')}, all`);
  }
  return args;
}

/**
 * A target of another Debian release is built where its libnode exists: in a minimal root of that
 * release (scripts/debian-root.sh), from a fresh clone of HEAD, which setup builds there.
 */
function packageInDebianRoot(targetName, out) {
  say(`${targetName}: building and packaging HEAD (${execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim()}, ` +
      `committed changes only) in a ${targets[targetName].title} root`);
  execFileSync('bash', ['scripts/debian-root.sh', targets[targetName].suite, '--copy-out', 'dist/release', out,
    'bash', '-c', `bash scripts/setup.sh && node scripts/package.mjs --target ${targetName}`],
  { cwd: root, stdio: 'inherit' });
}

function requireTools() {
  const missing = ['patchelf', 'readelf', 'ldd', 'dpkg-deb', 'tar'].filter((tool) => {
    try { execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }); return false; } catch { return true; }
  });
  if (missing.length === 0) return;
  if (missing.includes('patchelf') && process.getuid?.() === 0) {
    say('apt-get install patchelf (sets the bundled libraries\' RUNPATH)');
    execFileSync('sh', ['-c', 'DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends patchelf >/dev/null'], { stdio: 'inherit' });
    return requireTools();
  }
  fail(`missing tools: ${missing.join(', ')} (apt-get install patchelf binutils)`);
}

/** The absolute paths of the JS builtins `libnode` reads from disk (NUL-terminated strings in it). */
function externalBuiltins(libnode) {
  const bytes = readFileSync(libnode);
  const found = new Set();
  for (let at = bytes.indexOf('/nodejs/'); at !== -1; at = bytes.indexOf('/nodejs/', at + 1)) {
    const start = bytes.lastIndexOf(0, at) + 1;
    const end = bytes.indexOf(0, at);
    const text = bytes.toString('latin1', start, end);
    if (BUILTIN_PATH.test(text)) found.add(text);
  }
  return [...found].sort();
}

function sha256(file) {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

function filesUnder(dir, prefix = '') {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const rel = path.posix.join(prefix, entry.name);
    return entry.isDirectory() ? filesUnder(path.join(dir, entry.name), rel) : [rel];
  }).sort();
}

function patchRunpath(file, runpath) {
  execFileSync('patchelf', ['--set-rpath', runpath, file]);
  const now = runpathOf(file);
  if (now !== runpath) fail(`${file}: RUNPATH is '${now}' after patchelf, expected '${runpath}'`);
}

function main() {
  const { targets: targetNames, out } = parseArgs(process.argv.slice(2));
  for (const targetName of targetNames) {
    if (targetName === runtimeNameOfThisMachine()) packageHere(targetName, out);
    else packageInDebianRoot(targetName, out);
  }
}

/** Packages build/Release, built on this machine against its release's libnode. */
function packageHere(targetName, out) {
  const target = targets[targetName];
  requireTools();
  const { version } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
  const name = `envoy-ts-${version}-linux-x64-${targetName}`;
  const moduleFile = path.join(root, 'build/Release/libenvoy_ts.so');
  const runnerFile = path.join(root, 'build/Release/envoy-ts-offload-runner.js');
  const hostFile = path.join(root, 'build/Release/envoy-ts-host');
  const sysroot = path.join(root, '.sysroot');
  for (const file of [moduleFile, runnerFile, hostFile]) {
    if (!existsSync(file)) fail(`${path.relative(root, file)} is missing: run \`npm run build\` first`);
  }

  const moduleLibraries = sharedLibraries(moduleFile);
  if (!moduleLibraries.has(target.libnode)) {
    fail(`build/Release/libenvoy_ts.so does not link ${target.libnode} (target ${targetName}); it links ` +
         `${[...moduleLibraries.keys()].filter((l) => l.startsWith('libnode')).join(', ') || 'no libnode'}`);
  }
  const libnode = moduleLibraries.get(target.libnode);

  const stage = path.join(out, name);
  rmSync(stage, { recursive: true, force: true });
  for (const dir of ['lib/host', 'bin', 'share/nodejs', 'share/doc']) mkdirSync(path.join(stage, dir), { recursive: true });
  const packages = new DebianPackages(sysroot);
  const bundled = []; // { file (in the artifact), name, version }
  const copyrights = new Map();

  function bundle(source, dest) {
    copyFileSync(source, path.join(stage, dest)); // follows symlinks: the real file under its soname
    chmodSync(path.join(stage, dest), 0o755);
    const pkg = packages.packageOf(source);
    bundled.push({ file: dest, name: pkg.name, version: pkg.version });
    if (pkg.copyright) copyrights.set(pkg.name, pkg.copyright);
  }

  // The module and everything it loads but glibc, side by side in lib/, each finding its
  // dependencies next to itself ($ORIGIN): RUNPATH only applies to an object's own DT_NEEDED.
  copyFileSync(moduleFile, path.join(stage, 'lib/libenvoy_ts.so'));
  // The script ctx.offload's pool threads run tasks through: the module finds it next to itself.
  copyFileSync(runnerFile, path.join(stage, 'lib/envoy-ts-offload-runner.js'));
  for (const [soname, file] of moduleLibraries) {
    if (!GLIBC_SONAMES.has(soname)) bundle(file, `lib/${soname}`);
  }
  // The conformance host (smoke tests; Envoy does not need it) and what it loads on top.
  copyFileSync(hostFile, path.join(stage, 'bin/envoy-ts-host'));
  for (const [soname, file] of sharedLibraries(hostFile)) {
    if (!GLIBC_SONAMES.has(soname) && !moduleLibraries.has(soname)) bundle(file, `lib/host/${soname}`);
  }
  say(`bundled ${bundled.length} libraries from ${new Set(bundled.map((b) => b.name)).size} Debian packages`);

  for (const file of readdirSync(path.join(stage, 'lib')).filter((f) => f.includes('.so'))) {
    patchRunpath(path.join(stage, 'lib', file), '$ORIGIN');
  }
  for (const file of readdirSync(path.join(stage, 'lib/host'))) {
    patchRunpath(path.join(stage, 'lib/host', file), '$ORIGIN:$ORIGIN/..');
  }
  patchRunpath(path.join(stage, 'bin/envoy-ts-host'), '$ORIGIN/../lib/host:$ORIGIN/../lib');

  // The JS builtins, under share/nodejs/ as they must lie under /usr/share/nodejs.
  const builtins = externalBuiltins(libnode);
  for (const builtin of builtins) {
    if (!builtin.startsWith(`${BUILTINS_DIR}/`)) fail(`${target.libnode} reads ${builtin}, outside ${BUILTINS_DIR}`);
    const source = path.join(sysroot, builtin);
    if (!existsSync(source)) fail(`${source} is missing (the JS builtin ${builtin}); run \`npm run setup\``);
    const dest = path.posix.join('share/nodejs', builtin.slice(BUILTINS_DIR.length + 1));
    mkdirSync(path.dirname(path.join(stage, dest)), { recursive: true });
    bundle(source, dest);
    chmodSync(path.join(stage, dest), 0o644);
  }
  say(`JS builtins: ${builtins.length} files for ${BUILTINS_DIR}`);

  for (const [pkg, file] of copyrights) {
    mkdirSync(path.join(stage, 'share/doc', pkg), { recursive: true });
    copyFileSync(file, path.join(stage, 'share/doc', pkg, 'copyright'));
  }

  // Self-check: in the artifact, every library resolves inside it, except glibc's.
  for (const binary of ['lib/libenvoy_ts.so', 'bin/envoy-ts-host']) {
    for (const [soname, file] of sharedLibraries(path.join(stage, binary))) {
      if (!GLIBC_SONAMES.has(soname) && !file.startsWith(stage + '/')) {
        fail(`${binary} in the artifact loads ${soname} from ${file}, outside the artifact`);
      }
    }
  }
  const elfFiles = ['bin/envoy-ts-host', ...filesUnder(path.join(stage, 'lib'), 'lib').filter((f) => /\.so(\.|$)/.test(f))];
  const glibc = elfFiles.map((f) => glibcVersionNeeded(path.join(stage, f)))
    .reduce((a, b) => (b[0] > a[0] || (b[0] === a[0] && b[1] > a[1]) ? b : a));
  const glibcMin = glibc.join('.');

  writeFileSync(path.join(stage, 'README.md'), readme({ version, name, targetName, target, glibcMin, bundled, builtins }));
  writeFileSync(path.join(stage, 'TARGET'), [
    `name=${name}`, `version=${version}`, `target=${targetName}`, `suite=${target.suite}`,
    `libnode=${target.libnode}`, `glibc_min=${glibcMin}`, `builtins_dir=${BUILTINS_DIR}`,
    `builtins=${builtins.join(':')}`, '',
  ].join('\n'));
  const sums = filesUnder(stage).filter((f) => f !== 'SHA256SUMS')
    .map((f) => `${sha256(path.join(stage, f))}  ${f}`).join('\n');
  writeFileSync(path.join(stage, 'SHA256SUMS'), `${sums}\n`);

  const tarball = path.join(out, `${name}.tar.gz`);
  const mtime = execFileSync('git', ['log', '-1', '--format=%ct'], { cwd: root, encoding: 'utf8' }).trim();
  execFileSync('tar', ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', `--mtime=@${mtime}`,
    '-I', 'gzip -n', '-cf', tarball, name], { cwd: out });
  writeFileSync(`${tarball}.sha256`, `${sha256(tarball)}  ${path.basename(tarball)}\n`);
  rmSync(stage, { recursive: true, force: true });
  const mib = (statSync(tarball).size / 1048576).toFixed(1);
  say(`${path.relative(process.cwd(), tarball)} (${mib} MiB) and .sha256; requires glibc >= ${glibcMin}`);
}

// The official Envoy images and the glibc each has: which of them an artifact runs on.
const ENVOY_IMAGES = [
  { from: 'envoyproxy/envoy:distroless-v1.40.0', title: 'the distroless `envoyproxy/envoy:distroless-*` (Debian 12)', glibc: [2, 36] },
  { from: 'envoyproxy/envoy:v1.40.0', title: '`envoyproxy/envoy` (Ubuntu 24.04)', glibc: [2, 39] },
];

/** What the artifact README says about the official Envoy images, for an artifact needing glibc `glibc`. */
function envoyImages(glibc) {
  const fits = (image) => image.glibc[0] > glibc[0] || (image.glibc[0] === glibc[0] && image.glibc[1] >= glibc[1]);
  const version = (image) => image.glibc.join('.');
  const ok = ENVOY_IMAGES.filter(fits);
  const not = ENVOY_IMAGES.filter((image) => !fits(image));
  const sentence = [
    ok.length ? `Official Envoy images that have it: ${ok.map((i) => `${i.title}, glibc ${version(i)}`).join('; ')}.` : '',
    not.length ? `Not ${not.map((i) => `${i.title}, glibc ${version(i)}`).join('; ')}: use the artifact of an older Debian release there.` : '',
  ].filter(Boolean).join(' ');
  const fromLines = ok.map((image, i) => (i === 0 ? `FROM ${image.from}` : `# or: FROM ${image.from}   (the same lines)`)).join('\n');
  return { sentence, fromLines };
}

/** The artifact's README: scripts/package/README.release.md with this build's facts filled in. */
function readme({ version, name, targetName, target, glibcMin, bundled, builtins }) {
  const template = readFileSync(path.join(root, 'scripts/package/README.release.md'), 'utf8');
  const byPackage = new Map();
  for (const { file, name: pkg, version: v } of bundled) {
    const entry = byPackage.get(pkg) ?? { version: v, files: [] };
    entry.files.push(file);
    byPackage.set(pkg, entry);
  }
  const table = [...byPackage].sort(([a], [b]) => a.localeCompare(b))
    .map(([pkg, { version: v, files }]) => `| ${pkg} | ${v} | ${files.map((f) => `\`${f}\``).join(', ')} |`)
    .join('\n');
  const images = envoyImages(glibcMin.split('.').map(Number));
  const values = {
    IMAGES: images.sentence, FROM_LINES: images.fromLines || '# (no official Envoy image has this glibc)',
    VERSION: version, NAME: name, TARGET: targetName, TARGET_TITLE: target.title,
    LIBNODE: target.libnode, NODE_VERSION: target.nodeVersion, GLIBC_MIN: glibcMin,
    BUNDLED_TABLE: table, BUILTINS: builtins.map((b) => `- \`${b}\``).join('\n'),
  };
  return template.replace(/\{\{(\w+)\}\}/g, (all, key) => {
    if (!(key in values)) fail(`README.release.md: unknown placeholder ${all}`);
    return values[key];
  });
}

main();
