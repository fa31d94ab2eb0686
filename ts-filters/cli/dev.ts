// `envoy-ts dev`: build, run the proxy on the project's envoy.yaml (and a local echo upstream),
// rebuild on save and serve the new code by hot reload: the proxy runs the envoy.yaml with
// `"watch": true` in its envoy-ts filter configs, so the module validates each new bundle and
// switches new streams to it while running ones finish on the old code. Nothing restarts.

import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, watch } from 'node:fs';
import type http from 'node:http';
import { dirname, join, resolve } from 'node:path';

import { BuildError, describeBuild, exportedFilters, incrementalBuilder, type BuildSettings } from './build';
import { startEchoUpstream, stopEchoUpstream } from './echo-upstream';
import { nativePartsProblem } from './package-paths';
import { adminAddress, listenerAddresses, readEnvoyYaml } from './envoy-yaml';
import { chooseProxy, startProxy, waitReady, type RunningProxy } from './proxy';
import { watchingCopy } from './watch-config';

export interface DevOptions {
  readonly build: BuildSettings;
  readonly configPath: string;
  readonly concurrency: number;
  readonly logLevel: string;
  /** Port of a local echo upstream on 127.0.0.1, if any. */
  readonly upstreamPort?: number;
  /** Base port of the worker environments' inspectors, if any. */
  readonly inspectPort?: number;
  readonly watch: boolean;
}

const say = (message: string) => console.log(`[dev] ${message}`);

/** The bundle and the offload tasks beside it. */
function bundleDigest(bundle: string): string {
  const hash = createHash('sha256').update(readFileSync(bundle));
  const tasks = join(dirname(bundle), 'tasks');
  if (existsSync(tasks)) {
    for (const file of readdirSync(tasks).filter((f) => f.endsWith('.js')).sort()) {
      hash.update(file).update(readFileSync(join(tasks, file)));
    }
  }
  return hash.digest('hex');
}

// The runtime's line for each worker environment in inspect mode (ts-filters/runtime/inspector.ts).
const INSPECTOR_LINE = /\[envoy-ts\] inspector for worker environment (\d+): ws:\/\/(\S+)/;

function announceInspector(line: string): void {
  const match = INSPECTOR_LINE.exec(line);
  if (match) {
    say(`inspector of worker environment ${match[1]}: devtools://devtools/bundled/js_app.html?ws=${match[2]}`);
  }
}

/** What the module says of a rebuilt bundle in watch mode (native/module/bundle_reload.cc). */
type ReloadOutcome = { readonly served: true } | { readonly served: false; readonly why: string };

function reloadOutcome(line: string, bundle: string): ReloadOutcome | undefined {
  if (line.includes(`watch: reloaded ${bundle} `)) return { served: true };
  const rejected = `watch: the new version of ${bundle} was rejected, `;
  const at = line.indexOf(rejected);
  return at < 0 ? undefined : { served: false, why: line.slice(at + rejected.length) };
}

export async function dev(options: DevOptions): Promise<void> {
  const problem = nativePartsProblem();
  if (problem) throw new Error(problem);
  const envoyYaml = readEnvoyYaml(options.configPath);
  const admin = adminAddress(envoyYaml);
  if (!admin) throw new Error(`${options.configPath} has no admin.address: dev needs it to know when the proxy is ready`);
  const listeners = listenerAddresses(envoyYaml);
  const servedConfig = watchingCopy(options.configPath, envoyYaml);
  const bundle = resolve(options.build.cwd, options.build.outfile);

  const binary = chooseProxy();
  say(`proxy: ${binary.description}`);
  if (options.inspectPort !== undefined) {
    say(`inspect mode: one inspector per worker environment from port ${options.inspectPort} (chrome://inspect, ` +
        "or the devtools:// links below); a paused breakpoint holds every stream of that worker");
  }
  const builder = await incrementalBuilder(options.build);
  let upstream: http.Server | undefined;
  let proxy: RunningProxy | undefined;
  let stopping = false;
  let awaitingReload: ((outcome: ReloadOutcome) => void) | undefined;

  // What the proxy serves: a rebuild that yields the same bytes (a save that changed nothing, an
  // editor's extra events) needs nothing.
  let builtDigest = '';
  async function build(): Promise<'changed' | 'unchanged' | 'failed'> {
    try {
      await builder.rebuild();
    } catch (error) {
      if (!(error instanceof BuildError)) throw error;
      console.error(error.message);
      say('build failed: fix the error and save again (the proxy keeps serving the last build)');
      return 'failed';
    }
    const digest = bundleDigest(bundle);
    if (digest === builtDigest) return 'unchanged';
    builtDigest = digest;
    console.log(describeBuild(options.build, exportedFilters(bundle)));
    return 'changed';
  }

  function onProxyLine(line: string): void {
    announceInspector(line);
    const outcome = awaitingReload && reloadOutcome(line, bundle);
    if (outcome) {
      awaitingReload!(outcome);
      awaitingReload = undefined;
    }
  }

  async function startServing(): Promise<void> {
    const env: Record<string, string> = options.inspectPort !== undefined
      ? { ENVOY_TS_INSPECT: `127.0.0.1:${options.inspectPort}` } : {};
    const started = startProxy(binary, { configPath: servedConfig, cwd: options.build.cwd,
                                         concurrency: options.concurrency, logLevel: options.logLevel, env,
                                         onLine: onProxyLine });
    proxy = started;
    void started.exited.then((code) => {
      if (stopping || proxy !== started) return;
      proxy = undefined;
      say(`the proxy exited (${code}); save a file to start it again`);
    });
    await waitReady(started, admin!);
  }

  async function shutdown(): Promise<void> {
    if (stopping) return;
    stopping = true;
    await proxy?.stop();
    if (upstream) await stopEchoUpstream(upstream);
    await builder.dispose();
    process.exit(0);
  }
  process.on('SIGINT', () => void shutdown());
  process.on('SIGTERM', () => void shutdown());

  if (options.upstreamPort !== undefined) {
    upstream = await startEchoUpstream('127.0.0.1', options.upstreamPort);
    say(`echo upstream on 127.0.0.1:${options.upstreamPort}`);
  }
  if (await build() === 'changed') {
    await startServing();
    say(`ready: ${listeners.join(', ')} (admin ${admin})`);
  }
  if (!options.watch) return;

  /** A new build: the running proxy hot-reloads it; a proxy that is not running starts. */
  async function serve(saved: number): Promise<void> {
    const outcome = await build();
    if (stopping || outcome === 'failed') return;
    if (outcome === 'unchanged' && proxy !== undefined) {
      say('rebuilt: the bundle did not change');
      return;
    }
    if (proxy === undefined) {
      say('starting the proxy');
      await startServing();
      say(`serving the new code ${Math.round(performance.now() - saved)} ms after the save`);
      return;
    }
    const built = performance.now();
    const reloaded = await new Promise<ReloadOutcome>((done) => {
      awaitingReload = done;
      const timer = setTimeout(() => done({ served: false, why: 'the proxy said nothing of it within 30 s' }), 30_000);
      timer.unref();
    });
    awaitingReload = undefined;
    if (!reloaded.served) {
      say(`the proxy kept the previous build: ${reloaded.why}`);
      return;
    }
    const served = performance.now();
    say(`serving the new code ${Math.round(served - saved)} ms after the save (build ${Math.round(built - saved)} ms, ` +
        `validated and live ${Math.round(served - built)} ms later; streams already running finish on the old code)`);
  }

  // A save often shows up as several events: one rebuild for a burst.
  const sourceDir = dirname(resolve(options.build.cwd, options.build.entry));
  let savedAt: number | undefined;
  let running: Promise<void> = Promise.resolve();
  say(`watching ${sourceDir}: a save is served by hot reload (Ctrl-C stops)`);
  watch(sourceDir, { recursive: true }, () => {
    if (savedAt !== undefined) return;
    savedAt = performance.now();
    setTimeout(() => {
      const saved = savedAt!;
      savedAt = undefined;
      running = running.then(() => serve(saved)).catch((error: Error) => say(`could not serve the new code: ${error.message}`));
    }, 50);
  });
}
