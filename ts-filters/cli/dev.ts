// `envoy-ts dev`: build, run the proxy on the project's envoy.yaml (and a local echo upstream),
// rebuild on save and serve the new code. The proxy restarts to load a new bundle: connections
// open at that moment are closed.

import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, watch } from 'node:fs';
import type http from 'node:http';
import { dirname, join, resolve } from 'node:path';

import { parse } from 'yaml';

import { BuildError, describeBuild, exportedFilters, incrementalBuilder, type BuildSettings } from './build';
import { startEchoUpstream, stopEchoUpstream } from './echo-upstream';
import { nativePartsProblem } from './package-paths';
import { adminAddress, chooseProxy, startProxy, waitReady, type RunningProxy } from './proxy';

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

function listenerAddresses(configPath: string): string[] {
  const config = parse(readFileSync(configPath, 'utf8')) as { static_resources?: { listeners?:
    { name?: string; address?: { socket_address?: { address?: string; port_value?: number } } }[] } } | null;
  return (config?.static_resources?.listeners ?? []).map((l) =>
    `${l.name ?? 'listener'} on ${l.address?.socket_address?.address}:${l.address?.socket_address?.port_value}`);
}

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

export async function dev(options: DevOptions): Promise<void> {
  const problem = nativePartsProblem();
  if (problem) throw new Error(problem);
  const admin = adminAddress(options.configPath);
  if (!admin) throw new Error(`${options.configPath} has no admin.address: dev needs it to know when the proxy is ready`);

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

  // What the proxy serves: a rebuild that yields the same bytes (a save that changed nothing, an
  // editor's extra events) needs no restart.
  let builtDigest = '';
  async function build(): Promise<'changed' | 'unchanged' | 'failed'> {
    try {
      await builder.rebuild();
    } catch (error) {
      if (!(error instanceof BuildError)) throw error;
      console.error(error.message);
      say('build failed: fix the error and save again');
      return 'failed';
    }
    const bundle = resolve(options.build.cwd, options.build.outfile);
    const digest = bundleDigest(bundle);
    if (digest === builtDigest) return 'unchanged';
    builtDigest = digest;
    console.log(describeBuild(options.build, exportedFilters(bundle)));
    return 'changed';
  }

  async function startServing(): Promise<void> {
    const env: Record<string, string> = options.inspectPort !== undefined
      ? { ENVOY_TS_INSPECT: `127.0.0.1:${options.inspectPort}` } : {};
    const started = startProxy(binary, { configPath: options.configPath, cwd: options.build.cwd,
                                         concurrency: options.concurrency, logLevel: options.logLevel, env,
                                         onLine: announceInspector });
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
    say(`ready: ${listenerAddresses(options.configPath).join(', ')} (admin ${admin})`);
  }
  if (!options.watch) return;

  // A save often shows up as several events: one rebuild for a burst.
  const sourceDir = dirname(resolve(options.build.cwd, options.build.entry));
  let savedAt: number | undefined;
  let running: Promise<void> = Promise.resolve();
  say(`watching ${sourceDir} (Ctrl-C stops)`);
  watch(sourceDir, { recursive: true }, () => {
    if (savedAt !== undefined) return;
    savedAt = performance.now();
    setTimeout(() => {
      running = running.then(async () => {
        const saved = savedAt!;
        savedAt = undefined;
        const outcome = await build();
        if (stopping || outcome === 'failed' || (outcome === 'unchanged' && proxy !== undefined)) return;
        const built = performance.now();
        say(proxy ? 'restarting the proxy to load the new bundle (open connections are closed)' : 'starting the proxy');
        const old = proxy;
        proxy = undefined;  // its exit is expected
        await old?.stop();
        await startServing();
        const served = performance.now();
        say(`serving the new code ${Math.round(served - saved)} ms after the save ` +
            `(build ${Math.round(built - saved)} ms, proxy restart ${Math.round(served - built)} ms)`);
      }).catch((error: Error) => say(`could not serve the new code: ${error.message}`));
    }, 50);
  });
}
