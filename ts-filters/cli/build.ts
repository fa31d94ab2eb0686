// `envoy-ts build`: bundles a project's filters for the embedded runtime, the way the runtime
// loads them: one CommonJS file for Node 18 (the embedded Node) with its source map, so stack
// traces name the TypeScript. Offload task modules (`tasks/*.ts` next to the entry) are built
// into `tasks/` next to the bundle, where ctx.offload looks for them.

import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';

import type { BuildOptions as EsbuildOptions, BuildContext } from 'esbuild';

export interface BuildSettings {
  /** The project folder (esbuild picks its tsconfig.json up from there). */
  readonly cwd: string;
  /** The filters' entry module, relative to cwd. */
  readonly entry: string;
  /** The bundle to write, relative to cwd. */
  readonly outfile: string;
}

/** One exported filter of a bundle, as the runtime will see it. */
export interface ExportedFilter {
  readonly exportName: string;
  readonly kind: 'http' | 'network';
  readonly name: string;
  readonly hooks: readonly string[];
}

// What the embedded runtime needs of a bundle.
const bundleOptions: EsbuildOptions = {
  bundle: true,
  platform: 'node',
  target: 'node18',
  format: 'cjs',
  sourcemap: true,
  legalComments: 'none',
  logLevel: 'silent',
};

function taskEntries(settings: BuildSettings): string[] {
  const dir = join(resolve(settings.cwd, settings.entry), '..', 'tasks');
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return [];
  return readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')).map((f) => join(dir, f));
}

function esbuildOptions(settings: BuildSettings): EsbuildOptions[] {
  const main = { ...bundleOptions, absWorkingDir: resolve(settings.cwd), entryPoints: [settings.entry],
                 outfile: settings.outfile };
  const tasks = taskEntries(settings);
  if (tasks.length === 0) return [main];
  return [main, { ...bundleOptions, absWorkingDir: resolve(settings.cwd), entryPoints: tasks,
                  outdir: join(dirname(settings.outfile), 'tasks') }];
}

/** esbuild's errors as the compiler would print them (file:line:col: message). */
function formatFailure(error: unknown): string {
  const errors = (error as { errors?: { text: string; location?: { file: string; line: number; column: number } | null }[] })
    .errors;
  if (!errors || errors.length === 0) return (error as Error).message;
  return errors.map((e) => (e.location ? `${e.location.file}:${e.location.line}:${e.location.column + 1}: ` : '') +
                           `error: ${e.text}`).join('\n');
}

export class BuildError extends Error {}

/** Bundles once. Throws BuildError with the compiler's messages. */
export async function buildOnce(settings: BuildSettings): Promise<void> {
  const esbuild = await import('esbuild');
  try {
    await Promise.all(esbuildOptions(settings).map((options) => esbuild.build(options)));
  } catch (error) {
    throw new BuildError(formatFailure(error));
  }
}

/** Rebuilds on demand (dev's watch loop) with esbuild's incremental contexts. */
export async function incrementalBuilder(settings: BuildSettings):
    Promise<{ rebuild(): Promise<void>; dispose(): Promise<void> }> {
  const esbuild = await import('esbuild');
  const contexts: BuildContext[] = await Promise.all(esbuildOptions(settings).map((o) => esbuild.context(o)));
  return {
    async rebuild() {
      try {
        await Promise.all(contexts.map((context) => context.rebuild()));
      } catch (error) {
        throw new BuildError(formatFailure(error));
      }
    },
    async dispose() {
      await Promise.all(contexts.map((context) => context.dispose()));
    },
  };
}

// Loaded in a separate Node so the bundle's top-level code (and its timers) cannot touch the CLI.
const LIST_EXPORTS = `
const bundle = require(process.argv[1]);
const http = Symbol.for('envoy-ts.http-filter'), network = Symbol.for('envoy-ts.network-filter');
const found = [];
for (const [exportName, value] of Object.entries(bundle)) {
  if (value === null || typeof value !== 'object') continue;
  const kind = value[http] !== undefined ? 'http' : value[network] !== undefined ? 'network' : null;
  if (kind === null) continue;
  found.push({ exportName, kind, name: value.name,
               hooks: Object.keys(value).filter((k) => /^on[A-Z]/.test(k) && typeof value[k] === 'function') });
}
process.stdout.write(JSON.stringify(found));
process.exit(0);
`;

/** The filters a built bundle exports. Throws with the bundle's own error if it cannot load. */
export function exportedFilters(bundlePath: string): ExportedFilter[] {
  const result = spawnSync(process.execPath, ['-e', LIST_EXPORTS, resolve(bundlePath)], { encoding: 'utf8' });
  if (result.status !== 0) {
    throw new BuildError(`${bundlePath} fails to load:\n${result.stderr.trim()}`);
  }
  return JSON.parse(result.stdout) as ExportedFilter[];
}

export function describeBuild(settings: BuildSettings, filters: readonly ExportedFilter[]): string {
  const out = relative(process.cwd(), resolve(settings.cwd, settings.outfile)) || basename(settings.outfile);
  const size = (statSync(resolve(settings.cwd, settings.outfile)).size / 1024).toFixed(1);
  const lines = [`built ${out} (${size} KiB, source map ${out}.map)`];
  if (filters.length === 0) {
    lines.push('  it exports no filter: export what defineHttpFilter / defineNetworkFilter return');
  }
  for (const f of filters) {
    lines.push(`  ${f.kind} filter '${f.name}' (export ${f.exportName}): ${f.hooks.join(', ') || 'no hooks'}`);
  }
  const tasks = taskEntries(settings);
  if (tasks.length > 0) {
    lines.push(`  offload tasks: ${tasks.map((t) => basename(t, '.ts')).join(', ')} → ${join(dirname(out), 'tasks')}/`);
  }
  return lines.join('\n');
}
