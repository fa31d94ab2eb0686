// Reloading envoy.yaml (SIGHUP, POST /reload) the way Envoy's listener manager applies an LDS
// update, proven with test/host/modules/config_lifecycle.c, which logs config_new /
// filter_new / filter_destroy / config_destroy (and the per-route pair) with the id of their
// config and answers `x-config: <id>`. Every assertion is about what happened and in which
// order, never about how long it took.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';

import {
  freePort, hostBin, lifecycleCalls, logged, request, runHostToExit, startHostWithYaml, testModulesDir,
} from './helpers.mjs';
import { tcpProxyYaml } from '../../support/proxy-config.mjs';
import { listenLoopback, startHoldingUpstream as startUpstream } from '../../support/servers.mjs';

const searchPath = testModulesDir;


/**
 * envoy.yaml: `listeners` [{ name, port, filters: [id, ...], perRoute?, bufferLimit? }], each an
 * HTTP listener whose http filters are config_lifecycle filters with these ids (then the router),
 * one route "/" to the upstream, with `perRoute` (an id) as the route's per-route config of the
 * first filter. `clusterTimeout` changes the cluster (a reload must refuse that).
 */
function yaml({ adminPort, upstreamPort, listeners, clusterTimeout = '1s' }) {
  const listener = ({ name, port, filters, perRoute, bufferLimit }) => `
  - name: ${name}
    address: { socket_address: { address: 127.0.0.1, port_value: ${port} } }${
  bufferLimit === undefined ? '' : `
    per_connection_buffer_limit_bytes: ${bufferLimit}`}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ${name}
          route_config:
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
              - match: { prefix: "/" }
                route: { cluster: upstream }${perRoute === undefined ? '' : `
                typed_per_filter_config:
                  lifecycle_0:
                    "@type": type.googleapis.com/envoy.extensions.filters.http.dynamic_modules.v3.DynamicModuleFilterPerRoute
                    dynamic_module_config: { name: config_lifecycle }
                    per_route_config_name: route
                    filter_config: { "@type": type.googleapis.com/google.protobuf.StringValue, value: ${perRoute} }`}
          http_filters:${filters.map((id, i) => `
          - name: lifecycle_${i}
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.dynamic_modules.v3.DynamicModuleFilter
              dynamic_module_config: { name: config_lifecycle }
              filter_name: lifecycle
              filter_config: { "@type": type.googleapis.com/google.protobuf.StringValue, value: ${id} }`).join('')}
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router`;
  return `admin:
  address: { socket_address: { address: 127.0.0.1, port_value: ${adminPort} } }
static_resources:
  listeners:${listeners.map(listener).join('')}
  clusters:
  - name: upstream
    type: STATIC
    connect_timeout: ${clusterTimeout}
    load_assignment:
      cluster_name: upstream
      endpoints:
      - lb_endpoints:
        - endpoint:
            address: { socket_address: { address: 127.0.0.1, port_value: ${upstreamPort} } }
`;
}

/** Starts the host on yaml(spec); `host.rewrite(spec)` rewrites its envoy.yaml. */
async function start(spec, { drainTime, drainStrategy, concurrency = 2 }) {
  const adminPort = await freePort();
  const args = ['--drain-time-s', String(drainTime)];
  if (drainStrategy) args.push('--drain-strategy', drainStrategy);
  const host = await startHostWithYaml(yaml({ adminPort, ...spec }),
    { listenPort: spec.listeners[0].port, adminPort, searchPath, concurrency, args });
  host.rewrite = (next) => writeFileSync(host.configFile, yaml({ adminPort, ...next }));
  host.rewriteText = (text) => writeFileSync(host.configFile, text);
  return host;
}

function reload(host) {
  return request(host.adminPort, { method: 'POST', path: '/reload' });
}

/**
 * One raw keep-alive HTTP/1.1 connection: `get(path)` sends a request and resolves with
 * {status, headers, body} (content-length bodies); `closed` resolves when the host closes it.
 */
async function connect(port) {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject); });
  let buffered = Buffer.alloc(0);
  let waiting = null;
  const closed = new Promise((resolve) => socket.on('close', resolve));
  socket.on('error', () => {});
  const tryParse = () => {
    const end = buffered.indexOf('\r\n\r\n');
    if (waiting === null || end < 0) return;
    const lines = buffered.subarray(0, end).toString().split('\r\n');
    const headers = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
    }
    const length = Number(headers['content-length'] ?? 0);
    if (buffered.length < end + 4 + length) return;
    const body = buffered.subarray(end + 4, end + 4 + length).toString();
    buffered = buffered.subarray(end + 4 + length);
    const resolve = waiting;
    waiting = null;
    resolve({ status: Number(lines[0].split(' ')[1]), headers, body });
  };
  socket.on('data', (data) => { buffered = Buffer.concat([buffered, data]); tryParse(); });
  return {
    closed,
    get(path = '/') {
      return new Promise((resolve, reject) => {
        waiting = resolve;
        closed.then(() => reject(new Error(`connection closed before the response to ${path}`)));
        socket.write(`GET ${path} HTTP/1.1\r\nhost: test\r\n\r\n`);
      });
    },
    destroy: () => socket.destroy(),
  };
}

/** Requests on new connections, one after the other, until stopped; counts failures. */
function requestLoop(port) {
  const state = { ok: 0, failed: [], configs: new Set(), stop: false };
  state.done = (async () => {
    while (!state.stop) {
      try {
        const res = await request(port, { path: '/' });
        if (res.status === 200) {
          state.ok += 1;
          state.configs.add(res.headers['x-config']);
        } else {
          state.failed.push(`status ${res.status}`);
        }
      } catch (e) {
        state.failed.push(e.message);
      }
    }
  })();
  return state;
}

describe('reload: a changed listener', () => {
  test('new connections get the new filter config; open ones drain on the old one, whose ' +
       'config is destroyed after its last filter; an unchanged listener is left alone',
       async () => {
    const upstream = await startUpstream();
    const main = await freePort();
    const other = await freePort();
    const spec = (id) => ({ upstreamPort: upstream.port, listeners: [
      { name: 'main', port: main, filters: [id] },
      { name: 'other', port: other, filters: ['o1'] }] });
    // The steps below run inside the drain time: generous, so a busy machine cannot outrun it.
    const host = await start(spec('v1'), { drainTime: 15 });
    try {
      const otherConnection = await connect(other);
      assert.equal((await otherConnection.get()).headers['x-config'], 'o1');
      const idle = await connect(main);
      const idleResponse = await idle.get();
      assert.equal(idleResponse.headers['x-config'], 'v1');
      assert.equal(idleResponse.headers.connection, undefined);
      const reused = await connect(main);
      assert.equal((await reused.get()).headers['x-config'], 'v1');
      const slow = await connect(main);
      const slowResponse = slow.get('/slow');
      await upstream.slowArrived;
      const loop = requestLoop(main);

      host.rewrite(spec('v2'));
      const answer = await reload(host);
      assert.equal(answer.status, 200, answer.body);
      assert.equal(answer.body,
                   'reload OK: 1 updated (main), 0 added, 0 removed, 1 unchanged (other)\n');
      await logged(host, "listener 'main' updated (in-place filter chain update)");

      // New connections: the new config.
      assert.equal((await request(main, { path: '/' })).headers['x-config'], 'v2');
      // The request in flight across the reload ends on the old config, with connection: close,
      // and its connection ends.
      upstream.release();
      const finished = await slowResponse;
      assert.equal(finished.headers['x-config'], 'v1');
      assert.equal(finished.headers.connection, 'close');
      await slow.closed;
      // A kept-alive connection of the old version that sends another request: the old config,
      // with connection: close.
      const again = await reused.get();
      assert.equal(again.headers['x-config'], 'v1');
      assert.equal(again.headers.connection, 'close');
      await reused.closed;
      // The unchanged listener's connection is not drained.
      const otherAgain = await otherConnection.get();
      assert.equal(otherAgain.headers['x-config'], 'o1');
      assert.equal(otherAgain.headers.connection, undefined);
      loop.stop = true;
      await loop.done;
      assert.deepEqual(loop.failed, []);
      assert.ok(loop.ok > 0);

      // The idle connection is closed when the drain time is over; then the old config goes.
      await idle.closed;
      await logged(host, 'config_destroy v1');
      await logged(host, "listener 'main' (previous version) drained; destroying its configs");
      const order = lifecycleCalls(host);
      assert.ok(order.indexOf('config_new v2') < order.indexOf('config_destroy v1'), order.join('\n'));
      assert.ok(order.lastIndexOf('filter_destroy v1') < order.indexOf('config_destroy v1'),
                order.join('\n'));
      assert.ok(order.lastIndexOf('filter_new v1') < order.indexOf('config_destroy v1'));
      assert.equal(order.filter((c) => c === 'config_new o1').length, 1, order.join('\n'));
      assert.ok(!order.includes('config_destroy o1'));
      assert.ok(!order.includes('config_destroy v2'));
      // Still not drained after the other listener's drain time.
      const otherLast = await otherConnection.get();
      assert.equal(otherLast.headers['x-config'], 'o1');
      assert.equal(otherLast.headers.connection, undefined);
      otherConnection.destroy();
    } finally {
      upstream.release();
      const exited = await host.stop();
      assert.equal(exited.code, 0, host.output);
      await upstream.close();
    }
    const order = lifecycleCalls(host);
    assert.ok(order.includes('config_destroy v2') && order.includes('config_destroy o1'));
  });

  test('SIGHUP reloads too; per-route configs are rebuilt first and the old ones destroyed ' +
       'before the old filter configs', async () => {
    const upstream = await startUpstream();
    const main = await freePort();
    const spec = (perRoute) => ({ upstreamPort: upstream.port,
                                  listeners: [{ name: 'main', port: main, filters: ['f'], perRoute }] });
    const host = await start(spec('p1'), { drainTime: 0 });
    try {
      assert.equal((await request(main, { path: '/' })).headers['x-per-route'], 'p1');
      host.rewrite(spec('p2'));
      const from = host.output.length;
      host.child.kill('SIGHUP');
      await logged(host, 'reload OK: 1 updated (main), 0 added, 0 removed, 0 unchanged', from);
      assert.equal((await request(main, { path: '/' })).headers['x-per-route'], 'p2');
      await logged(host, 'per_route_config_destroy p1');
      await logged(host, 'config_destroy f');
      // Startup, then the new version (route configuration first), then the old one's end.
      assert.deepEqual(lifecycleCalls(host).filter((c) => !c.startsWith('filter_')), [
        'per_route_config_new p1', 'config_new f',
        'per_route_config_new p2', 'config_new f',
        'per_route_config_destroy p1', 'config_destroy f',
      ]);
    } finally {
      await host.stop();
      await upstream.close();
    }
  });
});

describe('reload: what is rejected changes nothing', () => {
  test('a filter or per-route config the module rejects, a YAML error, a cluster change',
       async () => {
    const upstream = await startUpstream();
    const main = await freePort();
    const spec = (listener) => ({ upstreamPort: upstream.port,
                                  listeners: [{ name: 'main', port: main, ...listener }] });
    const host = await start(spec({ filters: ['v1'] }), { drainTime: 0 });
    const loop = requestLoop(main);
    try {
      const filterPath = 'static_resources.listeners[0].filter_chains[0].filters[0].typed_config';
      host.rewrite(spec({ filters: ['v3', 'reject'] }));
      let answer = await reload(host);
      assert.equal(answer.status, 400);
      assert.equal(answer.body, `error adding listener 'main': ${filterPath}.http_filters[1]: ` +
                                'dynamic module filter config rejected (see the module\'s log above)\n');
      await logged(host, "reload rejected, the running configuration is unchanged: error adding " +
                         "listener 'main'");
      // The part of the new version already built is destroyed again; the running one is not.
      // (The module's lines and the host's reach the log through different pipes: wait for it.)
      await logged(host, 'config_lifecycle: config_destroy v3');
      assert.deepEqual(lifecycleCalls(host).filter((c) => c.startsWith('config_')),
                       ['config_new v1', 'config_new v3', 'config_new rejects reject',
                        'config_destroy v3']);

      host.rewrite(spec({ filters: ['v4'], perRoute: 'reject' }));
      answer = await reload(host);
      assert.equal(answer.status, 400);
      assert.match(answer.body, /^error adding listener 'main': .*routes\[0\]\.typed_per_filter_config\.lifecycle_0: Failed to initialize per-route dynamic module\n$/);
      assert.ok(!lifecycleCalls(host).includes('config_new v4')); // Routes first, as at startup.
      // The module's line comes through the log pipe, the answer through the socket: wait for it.
      await logged(host, 'config_lifecycle: per_route_config_new rejects reject');

      // (The request loop adds filter_new / filter_destroy lines: not counted.)
      const configCalls = () => lifecycleCalls(host).filter((c) => !c.startsWith('filter_'));
      const before = configCalls().length;
      host.rewriteText('static_resources: [\n');
      answer = await reload(host);
      assert.equal(answer.status, 400);
      assert.match(answer.body, /^error reloading configuration '.*': unable to parse /);

      host.rewrite({ ...spec({ filters: ['v5'] }), clusterTimeout: '2s' });
      answer = await reload(host);
      assert.equal(answer.status, 400);
      assert.match(answer.body, /^static_resources\.clusters: changed, and a reload applies listener changes only/);
      assert.equal(configCalls().length, before); // Neither built anything.

      assert.equal((await request(main, { path: '/' })).headers['x-config'], 'v1');
      loop.stop = true;
      await loop.done;
      assert.deepEqual(loop.failed, []);
      assert.deepEqual([...loop.configs], ['v1']);
      assert.ok(!lifecycleCalls(host).includes('config_destroy v1'));
    } finally {
      loop.stop = true;
      await loop.done;
      await host.stop();
      await upstream.close();
    }
  });
});

describe('reload: listeners added and removed', () => {
  test('an added listener starts; a removed one stops accepting, drains and is destroyed; a ' +
       'change outside the filter chains is a full listener update on the same socket',
       async () => {
    const upstream = await startUpstream();
    const [main, other, third] = [await freePort(), await freePort(), await freePort()];
    const host = await start({ upstreamPort: upstream.port, listeners: [
      { name: 'main', port: main, filters: ['m1'] },
      { name: 'other', port: other, filters: ['o1'] }] },
    { drainTime: 1, drainStrategy: 'immediate' });
    try {
      const otherConnection = await connect(other);
      assert.equal((await otherConnection.get()).headers['x-config'], 'o1');
      const mainConnection = await connect(main);
      assert.equal((await mainConnection.get()).headers['x-config'], 'm1');
      const loop = requestLoop(main);

      host.rewrite({ upstreamPort: upstream.port, listeners: [
        { name: 'main', port: main, filters: ['m1'], bufferLimit: 65536 },
        { name: 'third', port: third, filters: ['t1'] }] });
      const answer = await reload(host);
      assert.equal(answer.status, 200, answer.body);
      assert.equal(answer.body,
                   'reload OK: 1 updated (main), 1 added (third), 1 removed (other), 0 unchanged\n');
      await logged(host, "listener 'main' updated (full listener update)");

      assert.equal((await request(third, { path: '/' })).headers['x-config'], 't1');
      await assert.rejects(request(other, { path: '/' }), /ECONNREFUSED/);
      // Open connections of the removed and of the replaced listener drain (immediate strategy).
      for (const [connection, id] of [[otherConnection, 'o1'], [mainConnection, 'm1']]) {
        const res = await connection.get();
        assert.equal(res.headers['x-config'], id);
        assert.equal(res.headers.connection, 'close');
        await connection.closed;
      }
      loop.stop = true;
      await loop.done;
      assert.deepEqual(loop.failed, []); // The shared socket never refused a connection.

      await logged(host, 'config_destroy o1');
      await logged(host, 'config_destroy m1');
      const order = lifecycleCalls(host);
      assert.ok(order.indexOf('config_new t1') < order.indexOf('config_destroy o1'));
      assert.ok(order.lastIndexOf('filter_destroy o1') < order.indexOf('config_destroy o1'));
      assert.equal(order.filter((c) => c === 'config_new m1').length, 2); // Rebuilt.
      assert.equal(order.filter((c) => c === 'config_destroy m1').length, 1); // The old one.
    } finally {
      await host.stop();
      await upstream.close();
    }
  });
});

describe('reload: a TCP listener', () => {
  test('open connections keep their filter chain until the drain time ends; new ones get the ' +
       'new chain', async () => {
    const echo = await listenLoopback(net.createServer((socket) => socket.pipe(socket)));
    const [listenPort, adminPort] = [await freePort(), await freePort()];
    const tcpYaml = (filterName) => tcpProxyYaml({
      listenPort, adminPort, clusters: [{ name: 'echo', port: echo.port }],
      filters: [{ module: 'network_test', filterName }] });
    const host = await startHostWithYaml(tcpYaml('upper'), { listenPort, adminPort, searchPath,
                                                             args: ['--drain-time-s', '1'] });
    /** A TCP client: `said(text)` resolves once everything received so far includes `text`. */
    async function client() {
      const socket = net.connect(listenPort, '127.0.0.1');
      let received = '';
      let waiters = [];
      socket.on('data', (d) => {
        received += d;
        const satisfied = waiters.filter((w) => received.includes(w.text));
        waiters = waiters.filter((w) => !received.includes(w.text));
        for (const w of satisfied) w.resolve();
      });
      socket.on('error', () => {});
      const closed = new Promise((resolve) => socket.on('close', resolve));
      await new Promise((resolve) => socket.once('connect', resolve));
      return {
        closed,
        send: (text) => socket.write(text),
        said: (text) => (received.includes(text) ? Promise.resolve()
          : new Promise((resolve) => waiters.push({ text, resolve }))),
        destroy: () => socket.destroy(),
      };
    }
    try {
      const old = await client();
      old.send('one\n');
      await old.said('ONE\n');
      writeFileSync(host.configFile, tcpYaml('suffix'));
      const answer = await reload(host);
      assert.equal(answer.status, 200, answer.body);
      assert.equal(answer.body, 'reload OK: 1 updated (tcp), 0 added, 0 removed, 0 unchanged\n');
      const fresh = await client();
      fresh.send('two\n');
      await fresh.said('two\n[seen]');
      // The old connection still runs its old chain (upper-casing), then is closed at the end of
      // the drain time; the new one is not.
      old.send('three\n');
      await old.said('THREE\n');
      await old.closed;
      await logged(host, "listener 'tcp' (previous version) drained; destroying its configs");
      fresh.send('four\n');
      await fresh.said('four\n[seen]');
      fresh.destroy();
    } finally {
      await host.stop();
      await echo.close();
    }
  });
});

describe('drain options', () => {
  test('--drain-time-s and --drain-strategy are checked like Envoy options', () => {
    for (const [args, message] of [
      [['--drain-strategy', 'soon'], "unknown drain strategy 'soon' for --drain-strategy"],
      [['--drain-time-s', 'x'], 'invalid --drain-time-s: x'],
    ]) {
      const run = spawnSync(hostBin, ['-c', '/nonexistent.yaml', ...args], { encoding: 'utf8' });
      assert.equal(run.status, 1);
      assert.ok(run.stderr.includes(message), run.stderr);
    }
  });
});

describe('a listener on another listener\'s address (Envoy\'s duplicate address check)', () => {
  const duplicate = (name, port) =>
    `error adding listener: '${name}' has duplicate address '127.0.0.1:${port}' as existing ` +
    'listener, to check if the listener has duplicated addresses with other listeners or ' +
    "'enable_reuse_port' is set to 'false' for the listener";

  test('at startup, serve and validate mode, after its filter configs were built; port 0 is ' +
       'never a duplicate', async () => {
    const upstream = await startUpstream();
    const [port, adminPort] = [await freePort(), await freePort()];
    const listeners = (p) => [{ name: 'first', port: p, filters: ['f1'] },
                              { name: 'second', port: p, filters: ['s1'] }];
    const text = yaml({ adminPort, upstreamPort: upstream.port, listeners: listeners(port) });
    try {
      const { code, output } = await runHostToExit(text, { searchPath });
      assert.equal(code, 1, output);
      assert.ok(output.includes(`error initializing configuration '`), output);
      assert.ok(output.includes(`': ${duplicate('second', port)}\n`), output);
      assert.deepEqual(lifecycleCalls({ output }).filter((c) => c.startsWith('config_')),
                       ['config_new f1', 'config_new s1', 'config_destroy s1', 'config_destroy f1']);

      const dir = mkdtempSync(path.join(tmpdir(), 'envoy-ts-host-duplicate-'));
      const file = path.join(dir, 'envoy.yaml');
      writeFileSync(file, text);
      const validate = spawnSync(hostBin, ['--mode', 'validate', '-c', file], {
        env: { ...process.env, ENVOY_DYNAMIC_MODULES_SEARCH_PATH: searchPath }, encoding: 'utf8',
      });
      rmSync(dir, { recursive: true, force: true });
      assert.equal(validate.status, 1, validate.stderr);
      assert.equal(validate.stdout, '');
      assert.ok(validate.stderr.includes(duplicate('second', port)), validate.stderr);

      // Port 0: each listener binds a port of its own.
      const host = await startHostWithYaml(
        yaml({ adminPort, upstreamPort: upstream.port, listeners: listeners(0) }),
        { listenPort: 0, adminPort, searchPath });
      try {
        for (const [name, id] of [['first', 'f1'], ['second', 's1']]) {
          const bound = Number(new RegExp(`listener '${name}' listening on 127\\.0\\.0\\.1:(\\d+)`)
            .exec(host.output)[1]);
          assert.equal((await request(bound, { path: '/' })).headers['x-config'], id);
        }
      } finally {
        await host.stop();
      }
    } finally {
      await upstream.close();
    }
  });

  test('a reload that moves a listener onto another one\'s address is rejected and changes ' +
       'nothing; once that one moved away earlier in the same reload, it is applied', async () => {
    const upstream = await startUpstream();
    const [a, b, c] = [await freePort(), await freePort(), await freePort()];
    const spec = (listeners) => ({ upstreamPort: upstream.port, listeners });
    const host = await start(spec([{ name: 'a', port: a, filters: ['a1'] },
                                   { name: 'b', port: b, filters: ['b1'] }]), { drainTime: 0 });
    try {
      host.rewrite(spec([{ name: 'a', port: a, filters: ['a1'] },
                         { name: 'b', port: a, filters: ['b2'] }]));
      let answer = await reload(host);
      assert.equal(answer.status, 400);
      assert.equal(answer.body, `${duplicate('b', a)}\n`);
      await logged(host, `reload rejected, the running configuration is unchanged: ${duplicate('b', a)}`);
      await logged(host, 'config_lifecycle: config_destroy b2');
      assert.equal((await request(a, { path: '/' })).headers['x-config'], 'a1');
      assert.equal((await request(b, { path: '/' })).headers['x-config'], 'b1');

      // Envoy applies the listeners one after the other: b's check still finds a on its address.
      host.rewrite(spec([{ name: 'b', port: a, filters: ['b2'] },
                         { name: 'a', port: c, filters: ['a2'] }]));
      answer = await reload(host);
      assert.equal(answer.status, 400);
      assert.equal(answer.body, `${duplicate('b', a)}\n`);

      host.rewrite(spec([{ name: 'a', port: c, filters: ['a2'] },
                         { name: 'b', port: a, filters: ['b2'] }]));
      answer = await reload(host);
      assert.equal(answer.status, 200, answer.body);
      assert.equal(answer.body, 'reload OK: 2 updated (a, b), 0 added, 0 removed, 0 unchanged\n');
      assert.equal((await request(c, { path: '/' })).headers['x-config'], 'a2');
      assert.equal((await request(a, { path: '/' })).headers['x-config'], 'b2');
      await assert.rejects(request(b, { path: '/' }), /ECONNREFUSED/);
    } finally {
      await host.stop();
      await upstream.close();
    }
  });
});
