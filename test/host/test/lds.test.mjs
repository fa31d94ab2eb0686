// Listeners from a file (dynamic_resources.lds_config.path_config_source), as Envoy's filesystem
// LDS: read at startup, read again when a file is moved into place, applied through the listener
// manager like any LDS update, and reported in the listener_manager.lds.* stats. Proven with
// test/host/modules/config_lifecycle.c (logs config_new / filter_new / filter_destroy /
// config_destroy with its config id and answers `x-config: <id>`) and with libenvoy_ts.so.
// Every wait is on an outcome (a stat, a log line, a response), never on time.
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';

import {
  examplesBundle, freePort, lifecycleCalls, logged, releaseDir, request, runHostToExit, startHostWithYaml,
  testModulesDir,
} from './helpers.mjs';
import { startHoldingUpstream as startUpstream } from '../../support/servers.mjs';

const ListenerType = 'type.googleapis.com/envoy.config.listener.v3.Listener';


/** An HTTP listener (as a YAML flow mapping, so it fits both files) with `filters` as its chain. */
function listener({ name, port, filters, cluster = 'upstream' }) {
  const httpFilters = filters.map(({ module, filterName, config }, i) => `
        {"name": "f${i}", "typed_config": {
          "@type": "type.googleapis.com/envoy.extensions.filters.http.dynamic_modules.v3.DynamicModuleFilter",
          "dynamic_module_config": {"name": "${module}"},
          "filter_name": "${filterName}",
          "filter_config": {"@type": "type.googleapis.com/google.protobuf.StringValue",
                            "value": ${JSON.stringify(config)}}}},`).join('');
  return `{"name": "${name}",
    "address": {"socket_address": {"address": "127.0.0.1", "port_value": ${port}}},
    "filter_chains": [{"filters": [{"name": "envoy.filters.network.http_connection_manager",
      "typed_config": {
        "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
        "stat_prefix": "${name}",
        "route_config": {"virtual_hosts": [{"name": "all", "domains": ["*"],
          "routes": [{"match": {"prefix": "/"}, "route": {"cluster": "${cluster}"}}]}]},
        "http_filters": [${httpFilters}
          {"name": "envoy.filters.http.router", "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"}}]}}]}]}`;
}

const lifecycle = (id) => [{ module: 'config_lifecycle', filterName: 'lifecycle', config: id }];

/** An LDS file: a DiscoveryResponse in YAML, `listeners` as listener() specs. */
function ldsYaml(version, listeners) {
  return `version_info: "${version}"
resources:${listeners.map((l) => `
- {"@type": "${ListenerType}", ${listener(l).slice(1)}`).join('')}
`;
}

/** envoy.yaml: node, admin, the upstream cluster, `statics` static listeners, LDS from `ldsPath`. */
function envoyYaml({ adminPort, upstreamPort, ldsPath, watchedDirectory, statics = [],
                     node = 'node: { id: test, cluster: test }' }) {
  return `${node}
admin:
  address: { socket_address: { address: 127.0.0.1, port_value: ${adminPort} } }
dynamic_resources:
  lds_config:
    resource_api_version: V3
    path_config_source:
      path: ${ldsPath}${watchedDirectory ? `
      watched_directory: { path: ${watchedDirectory} }` : ''}
static_resources:
  listeners: [${statics.map(listener).join(', ')}]
  clusters:
  - name: upstream
    type: STATIC
    connect_timeout: 1s
    load_assignment:
      cluster_name: upstream
      endpoints:
      - lb_endpoints:
        - endpoint:
            address: { socket_address: { address: 127.0.0.1, port_value: ${upstreamPort} } }
`;
}

/**
 * Starts the host with LDS from a file in a directory of its own. `host.publish(text)` writes a
 * new file next to it and moves it into place (the operator's atomic `mv`); `host.ldsPath`.
 */
async function start({ upstreamPort, lds, statics, watch = true, drainTime = 1, searchPath,
                       concurrency = 2 }) {
  const dir = mkdtempSync(path.join(tmpdir(), 'envoy-ts-host-lds-'));
  const ldsPath = path.join(dir, 'lds.yaml');
  writeFileSync(ldsPath, lds);
  const adminPort = await freePort();
  let host;
  try {
    host = await startHostWithYaml(
      envoyYaml({ adminPort, upstreamPort, ldsPath, watchedDirectory: watch ? dir : undefined,
                  statics }),
      { listenPort: 0, adminPort, searchPath: searchPath ?? testModulesDir, concurrency,
        args: ['--drain-time-s', String(drainTime)] });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  let n = 0;
  host.dir = dir;
  host.ldsPath = ldsPath;
  host.publish = (text) => {
    const next = path.join(dir, `.lds-${++n}.yaml`);
    writeFileSync(next, text);
    renameSync(next, ldsPath);
  };
  const stop = host.stop;
  host.stop = async () => {
    const exited = await stop();
    rmSync(dir, { recursive: true, force: true });
    return exited;
  };
  return host;
}

/** The listener_manager.lds.* stats: numbers, and version_text as a string. */
async function ldsStats(host) {
  const res = await request(host.adminPort, { path: '/stats?filter=^listener_manager\\.lds\\.' });
  assert.equal(res.status, 200);
  const stats = {};
  for (const line of res.body.trim().split('\n')) {
    const [, name, value] = line.match(/^listener_manager\.lds\.([^:]+): (.*)$/);
    if (value.startsWith('"')) {
      stats[name] = JSON.parse(value);
    } else if (/^\d+$/.test(value)) {
      const n = BigInt(value); // `version` is a 64-bit hash.
      stats[name] = n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
    } else {
      stats[name] = value;
    }
  }
  return stats;
}

/** Resolves with the stats once `name` reaches `value`. */
async function statReaches(host, name, value) {
  let stats;
  for (let i = 0; i < 1000; ++i) {
    stats = await ldsStats(host);
    if (stats[name] >= value || host.exited) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.ok(stats[name] >= value, `${name} never reached ${value}: ${JSON.stringify(stats, (k, v) => (typeof v === "bigint" ? String(v) : v))}\n${host.output}`);
  return stats;
}

const xConfig = async (port, p = '/') => (await request(port, { path: p })).headers['x-config'];

describe('LDS from a file', () => {
  test('startup reads the file; a file moved into place updates a listener: new connections ' +
       'get the new config, a request in flight ends on the old one, whose config goes last',
  async () => {
    const upstream = await startUpstream();
    const [main, fixed] = [await freePort(), await freePort()];
    const lds = (id) => ldsYaml(id, [{ name: 'main', port: main, filters: lifecycle(id) }]);
    const host = await start({ upstreamPort: upstream.port, lds: lds('v1'), drainTime: 2,
                               statics: [{ name: 'static', port: fixed, filters: lifecycle('s1') }] });
    try {
      // /ready answered 200 once the first LDS update was applied (startHostWithYaml waited).
      assert.equal(await xConfig(main), 'v1');
      assert.equal(await xConfig(fixed), 's1');
      let stats = await ldsStats(host);
      assert.equal(stats.update_attempt, 1);
      assert.equal(stats.update_success, 1);
      assert.equal(stats.update_rejected, 0);
      assert.equal(stats.update_failure, 0);
      assert.equal(stats.version_text, 'v1');
      assert.equal(stats.update_duration, 'No recorded values');

      const slowResponse = request(main, { path: '/slow' });
      await upstream.slowArrived;
      host.publish(lds('v2'));
      stats = await statReaches(host, 'update_success', 2);
      assert.equal(stats.version_text, 'v2');
      assert.equal(stats.update_attempt, 2);
      assert.equal(await xConfig(main), 'v2');
      upstream.release();
      const finished = await slowResponse;
      assert.equal(finished.headers['x-config'], 'v1');
      assert.equal(finished.headers.connection, 'close');
      assert.equal(await xConfig(fixed), 's1');

      await logged(host, 'config_destroy v1');
      const order = lifecycleCalls(host);
      assert.ok(order.indexOf('config_new v2') < order.indexOf('config_destroy v1'), order.join('\n'));
      assert.ok(order.lastIndexOf('filter_destroy v1') < order.indexOf('config_destroy v1'),
                order.join('\n'));
      assert.deepEqual(order.filter((c) => c.startsWith('config_')),
                       ['config_new s1', 'config_new v1', 'config_new v2', 'config_destroy v1']);
      assert.match(host.output, /lds: add\/update listener 'main'/);
    } finally {
      upstream.release();
      const exited = await host.stop();
      assert.equal(exited.code, 0, host.output);
      await upstream.close();
    }
  });

  test('with watched_directory any file moved into the directory re-reads the path; the same ' +
       'listeners again change nothing', async () => {
    const upstream = await startUpstream();
    const main = await freePort();
    const lds = ldsYaml('v1', [{ name: 'main', port: main, filters: lifecycle('v1') }]);
    const host = await start({ upstreamPort: upstream.port, lds });
    try {
      const other = path.join(host.dir, 'unrelated.tmp');
      writeFileSync(other, 'not LDS');
      renameSync(other, path.join(host.dir, 'unrelated.txt'));
      const stats = await statReaches(host, 'update_success', 2);
      assert.equal(stats.update_attempt, 2);
      assert.equal(await xConfig(main), 'v1');
      assert.deepEqual(lifecycleCalls(host).filter((c) => c.startsWith('config_')), ['config_new v1']);
    } finally {
      await host.stop();
      await upstream.close();
    }
  });

  test('without watched_directory only a move onto the path itself is seen; a write in place is ' +
       'not (Envoy watches moves only)', async () => {
    const upstream = await startUpstream();
    const main = await freePort();
    const lds = (id) => ldsYaml(id, [{ name: 'main', port: main, filters: lifecycle(id) }]);
    const host = await start({ upstreamPort: upstream.port, lds: lds('v1'), watch: false });
    try {
      writeFileSync(host.ldsPath, lds('v2')); // In place: ignored.
      const other = path.join(host.dir, 'unrelated.tmp');
      writeFileSync(other, lds('v9'));
      renameSync(other, path.join(host.dir, 'unrelated.yaml')); // Another file: ignored.
      host.publish(lds('v3'));
      // inotify reports in order: once the move onto the path is applied, the write and the other
      // move before it have been seen (and did not make a refresh).
      const stats = await statReaches(host, 'update_success', 2);
      assert.equal(stats.update_attempt, 2);
      assert.equal(stats.version_text, 'v3');
      assert.equal(await xConfig(main), 'v3');
      assert.ok(!lifecycleCalls(host).includes('config_new v2'));
      assert.ok(!lifecycleCalls(host).includes('config_new v9'));
    } finally {
      await host.stop();
      await upstream.close();
    }
  });

  test('a file that does not parse is an update_failure, a listener that fails an ' +
       'update_rejected; the running listeners keep serving, the others are applied', async () => {
    const upstream = await startUpstream();
    const [main, second] = [await freePort(), await freePort()];
    const host = await start({ upstreamPort: upstream.port,
                               lds: ldsYaml('v1', [{ name: 'main', port: main, filters: lifecycle('v1') }]) });
    try {
      host.publish('version_info: "v2"\nresources: [ {\n');
      let stats = await statReaches(host, 'update_failure', 1);
      assert.equal(stats.update_success, 1);
      assert.equal(stats.update_rejected, 0);
      assert.equal(stats.version_text, 'v1');
      await logged(host, 'Filesystem config update failure: in ');

      // The module rejects main's new config: main keeps v1; `second` in the same file is added.
      host.publish(ldsYaml('v3', [{ name: 'main', port: main, filters: lifecycle('reject') },
                                  { name: 'second', port: second, filters: lifecycle('n1') }]));
      stats = await statReaches(host, 'update_rejected', 1);
      assert.equal(stats.update_success, 1);
      assert.equal(stats.version_text, 'v1');
      await logged(host, 'Filesystem config update rejected: Error adding/updating listener(s) main: ');
      assert.equal(await xConfig(main), 'v1');
      assert.equal(await xConfig(second), 'n1');

      // A resource that is not a Listener rejects the whole file: nothing changes.
      host.publish(`version_info: "v4"
resources:
- {"@type": "type.googleapis.com/envoy.config.cluster.v3.Cluster", "name": "c"}
`);
      stats = await statReaches(host, 'update_rejected', 2);
      assert.equal(await xConfig(main), 'v1');
      assert.equal(await xConfig(second), 'n1');
      assert.deepEqual(lifecycleCalls(host).filter((c) => c.startsWith('config_')),
                       ['config_new v1', 'config_new rejects reject', 'config_new n1']);
      // A value of the wrong type inside a listener: that listener fails.
      host.publish(ldsYaml('v5', [{ name: 'main', port: main, filters: lifecycle('v5') }])
        .replace('"domains": ["*"]', '"domains": [{"x": 1}]'));
      stats = await statReaches(host, 'update_rejected', 3);
      assert.equal(await xConfig(main), 'v1');
      assert.equal(stats.update_attempt, 5);
      assert.equal(stats.update_success, 1);
    } finally {
      await host.stop();
      await upstream.close();
    }
  });

  test('a listener left out of the file is removed; one named like a static listener is ' +
       'skipped; JSON works too', async () => {
    const upstream = await startUpstream();
    const [main, other, fixed, clash] = [await freePort(), await freePort(), await freePort(),
                                        await freePort()];
    const host = await start({
      upstreamPort: upstream.port, drainTime: 1,
      statics: [{ name: 'static', port: fixed, filters: lifecycle('s1') }],
      lds: ldsYaml('v1', [{ name: 'main', port: main, filters: lifecycle('m1') },
                          { name: 'other', port: other, filters: lifecycle('o1') },
                          { name: 'static', port: clash, filters: lifecycle('x1') }]),
    });
    try {
      assert.equal(await xConfig(other), 'o1');
      assert.equal(await xConfig(fixed), 's1');
      await assert.rejects(request(clash, { path: '/' }), /ECONNREFUSED/);
      let stats = await ldsStats(host);
      assert.equal(stats.update_success, 1);

      host.publish(JSON.stringify({
        version_info: 'v2',
        resources: [JSON.parse(`{"@type": "${ListenerType}", ${listener({ name: 'main', port: main, filters: lifecycle('m1') }).slice(1)}`)],
      }));
      stats = await statReaches(host, 'update_success', 2);
      assert.equal(stats.version_text, 'v2');
      await assert.rejects(request(other, { path: '/' }), /ECONNREFUSED/);
      assert.equal(await xConfig(main), 'm1');
      assert.equal(await xConfig(fixed), 's1'); // Not removed by LDS.
      await logged(host, "lds: remove listener 'other'");
      await logged(host, 'config_destroy o1');
      assert.deepEqual(lifecycleCalls(host).filter((c) => c.startsWith('config_')),
                       ['config_new s1', 'config_new m1', 'config_new o1', 'config_destroy o1']);

      // An empty list removes every LDS listener, and only those. No version_info: the empty
      // version, whose XXH64 is the `version` gauge.
      host.publish('resources: []\n');
      stats = await statReaches(host, 'update_success', 3);
      assert.equal(stats.version_text, '');
      assert.equal(stats.version, 0xEF46DB3751D8E999n);
      await assert.rejects(request(main, { path: '/' }), /ECONNREFUSED/);
      assert.equal(await xConfig(fixed), 's1');
    } finally {
      await host.stop();
      await upstream.close();
    }
  });

  test('a SIGHUP reload of envoy.yaml leaves the LDS listeners alone', async () => {
    const upstream = await startUpstream();
    const [main, fixed] = [await freePort(), await freePort()];
    const host = await start({ upstreamPort: upstream.port,
                               statics: [{ name: 'static', port: fixed, filters: lifecycle('s1') }],
                               lds: ldsYaml('v1', [{ name: 'main', port: main, filters: lifecycle('m1') }]) });
    try {
      const answer = await request(host.adminPort, { method: 'POST', path: '/reload' });
      assert.equal(answer.status, 200, answer.body);
      assert.equal(answer.body, 'reload OK: 0 updated, 0 added, 0 removed, 1 unchanged (static)\n');
      assert.equal(await xConfig(main), 'm1');
    } finally {
      await host.stop();
      await upstream.close();
    }
  });

  test('a listener on another listener\'s address, static or LDS, fails alone ' +
       '(update_rejected); one taking the address of a listener the same file removes is applied',
  async () => {
    const upstream = await startUpstream();
    const [main, fixed] = [await freePort(), await freePort()];
    const duplicate = (name, port) =>
      `${name}: error adding listener: '${name}' has duplicate address '127.0.0.1:${port}' as ` +
      'existing listener, to check if the listener has duplicated addresses with other listeners ' +
      "or 'enable_reuse_port' is set to 'false' for the listener\n";
    const host = await start({ upstreamPort: upstream.port,
                               statics: [{ name: 'static', port: fixed, filters: lifecycle('s1') }],
                               lds: ldsYaml('v1', [{ name: 'main', port: main, filters: lifecycle('m1') }]) });
    try {
      host.publish(ldsYaml('v2', [{ name: 'main', port: main, filters: lifecycle('m1') },
                                  { name: 'onstatic', port: fixed, filters: lifecycle('d1') },
                                  { name: 'twin', port: main, filters: lifecycle('t1') }]));
      let stats = await statReaches(host, 'update_rejected', 1);
      assert.equal(stats.update_success, 1);
      assert.equal(stats.version_text, 'v1');
      await logged(host, 'Filesystem config update rejected: Error adding/updating listener(s) ' +
                         duplicate('onstatic', fixed) + duplicate('twin', main));
      assert.equal(await xConfig(fixed), 's1');
      assert.equal(await xConfig(main), 'm1');
      // As in Envoy, each was built (config_new) before its address was checked.
      await logged(host, 'config_lifecycle: config_destroy t1');
      assert.deepEqual(lifecycleCalls(host).filter((c) => c.startsWith('config_')),
                       ['config_new s1', 'config_new m1', 'config_new d1', 'config_destroy d1',
                        'config_new t1', 'config_destroy t1']);

      // Envoy's LDS removes the listeners a file leaves out before it adds or updates any.
      host.publish(ldsYaml('v3', [{ name: 'moved', port: main, filters: lifecycle('v3') }]));
      stats = await statReaches(host, 'update_success', 2);
      assert.equal(stats.version_text, 'v3');
      assert.equal(await xConfig(main), 'v3');
    } finally {
      await host.stop();
      await upstream.close();
    }
  });
});

describe('LDS from a file: startup', () => {
  const base = async (options) => envoyYaml({ adminPort: await freePort(), upstreamPort: 1,
                                              ...options });

  test('the path must exist; node id and cluster are required; the watched directory must ' +
       'exist', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'envoy-ts-host-lds-'));
    try {
      const ldsPath = path.join(dir, 'lds.yaml');
      let run = await runHostToExit(await base({ ldsPath }), { searchPath: testModulesDir });
      assert.equal(run.code, 1);
      assert.match(run.output, new RegExp(`paths must refer to an existing path in the system: '${ldsPath}' does not exist`));
      writeFileSync(ldsPath, 'resources: []\n');
      run = await runHostToExit(await base({ ldsPath, node: '' }), { searchPath: testModulesDir });
      assert.equal(run.code, 1);
      assert.match(run.output, /type\.googleapis\.com\/envoy\.config\.listener\.v3\.Listener: node 'id' and 'cluster' are required/);
      run = await runHostToExit(await base({ ldsPath, watchedDirectory: path.join(dir, 'nope') }),
                                { searchPath: testModulesDir });
      assert.equal(run.code, 1);
      assert.match(run.output, /unable to add filesystem watch for file .*nope\/: No such file or directory/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a first file that does not parse: the host still starts, with no LDS listener', async () => {
    const upstream = await startUpstream();
    const host = await start({ upstreamPort: upstream.port, lds: 'resources: [\n' });
    try {
      const stats = await ldsStats(host);
      assert.equal(stats.update_failure, 1);
      assert.equal(stats.update_success, 0);
      assert.equal(stats.version_text, '');
    } finally {
      await host.stop();
      await upstream.close();
    }
  });
});

describe('LDS from a file with libenvoy_ts.so', () => {
  test('a new filter chain and config moved into place serve new connections', async () => {
    const upstream = await startUpstream();
    const main = await freePort();
    const chain = (c) => [{ module: 'envoy_ts', filterName: 'chain',
                            config: JSON.stringify({ bundle: examplesBundle, chain: c }) }];
    const lds = (version, c) => ldsYaml(version, [{ name: 'main', port: main, filters: chain(c) }]);
    const host = await start({ upstreamPort: upstream.port, searchPath: releaseDir,
                               lds: lds('1', [{ name: 'request-id' }]) });
    try {
      let res = await request(main, { path: '/', headers: { 'x-request-id': 'r1' } });
      assert.equal(res.status, 200);
      assert.equal(res.headers['x-request-id'], 'r1');
      host.publish(lds('2', [{ name: 'header-auth', config: { tokens: ['s3cret'], prefix: 'Bearer ' } }]));
      const stats = await statReaches(host, 'update_success', 2);
      assert.equal(stats.version_text, '2');
      res = await request(main, { path: '/' });
      assert.equal(res.status, 401);
      res = await request(main, { path: '/', headers: { authorization: 'Bearer s3cret' } });
      assert.equal(res.status, 200);
      assert.equal(res.body, 'ok');
    } finally {
      const exited = await host.stop();
      assert.equal(exited.code, 0, host.output);
      await upstream.close();
    }
  });
});
