// The filter bundles one Node environment has loaded, by version. A version is a bundle's content,
// named by its SHA-256 (not its mtime and size, which a rebuild within the file system's timestamp
// resolution, or a copy that keeps the size, leaves unchanged).
//
// Why versions and not require(): a filter config holds the filter definitions of the version it
// was validated with, for as long as it lives, and a stream keeps its config until it ends. When
// the bundle changes (Envoy pushes a config pointing at the rebuilt file, or watch mode sees the
// file change) the new config must get the new code while the streams of the old one finish on
// theirs: two versions of one path live side by side. require()'s cache holds one module per
// path, so versions are compiled here, the way require() compiles a file (Module#_compile: same
// wrapper, same `require` for the bundle's own dependencies, same source-map handling), but kept
// out of require.cache. A version is shared by every config of this environment that loaded the
// same content (so they share its module-level state), and dropped when the last of them lets go:
// its module is then garbage once the last stream using its filters ended.
//
// Every environment compiles the same source: the one that validated a config hands its source to
// the others (ConfigRegistry), so a worker never runs a file that changed after validation.

import { createHash } from 'crypto';
import { existsSync, readFileSync } from 'fs';
import Module from 'module';
import { dirname } from 'path';

import { ConfigError } from '../api/errors';
import { errorMessage } from './log';

/** A bundle's content as another environment read and validated it. */
export interface PinnedSource {
  readonly hash: string;
  readonly source: string;
}

/** One loaded version of a bundle. */
export interface BundleVersion extends PinnedSource {
  /** The resolved path it was loaded from (its `__filename`). */
  readonly path: string;
  /** What the bundle's module exports. */
  readonly exports: unknown;
}

interface Entry {
  readonly version: BundleVersion;
  holders: number;
}

/** What Module offers to compile a file as require() does (public enough: Node's own tooling,
 *  `require-from-string` and test runners use the same two members). */
interface ModuleInternals {
  new (id: string, parent?: unknown): { filename: string; paths: string[]; loaded: boolean; exports: unknown;
                                        _compile(source: string, filename: string): unknown };
  _nodeModulePaths(dir: string): string[];
}

// Captured before any bundle runs (a bundle could replace them).
const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');
const CompilableModule = Module as unknown as ModuleInternals;
const nodeModulePaths = CompilableModule._nodeModulePaths.bind(Module);

/** The content of the bundle at `path` and its hash. Throws ConfigError. */
export function readBundle(path: string): PinnedSource {
  if (!existsSync(path)) throw new ConfigError(`bundle not found: ${path}`);
  let source: string;
  try {
    source = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`bundle ${path} cannot be read: ${errorMessage(error)}`);
  }
  return { hash: sha256(source), source };
}

export class BundleVersions {
  // Keyed by path and hash: the same content at two paths resolves its own requires differently.
  readonly #entries = new Map<string, Entry>();

  /**
   * The version of `path` with the content `pinned` (or, without it, what the file holds now),
   * compiled unless this environment already has it; the caller holds it until release().
   * Throws ConfigError naming the bundle.
   */
  acquire(path: string, pinned?: PinnedSource): BundleVersion {
    const { hash, source } = pinned ?? readBundle(path);
    const key = `${hash}\0${path}`;
    let entry = this.#entries.get(key);
    if (entry === undefined) {
      entry = { version: { path, hash, source, exports: compile(path, source) }, holders: 0 };
      this.#entries.set(key, entry);
    }
    entry.holders++;
    return entry.version;
  }

  /** A holder lets go of `version`; once none is left the environment forgets it (returns true). */
  release(version: BundleVersion): boolean {
    const key = `${version.hash}\0${version.path}`;
    const entry = this.#entries.get(key);
    if (entry === undefined || entry.version !== version || --entry.holders > 0) return false;
    this.#entries.delete(key);
    return true;
  }

  /** How many versions are held (tests). */
  get size(): number {
    return this.#entries.size;
  }
}

// Compiles a bundle as require() would, without entering it in require.cache.
function compile(path: string, source: string): unknown {
  const module = new CompilableModule(path);
  module.filename = path;
  module.paths = nodeModulePaths(dirname(path));
  try {
    module._compile(source, path);
  } catch (error) {
    throw new ConfigError(`bundle ${path} failed to load: ${errorMessage(error)}`);
  }
  module.loaded = true;
  return module.exports;
}
