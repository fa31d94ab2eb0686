// TCP specifics of the e2e suite: a proxy (the conformance host, or real Envoy when ENVOY_BIN is
// set) with a listener → envoy_ts network filters → tcp_proxy, a real redis-server, raw sockets
// with timeouts, and the proxy's admin /stats.
import { spawn, spawnSync } from 'node:child_process';
import net from 'node:net';

import { tcpProxyYaml } from '../support/proxy-config.mjs';
import { freePort, launchProxy } from './harness.mjs';

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Poll `predicate` (sync or async) until it is truthy; throws naming `what` after `timeoutMs`. */
export async function until(predicate, what, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await predicate();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

/**
 * Starts a TCP proxy: one listener → one envoy_ts network filter per `filterConfigs` entry
 * (objects are JSON-encoded) → tcp_proxy to `defaultCluster` (default: the first cluster), or to
 * the cluster a filter chose. `clusters`: [{ name, port }]. Resolves once admin /ready says LIVE.
 */
export async function startTcpProxy({
  clusters, filterConfigs, defaultCluster, concurrency = 1, logLevel = 'info',
}) {
  const port = await freePort();
  const adminPort = await freePort();
  const filters = filterConfigs.map((config) => ({
    module: 'envoy_ts',
    filterName: 'chain',
    config: typeof config === 'string' ? config : JSON.stringify(config),
  }));
  const yaml = tcpProxyYaml({ listenPort: port, adminPort, clusters, filters, defaultCluster });
  return launchProxy(yaml, { port, adminPort, concurrency, logLevel });
}

/** Whether redis-server and redis-cli are installed (scripts/setup.sh installs them). */
export function haveRedis() {
  const ok = (bin) => spawnSync(bin, ['--version'], { stdio: 'ignore' }).status === 0;
  return ok('redis-server') && ok('redis-cli');
}

/**
 * A real redis-server on a free loopback port, without persistence. `stop()` kills it (SIGKILL:
 * what an upstream crash looks like) and waits for the exit.
 */
export async function startRedis() {
  const port = await freePort();
  const child = spawn('redis-server', [
    '--save', '', '--appendonly', 'no', '--port', String(port), '--bind', '127.0.0.1',
    '--daemonize', 'no', '--protected-mode', 'no', '--loglevel', 'warning',
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  const redis = {
    port,
    child,
    get output() { return output; },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    /** Runs redis-cli against redis itself (not through the proxy). */
    cli: (...args) => redisCli(port, ...args),
  };
  await until(async () => {
    if (child.exitCode !== null) throw new Error(`redis-server exited: ${output}`);
    return (await redisCli(port, 'PING').catch(() => ({ stdout: '' }))).stdout.trim() === 'PONG';
  }, 'redis-server to answer PING', 5000);
  return redis;
}

/** `redis-cli -p <port> args...` (raw output); resolves with { code, stdout, stderr }. */
export function redisCli(port, ...args) {
  return new Promise((resolve, reject) => {
    const child = spawn('redis-cli', ['-h', '127.0.0.1', '-p', String(port), '--raw', ...args],
                        { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? signal, stdout, stderr });
    });
  });
}

/**
 * A raw TCP client. Collects everything it reads; `readUntil(predicate)` waits (bounded) for the
 * collected bytes to satisfy it; `closed` resolves when the socket closes (FIN or reset).
 */
export async function connectRaw(port, { timeoutMs = 5000 } = {}) {
  const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: false });
  socket.setNoDelay(true);
  const client = {
    socket,
    received: Buffer.alloc(0),
    error: null,
    isClosed: false,
    text: () => client.received.toString('latin1'),
    /** Write and wait until the kernel took it. */
    write: (data) => new Promise((resolve, reject) => socket.write(data, (e) => (e ? reject(e) : resolve()))),
    /** Each byte as its own write (Nagle off), `gapMs` apart, so each arrives as its own read. */
    async writeBytewise(data, gapMs = 2) {
      const bytes = Buffer.from(data);
      for (let i = 0; i < bytes.length; i++) {
        await client.write(bytes.subarray(i, i + 1));
        await sleep(gapMs);
      }
    },
    readUntil: (predicate, what = 'data', ms = timeoutMs) =>
      until(() => predicate(client.text()) || (client.isClosed && predicate(client.text())), what, ms),
    /** Resolves once the socket closed, or rejects after `ms`. */
    waitClosed: (ms = timeoutMs) => until(() => client.isClosed, 'the connection to close', ms),
    close() {
      socket.destroy();
    },
  };
  socket.on('data', (chunk) => { client.received = Buffer.concat([client.received, chunk]); });
  socket.on('error', (error) => { client.error = error; });
  socket.on('close', () => { client.isClosed = true; });
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`connect to ${port} timed out`)), timeoutMs);
    socket.once('connect', () => { clearTimeout(timer); resolve(); });
    socket.once('error', (e) => { clearTimeout(timer); reject(e); });
  });
  return client;
}

/** A RESP command (array of bulk strings). */
export function resp(...args) {
  return `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(String(a))}\r\n${a}\r\n`).join('')}`;
}

/**
 * A real TCP upstream: records every byte it receives per connection (`connections[i].received`)
 * and answers each chunk with `respond(chunk, record)` (nothing when it returns undefined).
 */
export async function startTcpUpstream(respond) {
  const upstream = { connections: [], sockets: new Set() };
  const server = net.createServer((socket) => {
    const record = { received: Buffer.alloc(0) };
    upstream.connections.push(record);
    upstream.sockets.add(socket);
    socket.on('data', (chunk) => {
      record.received = Buffer.concat([record.received, chunk]);
      const answer = respond(chunk, record);
      if (answer !== undefined) socket.write(answer);
    });
    socket.on('error', () => {});
    socket.on('close', () => upstream.sockets.delete(socket));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  upstream.port = server.address().port;
  upstream.close = () => new Promise((resolve) => {
    for (const socket of upstream.sockets) socket.destroy();
    server.close(resolve);
  });
  return upstream;
}

/** An upstream that answers each chunk with `<name>:<bytes received so far>;` (which one was reached). */
export async function startRecordingUpstream(name) {
  const upstream = await startTcpUpstream((_chunk, record) => `${name}:${record.received.length};`);
  upstream.name = name;
  return upstream;
}

/** An rpc-router frame: 4-byte BE length, 1-byte service-name length, name, payload. */
export function rpcFrame(service, payload) {
  const name = Buffer.from(service);
  const body = Buffer.concat([Buffer.of(name.length), name, Buffer.from(payload)]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(body.length);
  return Buffer.concat([length, body]);
}

/** Parses one rpc-router frame: { service, payload }. */
export function parseRpcFrame(bytes) {
  const length = bytes.readUInt32BE(0);
  if (length !== bytes.length - 4) throw new Error(`frame length ${length} but ${bytes.length - 4} bytes follow`);
  const n = bytes[4];
  return { service: bytes.toString('utf8', 5, 5 + n), payload: bytes.toString('utf8', 5 + n) };
}
