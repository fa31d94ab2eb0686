// `envoy-ts init [dir]`: a ready filter project (package.json, tsconfig, one filter and its test,
// an envoy.yaml, a README) that passes its own `npm test` once installed.

import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';

import { packageVersion, projectTemplateDir } from './package-paths';

export interface InitOptions {
  /** How the project depends on envoy-ts (a version range, a tarball, a git URL, ...). */
  readonly packageSpec?: string;
  /** Write into a folder that is not empty. */
  readonly force: boolean;
}

// npm drops files named .gitignore from packages, and a package.json or tsconfig.json inside the
// template would be taken for the envoy-ts package's own: the template stores them renamed.
const RENAMED: Record<string, string> = { 'gitignore': '.gitignore', 'package.json.tmpl': 'package.json',
                                          'tsconfig.json.tmpl': 'tsconfig.json' };
const TEXT_FILES = /\.(ts|json|yaml|md)$|^\.gitignore$/;

function filesUnder(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) filesUnder(path, out);
    else out.push(path);
  }
  return out;
}

/** A package name npm accepts, from the folder's name. */
function packageName(dir: string): string {
  const name = basename(dir).toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[._-]+/, '');
  return name || 'envoy-filters';
}

export function init(dirArgument: string, options: InitOptions): string[] {
  const dir = resolve(dirArgument);
  if (existsSync(dir) && readdirSync(dir).length > 0 && !options.force) {
    throw new Error(`${dir} is not empty (--force writes the project into it anyway)`);
  }
  mkdirSync(dir, { recursive: true });
  const values: Record<string, string> = {
    __NAME__: packageName(dir),
    __ENVOY_TS_SPEC__: options.packageSpec ?? `^${packageVersion()}`,
  };
  const written: string[] = [];
  for (const source of filesUnder(projectTemplateDir)) {
    const stored = relative(projectTemplateDir, source);
    const target = join(dir, dirname(stored), RENAMED[basename(stored)] ?? basename(stored));
    mkdirSync(dirname(target), { recursive: true });
    if (TEXT_FILES.test(basename(target))) {
      writeFileSync(target, readFileSync(source, 'utf8').replace(/__[A-Z_]+__/g, (key) => values[key] ?? key));
    } else {
      copyFileSync(source, target);
    }
    written.push(relative(dir, target));
  }
  return written.sort();
}
