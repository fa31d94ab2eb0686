// The host engine: the real module (libenvoy_ts.so) in the conformance host (envoy-ts-host),
// serving a generated envoy.yaml on loopback, with this process's servers as the upstream and the
// clusters, and requests sent over real HTTP/1.1. The host's scripted mode has a fixed upstream
// answer and no clusters or routes, so server mode is what runs the same spec with the same
// semantics: the handlers answer, per-route configs apply, and /stats gives the metrics.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { bodyChunks } from './body';
import { hostYaml } from './envoy-yaml';
import { TestHeaders, headerPairs } from './headers';
import { answerOf } from './http-exchange';
import { InProcessRuntime } from './in-process';
import { MetricStore, type DeclaredMetric } from './metrics';
import type { ChainSetup } from './options';
import { SeenRequestImpl, TestResponse } from './response';
import type { LogEntry, LogLevelName, RequestHandler, SeenRequest, TestChain, TestRequest } from './types';

/** Marks responses of the test's upstream (a local reply has no such header) and pairs each
 *  request with what the upstream saw. Both are removed from what the test reads. */
const UPSTREAM_MARK = 'x-envoy-ts-testing-upstream';
const REQUEST_ID = 'x-envoy-ts-testing-request';

function pairsOfRaw(raw: readonly string[], drop: readonly string[]): [string, string][] {
  const pairs: [string, string][] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    if (!drop.includes(name)) pairs.push([name, raw[i + 1] as string]);
  }
  return pairs;
}

function readBody(stream: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

/** A loopback HTTP server answering with `handler`; `seen` keeps requests by their test id. */
async function handlerServer(handler: RequestHandler, who: string, seen?: Map<string, SeenRequest>):
    Promise<{ port: number; server: http.Server }> {
  const server = http.createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const id = req.headers[REQUEST_ID];
      const request = new SeenRequestImpl(req.method ?? '', req.url ?? '',
                                          new TestHeaders(pairsOfRaw(req.rawHeaders, [REQUEST_ID])), [body],
                                          new TestHeaders(pairsOfRaw(req.rawTrailers, [])));
      if (seen !== undefined && typeof id === 'string') seen.set(id, request);
      try {
        const answer = await answerOf(handler, request, who);
        const headers = [...answer.headers.flat(), ...(seen === undefined ? [] : [UPSTREAM_MARK, '1'])];
        if (answer.trailers.length > 0) res.addTrailers(answer.trailers);
        res.writeHead(answer.status, headers);
        for (const chunk of answer.chunks) res.write(chunk);
        res.end();
      } catch {
        res.destroy();  // like a failing host: the proxy sees a reset
      }
    })();
  });
  server.keepAliveTimeout = 0;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as net.AddressInfo).port, server };
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      readBody(res).then((body) => resolve({ status: res.statusCode ?? 0, body: body.toString() }), reject);
    }).on('error', reject);
  });
}

/** Values of the declared counters and gauges in /stats text (`dynamicmodulescustom.<name>[.<label>.<value>]*`). */
function statValues(text: string, declared: readonly DeclaredMetric[]): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^dynamicmodulescustom\.(\S+): (-?\d+)$/.exec(line);
    if (match === null) continue;
    const [, stat, value] = match as unknown as [string, string, string];
    for (const metric of declared) {
      if (metric.kind === 'histogram' || !(stat === metric.name || stat.startsWith(`${metric.name}.`))) continue;
      const parts = stat === metric.name ? [] : stat.slice(metric.name.length + 1).split('.');
      if (parts.length !== metric.labels.length * 2) continue;
      const labelValues = metric.labels.map((label, i) => (parts[i * 2] === label ? parts[i * 2 + 1] as string : null));
      if (labelValues.includes(null)) continue;
      values.set(MetricStore.keyOf(metric, labelValues as string[]), Number(value));
    }
  }
  return values;
}

const LOG_LINE = /^\[[^\]]*\]\[\d+\]\[(\w+)\]\[dynamic_modules\] (.*)$/;

/** The module's lines of the host's log (other components are the host's own). */
function captureLogs(child: ChildProcess, logs: LogEntry[]): void {
  let rest = '';
  let last: { level: LogLevelName; message: string } | undefined;
  child.stderr?.on('data', (data: Buffer) => {
    const lines = (rest + data.toString()).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) {
      const match = LOG_LINE.exec(line);
      if (match !== null) {
        const level = (match[1] === 'warning' ? 'warn' : match[1]) as LogLevelName;
        last = { level, message: match[2] as string };
        logs.push(last);
      } else if (last !== undefined && !line.startsWith('[')) {
        // A message's further lines (a stack).
        logs[logs.length - 1] = last = { level: last.level, message: `${last.message}\n${line}` };
      }
    }
  });
}

/** A TestChain on the host engine. */
export async function createHostChain(setup: ChainSetup): Promise<TestChain> {
  // Validate the config and learn its metrics with the same runtime code, in this process, so a
  // bad config fails here with the runtime's own message.
  const check = new InProcessRuntime(setup, 0);
  const declared = check.metrics.declared;
  check.close();

  const seen = new Map<string, SeenRequest>();
  const upstream = await handlerServer(setup.upstream, 'upstream', seen);
  const clusters = await Promise.all(Object.entries(setup.clusters).map(async ([name, handler]) =>
    ({ name, ...(await handlerServer(handler, `cluster '${name}'`)) })));
  const servers = [upstream.server, ...clusters.map((c) => c.server)];
  const listenPort = await freePort();
  const adminPort = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'envoy-ts-testing-'));
  const configPath = join(dir, 'envoy.yaml');
  writeFileSync(configPath, hostYaml({ listenPort, adminPort, upstreamPort: upstream.port,
                                       clusters: clusters.map(({ name, port }) => ({ name, port })),
                                       filterConfig: setup.filterConfig, routes: setup.routes,
                                       bufferLimitBytes: setup.bufferLimitBytes }));
  const child = spawn(join(setup.moduleDir, 'envoy-ts-host'),
                      ['-c', configPath, '--concurrency', '1', '-l', setup.logLevel],
                      { env: { ...process.env, ENVOY_DYNAMIC_MODULES_SEARCH_PATH: setup.moduleDir },
                        stdio: ['ignore', 'ignore', 'pipe'] });
  const logs: LogEntry[] = [];
  let output = '';
  child.stderr?.on('data', (data: Buffer) => { output += data.toString(); });
  captureLogs(child, logs);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const stopServers = (): Promise<unknown> => Promise.all(servers.map((server) => new Promise((resolve) => {
    server.closeAllConnections();
    server.close(resolve);
  })));

  // Ready once the admin endpoint says so.
  for (let attempt = 0; ; attempt++) {
    if (child.exitCode !== null || child.signalCode !== null || attempt > 600) {
      child.kill('SIGKILL');
      await stopServers();
      throw new Error(`envoy-ts/testing: the host did not start (${join(setup.moduleDir, 'envoy-ts-host')}):\n${output}`);
    }
    if ((await get(adminPort, '/ready').catch(() => ({ status: 0 }))).status === 200) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }

  const metrics = new MetricStore();
  metrics.declare(declared.flatMap((m) => [m.name, m.kind, m.labels.join(',')]));
  let nextId = 1;

  const request = async (init: TestRequest = {}): Promise<TestResponse> => {
    const id = String(nextId++);
    const chunks = bodyChunks(init.body, 'request body');
    const trailers = headerPairs(init.trailers, 'request trailers');
    const given = headerPairs(init.headers, 'request headers');
    const has = (name: string): boolean => given.some(([n]) => n === name);
    // Headers given as a list get no defaults from Node: the authority, and framing for a body.
    const headers = [...(has('host') ? [] : [['host', 'localhost']]), ...given,
                     ...(chunks.length > 0 && !has('content-length') && !has('transfer-encoding')
                       ? [['transfer-encoding', 'chunked']] : []),
                     [REQUEST_ID, id]].flat();
    const response = await new Promise<TestResponse>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: listenPort, method: init.method ?? 'GET',
                                 path: init.path ?? '/', headers, agent: false,
                                 ...(init.signal ? { signal: init.signal } : {}) }, (res) => {
        readBody(res).then((body) => {
          const local = res.headers[UPSTREAM_MARK] === undefined;
          resolve(new TestResponse({
            status: res.statusCode ?? 0,
            headers: new TestHeaders(pairsOfRaw(res.rawHeaders, [UPSTREAM_MARK])),
            body,
            trailers: new TestHeaders(pairsOfRaw(res.rawTrailers, [])),
            localReply: local,
            details: null,
            upstreamRequest: seen.get(id) ?? null,
          }));
        }, reject);
      });
      // An aborted signal destroys the request (the client disconnects): its reason rejects.
      req.on('error', (error) => reject(init.signal?.aborted ? init.signal.reason : error));
      if (trailers.length > 0) req.addTrailers(trailers);
      // Chunks go out one by one (a list is sent chunked, as separate writes).
      for (const chunk of chunks) req.write(chunk);
      req.end();
    });
    seen.delete(id);
    const stats = await get(adminPort, '/stats');
    metrics.replaceValues(statValues(stats.body, metrics.declared));
    return response;
  };

  return {
    engine: 'host',
    request,
    metrics,
    logs,
    now: 0,
    advanceTime: () => Promise.reject(new Error("envoy-ts/testing: advanceTime() works in-process only (timers: 'manual')")),
    close: async () => {
      child.kill('SIGTERM');
      const code = await exited;
      await stopServers();
      if (code !== 0) throw new Error(`envoy-ts/testing: the host exited with ${String(code)}:\n${output}`);
    },
  };
}
