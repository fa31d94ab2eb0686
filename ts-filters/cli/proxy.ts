// Running a proxy on an envoy.yaml with the envoy-ts module: real Envoy when one is available,
// the conformance host that ships with the package otherwise.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { createInterface } from 'node:readline';

import { hostBinary, moduleDir } from './package-paths';

export interface ProxyBinary {
  readonly kind: 'envoy' | 'host';
  readonly path: string;
  /** Says which proxy runs, for the user. */
  readonly description: string;
}

/** ENVOY_BIN, else `envoy` on PATH, else the conformance host. */
export function chooseProxy(): ProxyBinary {
  const fromEnv = process.env['ENVOY_BIN'];
  if (fromEnv) return { kind: 'envoy', path: fromEnv, description: `Envoy (${fromEnv}, from ENVOY_BIN)` };
  const which = spawnSync('sh', ['-c', 'command -v envoy'], { encoding: 'utf8' });
  const onPath = which.status === 0 ? which.stdout.trim() : '';
  if (onPath) return { kind: 'envoy', path: onPath, description: `Envoy (${onPath})` };
  return { kind: 'host', path: hostBinary,
           description: 'the envoy-ts conformance host (no `envoy` on PATH; set ENVOY_BIN to use Envoy)' };
}

/** The environment a proxy needs to find libenvoy_ts.so. */
export function proxyEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, ENVOY_DYNAMIC_MODULES_SEARCH_PATH: moduleDir, ...extra };
}

export interface RunningProxy {
  readonly child: ChildProcess;
  /** Resolves with the exit code (or signal name) once the proxy has exited. */
  readonly exited: Promise<number | string>;
  /** SIGTERM (Envoy's graceful shutdown), SIGKILL after 10 s. */
  stop(): Promise<void>;
}

export interface StartOptions {
  readonly configPath: string;
  readonly cwd: string;
  readonly concurrency: number;
  readonly logLevel: string;
  readonly env?: Record<string, string>;
  /** Each line the proxy writes (stdout and stderr); the proxy's output is passed on as well. */
  readonly onLine?: (line: string) => void;
}

export function startProxy(binary: ProxyBinary, options: StartOptions): RunningProxy {
  const args = ['-c', options.configPath, '--concurrency', String(options.concurrency), '-l', options.logLevel];
  const child = spawn(binary.path, args, { cwd: options.cwd, env: proxyEnv(options.env),
                                           stdio: ['ignore', 'pipe', 'pipe'] });
  for (const [stream, sink] of [[child.stdout, process.stdout], [child.stderr, process.stderr]] as const) {
    createInterface({ input: stream! }).on('line', (line) => {
      sink.write(`${line}\n`);
      options.onLine?.(line);
    });
  }
  const exited = new Promise<number | string>((done) => {
    child.once('exit', (code, signal) => done(code ?? signal ?? 'unknown'));
    child.once('error', (error) => done(error.message));
  });
  return {
    child,
    exited,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    },
  };
}

function getStatus(url: string): Promise<number> {
  return new Promise((done) => {
    http.get(url, (res) => { res.resume(); done(res.statusCode ?? 0); }).on('error', () => done(0));
  });
}

/** Resolves once the admin endpoint answers /ready with 200; rejects if the proxy exits first. */
export async function waitReady(proxy: RunningProxy, admin: string, timeoutMs = 60_000): Promise<void> {
  let exitedWith: number | string | undefined;
  void proxy.exited.then((code) => { exitedWith = code; });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exitedWith !== undefined) throw new Error(`the proxy exited (${exitedWith}) before it was ready`);
    if (await getStatus(`http://${admin}/ready`) === 200) return;
    await new Promise((done) => setTimeout(done, 50));
  }
  throw new Error(`the proxy was not ready after ${timeoutMs / 1000} s (admin ${admin})`);
}
