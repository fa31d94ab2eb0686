// `envoy-ts-host --mode validate -c envoy.yaml`, Envoy's validate mode: the configuration is built
// as serve mode builds it at startup (the real module, program_init, config_new of every filter
// config and per-route config, with real bundles), but no socket is bound and no DNS name is
// resolved; "configuration '<path>' OK" on stdout and exit 0, or the error naming the field and
// exit 1.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { examplesBundle, hostBin, releaseDir, root, runHostToExit } from './helpers.mjs';

const libnodeDir = path.join(root, '.sysroot/usr/lib/x86_64-linux-gnu');

const dir = mkdtempSync(path.join(tmpdir(), 'envoy-ts-host-validate-'));
let fileCount = 0;

/** Runs the host with `args` (the envoy.yaml `yaml` written to a file given as -c, unless null). */
function runHost(yaml, args = ['--mode', 'validate'], { env = {} } = {}) {
  const file = path.join(dir, `envoy-${++fileCount}.yaml`);
  if (yaml !== null) writeFileSync(file, yaml);
  const child = spawn(hostBin, [...args, '-c', file], {
    env: { ...process.env, ENVOY_DYNAMIC_MODULES_SEARCH_PATH: releaseDir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => { stdout += d; });
  child.stderr.on('data', (d) => { stderr += d; });
  const timer = setTimeout(() => child.kill('SIGKILL'), 30000);
  return new Promise((resolve) => child.on('close', (code, signal) => {
    clearTimeout(timer);
    resolve({ code, signal, stdout, stderr, file });
  }));
}
const validate = (yaml, options) => runHost(yaml, ['--mode', 'validate', '-l', 'debug'], options);

/** A StringValue holding `value` as JSON, its fields indented by `indent` spaces. */
const stringValue = (value, indent) => `
${' '.repeat(indent)}"@type": type.googleapis.com/google.protobuf.StringValue
${' '.repeat(indent)}value: ${JSON.stringify(JSON.stringify(value))}`;

/**
 * An HTTP listener (envoy-ts chain + per-route configs on a route and a virtual host) and a TCP
 * listener (envoy-ts network filter chain), an upstream STATIC cluster, an unresolvable STRICT_DNS
 * cluster that a route uses, and the admin endpoint.
 */
function fullYaml({ listenPort, tcpPort, adminPort, upstreamPort, httpConfig, routeConfig, vhostConfig,
                    tcpConfig, filterName = 'chain', dnsCluster = true }) {
  return `admin:
  address:
    socket_address: { address: 127.0.0.1, port_value: ${adminPort} }
static_resources:
  listeners:
  - name: http
    address:
      socket_address: { address: 127.0.0.1, port_value: ${listenPort} }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ingress_http
          route_config:
            virtual_hosts:
            - name: all
              domains: ["*"]
              typed_per_filter_config:
                envoy_ts:
                  "@type": type.googleapis.com/envoy.extensions.filters.http.dynamic_modules.v3.DynamicModuleFilterPerRoute
                  dynamic_module_config: { name: envoy_ts, do_not_close: true }
                  per_route_config_name: chain
                  filter_config:${stringValue(vhostConfig, 20)}
              routes:
              - match: { prefix: "/public" }
                route: { cluster: upstream }
                typed_per_filter_config:
                  envoy_ts:
                    "@type": type.googleapis.com/envoy.extensions.filters.http.dynamic_modules.v3.DynamicModuleFilterPerRoute
                    dynamic_module_config: { name: envoy_ts, do_not_close: true }
                    per_route_config_name: chain
                    filter_config:${stringValue(routeConfig, 22)}${dnsCluster ? `
              - match: { prefix: "/dns" }
                route: { cluster: by_dns }` : ''}
              - match: { prefix: "/" }
                route: { cluster: upstream }
          http_filters:
          - name: envoy_ts
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.dynamic_modules.v3.DynamicModuleFilter
              dynamic_module_config: { name: envoy_ts, do_not_close: true }
              filter_name: ${filterName}
              filter_config:${stringValue(httpConfig, 16)}
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  - name: tcp
    address:
      socket_address: { address: 127.0.0.1, port_value: ${tcpPort} }
    filter_chains:
    - filters:
      - name: envoy_ts
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.dynamic_modules.v3.DynamicModuleNetworkFilter
          dynamic_module_config: { name: envoy_ts, do_not_close: true }
          filter_name: chain
          filter_config:${stringValue(tcpConfig, 12)}
      - name: envoy.filters.network.tcp_proxy
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
          stat_prefix: tcp
          cluster: upstream
  clusters:
  - name: upstream
    type: STATIC
    connect_timeout: 1s
    load_assignment:
      cluster_name: upstream
      endpoints:
      - lb_endpoints:
        - endpoint:
            address:
              socket_address: { address: 127.0.0.1, port_value: ${upstreamPort} }${dnsCluster ? `
  - name: by_dns
    type: STRICT_DNS
    connect_timeout: 1s
    load_assignment:
      cluster_name: by_dns
      endpoints:
      - lb_endpoints:
        - endpoint:
            address:
              socket_address: { address: no-such-host.invalid, port_value: 80 }` : ''}
`;
}

const good = {
  httpConfig: { bundle: examplesBundle,
                chain: [{ name: 'request-id' }, { name: 'header-auth', config: { tokens: ['user-token'] } }] },
  routeConfig: { bundle: examplesBundle, filters: { 'header-auth': { disabled: true } } },
  vhostConfig: { bundle: examplesBundle, filters: { 'header-auth': { config: { tokens: ['vh-token'] } } } },
  tcpConfig: { bundle: examplesBundle, chain: [{ name: 'conn-limit', config: { maxPerIp: 64 } }] },
};

describe('--mode validate', () => {
  let upstream;
  let upstreamConnections = 0;
  const held = [];
  let ports;

  // A port held by a plain listening socket (no SO_REUSEPORT): anyone else's bind fails.
  async function holdPort() {
    const server = net.createServer((socket) => socket.destroy());
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    held.push(server);
    return server.address().port;
  }

  before(async () => {
    upstream = http.createServer((req, res) => res.end('upstream'));
    upstream.on('connection', () => { upstreamConnections += 1; });
    await new Promise((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    ports = { listenPort: await holdPort(), tcpPort: await holdPort(), adminPort: await holdPort(),
              upstreamPort: upstream.address().port };
  });

  after(async () => {
    for (const server of held) server.close();
    upstream?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a valid config: every filter and per-route config is created and destroyed, "OK" and exit 0, ' +
       'with the listener and admin ports held by another process, no connection, no DNS', async () => {
    const { code, signal, stdout, stderr, file } = await validate(fullYaml({ ...ports, ...good }));
    assert.deepEqual({ code, signal }, { code: 0, signal: null }, stderr);
    assert.equal(stdout, `configuration '${file}' OK\n`);
    assert.match(stderr, /Dynamic module \S*libenvoy_ts\.so loaded, ABI version/);
    // Created at startup, destroyed on the way out: route tables first (the virtual host's and the
    // route's per-route configs), then the HTTP and network filter configs.
    const destroyed = [...stderr.matchAll(/destroying (per-route|filter|network filter) config of/g)]
      .map((m) => m[1]);
    assert.deepEqual(destroyed, ['per-route', 'per-route', 'filter', 'network filter'], stderr);
    assert.doesNotMatch(stderr, /listening on|cannot bind|unable to resolve|error/i);
    assert.equal(upstreamConnections, 0, 'validation opens no upstream connection');
  });

  test('serve mode on the same config (without the unresolvable cluster) cannot bind the held port', async () => {
    const { code, stdout, stderr } = await runHost(fullYaml({ ...ports, ...good, dnsCluster: false }),
                                                   ['--concurrency', '1']);
    assert.equal(code, 1, stderr);
    assert.equal(stdout, '');
    assert.match(stderr, new RegExp(`cannot bind 127\\.0\\.0\\.1:${ports.listenPort}`));
  });

  const rejected = [
    ['a filter config its schema rejects',
      { httpConfig: { bundle: examplesBundle, chain: [{ name: 'rate-limit', config: { ratePerSecond: 0, burts: 2 } }] } },
      /filter 'rate-limit': (?=.*config\.ratePerSecond must be > 0)(?=.*config\.burts is not a known field)/,
      'static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[0]: ' +
      'dynamic module filter config rejected'],
    ['an unknown filter name in the chain',
      { httpConfig: { bundle: examplesBundle, chain: [{ name: 'no-such-filter' }] } },
      /no-such-filter.*available: .*request-id/,
      'static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[0]: ' +
      'dynamic module filter config rejected'],
    ['a bundle that does not exist',
      { httpConfig: { bundle: '/nonexistent/filters.js', chain: [{ name: 'request-id' }] } },
      /\/nonexistent\/filters\.js/,
      'static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[0]: ' +
      'dynamic module filter config rejected'],
    ['an unknown filter_name', { filterName: 'chian' }, /filter_name "chian" is unknown/,
      'static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[0]: ' +
      'dynamic module filter config rejected'],
    ["a route's per-route config naming a filter the bundle does not export",
      { routeConfig: { bundle: examplesBundle, filters: { 'no-such-filter': { disabled: true } } } },
      /filters\.no-such-filter: HTTP filter 'no-such-filter' is not exported/,
      'static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config.' +
      'virtual_hosts[0].routes[0].typed_per_filter_config.envoy_ts: Failed to initialize per-route dynamic module'],
    ["a virtual host's per-route config with a config its filter rejects",
      { vhostConfig: { bundle: examplesBundle, filters: { 'header-auth': { config: {} } } } },
      /header-auth.*tokens/,
      'static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config.' +
      'virtual_hosts[0].typed_per_filter_config.envoy_ts: Failed to initialize per-route dynamic module'],
    ['a network filter config with an unknown key',
      { tcpConfig: { bundle: examplesBundle, chain: [{ name: 'conn-limit', config: { maxPerIp: 64, bogus: 1 } }] } },
      /filter 'conn-limit': unknown config key\(s\): bogus/,
      'static_resources.listeners[1].filter_chains[0].filters[0]: dynamic module network filter config rejected'],
  ];

  for (const [what, change, moduleMessage, hostMessage] of rejected) {
    test(`${what}: exit 1, the module's reason and the field's path, no "OK"`, async () => {
      const { code, signal, stdout, stderr, file } = await validate(fullYaml({ ...ports, ...good, ...change }));
      assert.deepEqual({ code, signal }, { code: 1, signal: null }, stderr);
      assert.equal(stdout, '');
      assert.match(stderr, /\]\[error\]\[dynamic_modules\] \[envoy-ts\]/, 'the module logs why, at error');
      assert.match(stderr, moduleMessage);
      assert.ok(stderr.includes(`envoy-ts-host: error initializing configuration '${file}': ${hostMessage}`), stderr);
      assert.doesNotMatch(stderr, /listening on/);
    });
  }

  test('a YAML syntax error: exit 1 naming the file', async () => {
    const { code, stdout, stderr, file } = await validate('static_resources:\n  listeners: [\n');
    assert.equal(code, 1, stderr);
    assert.equal(stdout, '');
    assert.ok(stderr.includes(`error initializing configuration '${file}': unable to parse ${file}: `), stderr);
  });

  test('a config file that does not exist: exit 1 naming it', async () => {
    const { code, stdout, stderr, file } = await validate(null);
    assert.equal(code, 1, stderr);
    assert.equal(stdout, '');
    assert.ok(stderr.includes(`error initializing configuration '${file}': unable to parse ${file}: `), stderr);
  });

  test('a field the host does not support: exit 1 naming its path, no module loaded', async () => {
    const yaml = fullYaml({ ...ports, ...good }).replace('    filter_chains:', '    bogus_field: 1\n    filter_chains:');
    const { code, stdout, stderr } = await validate(yaml);
    assert.equal(code, 1, stderr);
    assert.equal(stdout, '');
    assert.match(stderr, /: static_resources\.listeners\[0\]\.bogus_field: field not supported/);
    assert.doesNotMatch(stderr, /Dynamic module/);
  });

  test('a STATIC cluster endpoint that is not an IP address is rejected, as Envoy does', async () => {
    const yaml = fullYaml({ ...ports, ...good }).replace(
      `{ address: 127.0.0.1, port_value: ${ports.upstreamPort} }`, `{ address: localhost, port_value: ${ports.upstreamPort} }`);
    const { code, stderr } = await validate(yaml);
    assert.equal(code, 1, stderr);
    assert.match(stderr, /static_resources\.clusters\[0\]\.load_assignment\.endpoints\[0\]\.lb_endpoints\[0\]\.endpoint\.address\.socket_address\.address: malformed IP address: localhost\. Consider setting resolver_name or setting cluster type to 'STRICT_DNS' or 'LOGICAL_DNS'/);
  });

  test('a listener address that is not an IP address is rejected, as Envoy does', async () => {
    const yaml = fullYaml({ ...ports, ...good }).replace(
      `{ address: 127.0.0.1, port_value: ${ports.listenPort} }`, `{ address: localhost, port_value: ${ports.listenPort} }`);
    const { code, stderr } = await validate(yaml);
    assert.equal(code, 1, stderr);
    assert.match(stderr, /static_resources\.listeners\[0\]\.address\.socket_address\.address: malformed IP address: localhost\n/);
  });

  test('a module that is not found: exit 1 naming the file', async () => {
    const yaml = fullYaml({ ...ports, ...good }).replace(
      /dynamic_module_config: \{ name: envoy_ts, do_not_close: true \}\n              filter_name/,
      'dynamic_module_config: { name: no_such_module }\n              filter_name');
    const { code, stdout, stderr } = await validate(yaml);
    assert.equal(code, 1, stderr);
    assert.equal(stdout, '');
    assert.match(stderr, /http_filters\[0\]: Failed to load dynamic module: .*libno_such_module\.so/);
  });

  test('--mode takes serve or validate; anything else is an error naming the flag', async () => {
    const { code, stdout, stderr } = await runHost('admin: {}\n', ['--mode', 'check']);
    assert.equal(code, 1);
    assert.equal(stdout, '');
    assert.equal(stderr, "envoy-ts-host: unknown mode 'check' for --mode (serve or validate)\n");
  });

  test('--mode serve is the default mode', async () => {
    // The same refusal as without --mode: serve mode binds, so the held port fails it.
    const yaml = fullYaml({ ...ports, ...good, dnsCluster: false });
    const explicit = await runHost(yaml, ['--mode', 'serve', '--concurrency', '1']);
    assert.equal(explicit.code, 1, explicit.stderr);
    assert.match(explicit.stderr, /cannot bind/);
  });

  test('a config_new returning NULL is refused the same way in both modes', async () => {
    // The per-route configs load envoy_ts before the chain loads config_new_null: both are found.
    const searchPath = path.join(dir, 'modules');
    mkdirSync(searchPath);
    symlinkSync(path.join(releaseDir, 'libenvoy_ts.so'), path.join(searchPath, 'libenvoy_ts.so'));
    symlinkSync(path.join(releaseDir, 'test-modules/libconfig_new_null.so'),
                path.join(searchPath, 'libconfig_new_null.so'));
    const yaml = fullYaml({ ...ports, ...good, dnsCluster: false }).replace(
      /dynamic_module_config: \{ name: envoy_ts, do_not_close: true \}\n              filter_name/,
      'dynamic_module_config: { name: config_new_null }\n              filter_name');
    // libenvoy_ts.so finds libnode relative to where it is ($ORIGIN, not resolving links): from
    // the links, through the library path.
    const env = { ENVOY_DYNAMIC_MODULES_SEARCH_PATH: searchPath, LD_LIBRARY_PATH: libnodeDir };
    const message = /error initializing configuration '[^']*': static_resources\.listeners\[0\]\.filter_chains\[0\]\.filters\[0\]\.typed_config\.http_filters\[0\]: dynamic module filter config rejected/;
    const served = await runHostToExit(yaml, { searchPath, env });
    assert.equal(served.code, 1, served.output);
    assert.match(served.output, message);
    const validated = await runHost(yaml, ['--mode', 'validate'], { env });
    assert.equal(validated.code, 1, validated.stderr);
    assert.equal(validated.stdout, '');
    assert.match(validated.stderr, message);
  });
});
