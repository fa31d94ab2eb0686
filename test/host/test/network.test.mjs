// The host's TCP listeners (DynamicModuleNetworkFilter entries → tcp_proxy) with Envoy's network
// filter semantics, proven through real TCP clients and upstreams with the tiny C module
// test/host/modules/network_test.c (one behaviour per filter_name).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';

import {
  freePort, histogramQuantiles, request, runHostToExit, startTcpHost, statsWhen, testModulesDir,
} from './helpers.mjs';
import { tcpProxyYaml } from '../../support/proxy-config.mjs';

const searchPath = testModulesDir;
const module = 'network_test';
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A real upstream: echoes every chunk as `<prefix><chunk>`, and after the client's FIN still
 * answers `|eof` before ending its side (half-close). Counts accepted connections.
 */
async function startEchoUpstream(prefix) {
  const upstream = { connections: 0, received: '' };
  const sockets = new Set();
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    upstream.connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('data', (chunk) => {
      upstream.received += chunk.toString();
      socket.write(prefix + chunk.toString());
    });
    socket.on('end', () => socket.end('|eof'));
    socket.on('error', () => {});
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  upstream.port = server.address().port;
  // Connections a failed test left open must not keep the server (and the test run) alive.
  upstream.close = () => new Promise((resolve) => {
    server.close(resolve);
    for (const socket of sockets) socket.destroy();
  });
  return upstream;
}

/** A client connection collecting what it reads; `ended`/`closed` resolve on FIN/close. */
function connect(port) {
  const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  const client = { socket, data: '', error: null };
  socket.on('data', (chunk) => { client.data += chunk.toString(); });
  // Like most clients, end our side once the peer ended its side.
  client.ended = new Promise((resolve) => socket.on('end', () => { socket.end(); resolve(); }));
  client.closed = new Promise((resolve) => socket.on('close', resolve));
  socket.on('error', (error) => { client.error = error; });
  client.connected = new Promise((resolve, reject) => {
    socket.on('connect', resolve);
    socket.on('error', reject);
  });
  return client;
}

async function until(predicate, what, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

async function stats(host, filter) {
  const query = filter ? `?filter=${encodeURIComponent(filter)}` : '';
  const response = await request(host.adminPort, { path: `/stats${query}` });
  assert.equal(response.status, 200, response.body);
  return response.body;
}

describe('TCP listeners: network filters then tcp_proxy', () => {
  let a;
  let b;
  let host;

  before(async () => {
    assert.ok(existsSync(path.join(testModulesDir, `lib${module}.so`)),
              `lib${module}.so is not built (run npm run build)`);
    a = await startEchoUpstream('A:');
    b = await startEchoUpstream('B:');
  });

  // A test that failed before stopping its host must not leave it running into the next one.
  afterEach(async () => {
    await host?.stop();
    host = null;
  });

  after(async () => {
    await a?.close();
    await b?.close();
  });

  test('tcp_proxy connects late, to the cluster a filter put in envoy.tcp_proxy.cluster', async () => {
    host = await startTcpHost({
      searchPath, defaultCluster: 'a',
      clusters: [{ name: 'a', port: a.port }, { name: 'b', port: b.port }],
      filters: [{ module, filterName: 'router', config: 'cfg-bytes' }],
    });
    const client = connect(host.port);
    await client.connected;
    await sleep(150);
    // The filter stopped in new_connection: tcp_proxy has not connected anywhere yet.
    assert.equal(a.connections + b.connections, 0);
    client.socket.write('cluster:b\nhel');
    await sleep(50);
    client.socket.write('lo');
    await until(() => client.data.includes('B:'), 'the upstream answer');
    await until(() => b.received === 'hello', `b to receive "hello" (got ${JSON.stringify(b.received)})`);
    assert.equal(a.connections, 0);
    assert.equal(b.connections, 1);
    client.socket.end();
    await client.closed;
    await until(() => host.output.includes('destroy'), 'destroy');
    assert.match(host.output, /config router config=cfg-bytes/);
    assert.match(host.output, /router read_disable\(false\)=2/); // TransitionedToReadEnabled
    assert.match(host.output, /routing to b \(set=1 unknown_key=0\)/);
    assert.match(host.output, /new_connection from 127\.0\.0\.1:\d+ ssl=0 frozen=3 missing_metric=1/);
    await host.stop();
    host = null;
  });

  test('an unknown cluster closes the downstream connection and counts no_route', async () => {
    host = await startTcpHost({
      searchPath, defaultCluster: 'a', clusters: [{ name: 'a', port: a.port }],
      filters: [{ module, filterName: 'router' }],
    });
    const client = connect(host.port);
    await client.connected;
    client.socket.write('cluster:nope\nx');
    await client.closed;
    await until(() => /event LocalClose/.test(host.output), 'the LocalClose event');
    assert.match(await stats(host, 'no_route'), /^tcp\.tcp\.downstream_cx_no_route: 1$/m);
    await host.stop();
    host = null;
  });

  test('read filters in order, write filters in reverse, multi-slice buffers, half-close', async () => {
    host = await startTcpHost({
      searchPath, clusters: [{ name: 'a', port: a.port }],
      filters: [{ module, filterName: 'greet' }, { module, filterName: 'upper' },
                { module, filterName: 'suffix' }],
    });
    a.received = '';
    const client = connect(host.port);
    await client.connected;
    await sleep(100); // Let tcp_proxy connect, so the two writes are two reads.
    client.socket.write('hello ');
    await sleep(100);
    client.socket.write('world\n');
    await until(() => a.received === 'HELLO WORLD\n', `upper-cased bytes (got ${JSON.stringify(a.received)})`);
    // greet's write() went through every write filter (suffix included) before the socket.
    await until(() => client.data.includes('A:HELLO WORLD\n[seen]'), 'the echo');
    assert.ok(client.data.startsWith('hello from filter\n[seen]'), client.data);
    assert.match(host.output, /read 12 bytes in 2 slices end_stream=0/);
    // Half-close: the client's FIN reaches the upstream, which can still answer.
    client.socket.write('tail');
    client.socket.end();
    await client.ended;
    await client.closed;
    // upper sends TAIL with the FIN, so the upstream's echo and its `|eof` may arrive as one read.
    assert.match(client.data, /A:TAIL(\[seen\])?\|eof\[seen\]$/);
    assert.match(host.output, /read 4 bytes in 1 slices end_stream=1/);
    assert.match(host.output, /write 4 bytes end_stream=1/);
    await until(() => (host.output.match(/destroy/g) ?? []).length === 3, 'three destroys');
    // One close event per filter, before any destroy.
    const events = [...host.output.matchAll(/event (RemoteClose|LocalClose)/g)];
    assert.equal(events.length, 3);
    assert.ok(host.output.lastIndexOf(' event ') < host.output.indexOf(' destroy'));
    await host.stop();
    host = null;
  });

  test('close types: FlushWrite flushes then closes, AbortReset resets, NoFlush drops', async () => {
    host = await startTcpHost({
      searchPath, clusters: [{ name: 'a', port: a.port }],
      filters: [{ module, filterName: 'closer' }],
    });
    const flush = connect(host.port);
    await flush.connected;
    await sleep(50);
    flush.socket.write('close:0\n');
    await flush.ended;
    await flush.closed;
    assert.equal(flush.data, 'bye\n');
    assert.equal(flush.error, null);

    const reset = connect(host.port);
    await reset.connected;
    await sleep(50);
    reset.socket.write('close:4\n');
    await reset.closed;
    assert.equal(reset.error?.code, 'ECONNRESET');

    const noflush = connect(host.port);
    await noflush.connected;
    await sleep(50);
    noflush.socket.write('close:1\n');
    await noflush.closed;
    assert.equal(noflush.data, '');

    await until(() => (host.output.match(/event LocalClose/g) ?? []).length === 3, 'LocalClose x3');
    // Reads after close are not delivered: nothing after the close command was read.
    assert.doesNotMatch(host.output, /read \d+ bytes in \d+ slices end_stream=1/);
    await host.stop();
    host = null;
  });

  test('the client going away raises RemoteClose; scheduler commits reach the filter', async () => {
    host = await startTcpHost({
      searchPath, clusters: [{ name: 'a', port: a.port }],
      filters: [{ module, filterName: 'sched' }],
    });
    const client = connect(host.port);
    await client.connected;
    client.socket.write('x');
    await until(() => client.data.includes('scheduled 42\n'), 'the scheduled write');
    client.socket.destroy();
    await until(() => /event RemoteClose/.test(host.output), 'RemoteClose');
    await until(() => /destroy/.test(host.output), 'destroy');
    await host.stop();
    host = null;
  });

  test('upstream connect failure closes the downstream connection (LocalClose)', async () => {
    host = await startTcpHost({
      searchPath, clusters: [{ name: 'down', port: await freePort() }],
      filters: [{ module, filterName: 'greet' }],
    });
    const client = connect(host.port);
    await client.closed;
    await until(() => /event LocalClose/.test(host.output), 'LocalClose');
    await host.stop();
    host = null;
  });

  test('GET /stats: module metrics under dynamicmodulescustom., ?filter=, histograms', async () => {
    host = await startTcpHost({
      searchPath, clusters: [{ name: 'a', port: a.port }],
      filters: [{ module, filterName: 'upper' }],
      concurrency: 2,
    });
    for (let i = 0; i < 3; ++i) {
      const client = connect(host.port);
      await client.connected;
      await sleep(30);
      client.socket.end('abc\n');
      await client.closed;
    }
    await until(() => (host.output.match(/destroy/g) ?? []).length === 3, 'three destroys');
    // Counters and gauges are current at once; the histogram once a stats flush (every 0.1 s
    // here) merged values of it.
    const body = await statsWhen(host.adminPort, (text) =>
      histogramQuantiles(text, 'dynamicmodulescustom.net_test.read_bytes') !== null);
    const lines = body.trim().split('\n');
    const names = lines.map((line) => line.slice(0, line.indexOf(':')));
    assert.match(body, /^dynamicmodulescustom\.net_test\.connections: 3$/m);
    assert.match(body, /^dynamicmodulescustom\.net_test\.active: 0$/m);
    assert.match(body, /^tcp\.tcp\.downstream_cx_total: 3$/m);
    // Each connection reads "abc\n" (4 bytes), plus an empty end-of-stream read when the FIN
    // comes separately: values 0 and 4, each 0 after a 4, so what the flushes merged so far holds
    // at least as many 4s as 0s.
    assert.match(body, /^dynamicmodulescustom\.net_test\.read_bytes: P0\((nan|[04]),[04]\) P25\((nan|[04]),[04]\) P50\((nan|[04]),[04]\) P75\((nan|[04]),4\) P90\((nan|[04]),4\) P95\((nan|[04]),4\) P99\((nan|[04]),4\) P99\.5\((nan|[04]),4\) P99\.9\((nan|[04]),4\) P100\((nan|[04]),4\)$/m);
    const scalars = names.filter((n) => !n.endsWith('read_bytes'));
    assert.deepEqual(scalars, [...scalars].sort());
    const filtered = await stats(host, 'net_test\\.(connections|active)$');
    assert.deepEqual(filtered.trim().split('\n'),
                     ['dynamicmodulescustom.net_test.active: 0',
                      'dynamicmodulescustom.net_test.connections: 3']);
    await host.stop();
    host = null;
  });

  test('a missing required network hook: the host does not start and names the symbol', async () => {
    const yaml = tcpProxyYaml({
      listenPort: await freePort(), adminPort: await freePort(),
      clusters: [{ name: 'a', port: a.port }], defaultCluster: 'a',
      filters: [{ module: 'network_missing_hook', filterName: 'x', config: '', doNotClose: false }],
    });
    const { code, output } = await runHostToExit(yaml, { searchPath });
    assert.equal(code, 1, output);
    assert.match(output, /filter_chains\[0\]\.filters\[0\]: Failed to resolve symbol envoy_dynamic_module_on_network_filter_event in /);
  });

  test('config_new returning NULL: the host does not start and names the filter', async () => {
    const yaml = tcpProxyYaml({
      listenPort: await freePort(), adminPort: await freePort(),
      clusters: [{ name: 'a', port: a.port }], defaultCluster: 'a',
      filters: [{ module, filterName: 'upper', config: '' },
                { module, filterName: 'no-such-behaviour', config: '' }],
    });
    const { code, output } = await runHostToExit(yaml, { searchPath });
    assert.equal(code, 1, output);
    assert.match(output, /filters\[1\]: dynamic module network filter config rejected/);
  });
});
