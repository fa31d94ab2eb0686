// The shared libraries a binary needs, as the dynamic loader of the build machine resolves them
// (ldd), and the Debian package each one comes from: what the artifact bundles, and from where.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, realpathSync } from 'node:fs';
import path from 'node:path';

// glibc's own objects: they must match the OS's C library and loader, so the OS provides them
// (every Linux image with a dynamic loader has them, distroless included). Never bundled.
export const GLIBC_SONAMES = new Set([
  'linux-vdso.so.1', 'ld-linux-x86-64.so.2', 'libc.so.6', 'libm.so.6', 'libpthread.so.0',
  'libdl.so.2', 'librt.so.1', 'libresolv.so.2', 'libutil.so.1', 'libanl.so.1',
]);

/** An environment without LD_LIBRARY_PATH / LD_PRELOAD: libraries are found as in production. */
export function cleanLoaderEnv(env = process.env) {
  const { LD_LIBRARY_PATH, LD_PRELOAD, ...rest } = env;
  return rest;
}

/**
 * soname → absolute path of every library `binary` loads (the whole tree), from ldd.
 * Throws, naming them, when some are not found.
 */
export function sharedLibraries(binary) {
  const out = execFileSync('ldd', [binary], { encoding: 'utf8', env: cleanLoaderEnv() });
  const libraries = new Map();
  const missing = [];
  for (const line of out.split('\n')) {
    const resolved = /^\s*(\S+) => (\S+) \(0x[0-9a-f]+\)$/.exec(line);
    const notFound = /^\s*(\S+) => not found$/.exec(line);
    const bare = /^\s*(\S+) \(0x[0-9a-f]+\)$/.exec(line);
    if (resolved) libraries.set(resolved[1], resolved[2]);
    else if (notFound) missing.push(notFound[1]);
    else if (bare) libraries.set(path.basename(bare[1]), bare[1]);
  }
  if (missing.length) {
    throw new Error(`${binary}: the loader does not find ${missing.join(', ')} (ldd; run \`npm run setup\`)`);
  }
  return libraries;
}

/** The DT_RUNPATH of an ELF file ('' when it has none). */
export function runpathOf(file) {
  const out = execFileSync('readelf', ['-d', file], { encoding: 'utf8' });
  return /\((?:RUNPATH|RPATH)\)\s+Library (?:runpath|rpath): \[(.*)\]/.exec(out)?.[1] ?? '';
}

/** The highest GLIBC_x.y symbol version an ELF file needs, as [x, y] ([0, 0] when none). */
export function glibcVersionNeeded(file) {
  const out = execFileSync('readelf', ['-V', '--wide', file], { encoding: 'utf8', maxBuffer: 64 << 20 });
  let best = [0, 0];
  for (const [, major, minor] of out.matchAll(/Name: GLIBC_(\d+)\.(\d+)/g)) {
    const v = [Number(major), Number(minor)];
    if (v[0] > best[0] || (v[0] === best[0] && v[1] > best[1])) best = v;
  }
  return best;
}

/**
 * Finds the Debian package (name, version) a file comes from: one of the .deb files setup unpacked
 * into the sysroot, or a package installed on this machine (dpkg -S, trying the merged-/usr
 * spellings of the path).
 */
export class DebianPackages {
  constructor(sysroot) {
    this.sysroot = realpathSync(sysroot);
    this.sysrootFiles = new Map();
    const debs = path.join(sysroot, 'debs');
    for (const deb of existsSync(debs) ? readdirSync(debs).filter((f) => f.endsWith('.deb')) : []) {
      const file = path.join(debs, deb);
      const [name, version] = execFileSync('dpkg-deb', ['-f', file, 'Package', 'Version'], { encoding: 'utf8' })
        .trim().split('\n').map((l) => l.replace(/^\w+: /, ''));
      for (const line of execFileSync('dpkg-deb', ['-c', file], { encoding: 'utf8', maxBuffer: 64 << 20 }).split('\n')) {
        const entry = /\s\.(\/\S+)/.exec(line);
        if (entry) this.sysrootFiles.set(entry[1], { name, version, docRoot: this.sysroot });
      }
    }
  }

  /** { name, version, copyright } of the package holding `file`. */
  packageOf(file) {
    const real = realpathSync(file);
    if (real.startsWith(this.sysroot + '/')) {
      const inside = real.slice(this.sysroot.length);
      const hit = this.sysrootFiles.get(inside) ?? this.sysrootFiles.get(path.relative(this.sysroot, file));
      if (!hit) throw new Error(`${file}: not in any .deb of ${this.sysroot}/debs`);
      return this.#withCopyright(hit);
    }
    const candidates = [real, real.replace(/^\/usr\//, '/'), file, file.replace(/^\/lib/, '/usr/lib')];
    for (const candidate of candidates) {
      try {
        const owner = execFileSync('dpkg', ['-S', candidate], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
        const name = owner.split(':')[0];
        const version = execFileSync('dpkg-query', ['-W', '-f=${Version}', owner.split(': ')[0]], { encoding: 'utf8' });
        return this.#withCopyright({ name, version, docRoot: '/' });
      } catch {
        // not this spelling
      }
    }
    throw new Error(`${file}: no installed Debian package holds it (dpkg -S)`);
  }

  #withCopyright({ name, version, docRoot }) {
    const copyright = path.join(docRoot, 'usr/share/doc', name, 'copyright');
    return { name, version, copyright: existsSync(copyright) ? copyright : null };
  }
}
