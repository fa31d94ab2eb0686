// Per-route config (typed_per_filter_config with DynamicModuleFilterPerRoute) with Envoy's
// semantics, proven through real HTTP with test/host/modules/per_route_config.c, which copies the
// most specific per-route config of each stream into request headers that the upstream echoes.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';

import { freePort, request, runHostToExit, startHostWithYaml, testModulesDir } from './helpers.mjs';
import { httpProxyYaml } from '../../support/proxy-config.mjs';
import { listenLoopback } from '../../support/servers.mjs';

const searchPath = testModulesDir;

/** An upstream answering with the JSON of the request's path and x-* headers. */
async function startEchoUpstream() {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const headers = Object.fromEntries(
        Object.entries(req.headers).filter(([key]) => key.startsWith('x-')));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ path: req.url, headers }));
    });
  });
  return listenLoopback(server);
}

/** A per-route config of `module` (see httpProxyYaml's `perRoute`) named `perRouteConfigName`. */
function perRoute(perRouteConfigName, config, module = 'per_route_config') {
  return { module, perRouteConfigName, config, doNotClose: false };
}

/**
 * Two module filters, "pr" (header x-pr, rewrites /a to /b and clears the route cache) and
 * "other" (header x-other). Virtual host "all": a config for "pr"; routes /with (configs for
 * "pr", "other" and a name that is no filter of the chain), /a (config for "pr"), /b (config for
 * "other"), / (none). Virtual host "bare" (bare.test): no per-route configs at all.
 * `overrides.vhPr` / `overrides.withPr` replace the "pr" entry of "all" / of /with.
 */
function yaml({ listenPort, adminPort, upstreamPort, overrides = {} }) {
  const vhPr = overrides.vhPr ?? perRoute('vh', 'vh-pr');
  const withPr = overrides.withPr ?? perRoute('route', 'with-pr');
  const filter = (name, config) =>
    ({ name, module: 'per_route_config', filterName: name, config, doNotClose: false });
  return httpProxyYaml({
    listenPort, adminPort, upstreamPort,
    filters: [filter('pr', 'x-pr,rewrite'), filter('other', 'x-other')],
    virtualHosts: [
      { name: 'bare', domains: ['bare.test'], routes: [{ prefix: '/' }] },
      { name: 'all', perRoute: { pr: vhPr }, routes: [
        { prefix: '/with', perRoute: { pr: withPr, other: perRoute('route', 'with-other'),
                                       not_a_filter_of_this_chain: perRoute('unused', 'unused') } },
        { prefix: '/a', perRoute: { pr: perRoute('route', 'a-pr') } },
        { prefix: '/b', perRoute: { other: perRoute('route', 'b-other') } },
        { prefix: '/' },
      ] },
    ],
  });
}

async function echoed(port, urlPath, headers = {}) {
  const res = await request(port, { path: urlPath, headers });
  assert.equal(res.status, 200, res.body);
  return JSON.parse(res.body);
}

describe('per-route config (typed_per_filter_config)', () => {
  let upstream;
  let host;
  before(async () => {
    upstream = await startEchoUpstream();
    const listenPort = await freePort();
    const adminPort = await freePort();
    host = await startHostWithYaml(
      yaml({ listenPort, adminPort, upstreamPort: upstream.port }),
      { listenPort, adminPort, searchPath });
  });
  after(async () => {
    await host?.stop();
    await upstream?.close();
  });

  test('per_route_config_new ran at config time for every entry, names and bytes passed', () => {
    for (const line of ['per_route_config_new vh:vh-pr', 'per_route_config_new route:with-pr',
                        'per_route_config_new route:with-other', 'per_route_config_new unused:unused',
                        'per_route_config_new route:a-pr', 'per_route_config_new route:b-other']) {
      assert.ok(host.output.includes(line), `${line} missing in:\n${host.output}`);
    }
    // Envoy builds the route configuration before the http filters' configs.
    assert.ok(host.output.indexOf('per_route_config_new') < host.output.indexOf('config_new x-pr'),
              host.output);
  });

  test("the route's own entry for this filter wins over the virtual host's", async () => {
    const { headers } = await echoed(host.port, '/with');
    assert.equal(headers['x-pr'], 'route:with-pr');
    assert.equal(headers['x-other'], 'route:with-other');
  });

  test("a route without an entry for the filter falls back to the virtual host's, else NULL",
       async () => {
    const { headers } = await echoed(host.port, '/plain');
    assert.equal(headers['x-pr'], 'vh:vh-pr');
    assert.equal(headers['x-other'], 'none');
  });

  test('a virtual host without per-route configs gives NULL', async () => {
    const { headers } = await echoed(host.port, '/with', { host: 'bare.test' });
    assert.equal(headers['x-pr'], 'none');
    assert.equal(headers['x-other'], 'none');
  });

  test('after clear_route_cache the config comes from the route picked again', async () => {
    const { path, headers } = await echoed(host.port, '/a1');
    assert.equal(path, '/b1');
    assert.equal(headers['x-pr-before'], 'route:a-pr'); // route /a
    assert.equal(headers['x-pr'], 'vh:vh-pr');          // route /b has none for "pr"
    assert.equal(headers['x-other'], 'route:b-other');  // the later filter sees route /b
  });

  test('per_route_config_destroy runs once per config at shutdown, before config_destroy',
       async () => {
    const exited = await host.stop();
    assert.equal(exited.code, 0, host.output);
    const destroys = host.output.split('\n').filter((l) => l.includes('per_route_config_destroy'));
    assert.deepEqual(destroys.map((l) => l.replace(/.*per_route_config_destroy /, '')).sort(),
                     ['route:a-pr', 'route:b-other', 'route:with-other', 'route:with-pr',
                      'unused:unused', 'vh:vh-pr']);
    const lastPerRoute = host.output.lastIndexOf('per_route_config_destroy');
    const firstConfig = host.output.indexOf('per_route_config module: config_destroy');
    assert.ok(firstConfig > lastPerRoute, host.output);
    host = null;
  });
});

describe('per-route config errors', () => {
  async function refuse(overrides) {
    const listenPort = await freePort();
    const adminPort = await freePort();
    return runHostToExit(yaml({ listenPort, adminPort, upstreamPort: 9, overrides }),
                         { searchPath });
  }
  const routePath = 'static_resources.listeners[0].filter_chains[0].filters[0].typed_config.' +
    'route_config.virtual_hosts[1].routes[0].typed_per_filter_config.pr';

  test('a NULL per_route_config_new rejects the configuration (exit 1, naming the path)',
       async () => {
    const { code, output } = await refuse({ withPr: perRoute('route', 'reject') });
    assert.equal(code, 1, output);
    assert.ok(output.includes(`${routePath}: Failed to initialize per-route dynamic module`),
              output);
    // The configs created before the failure are destroyed again; no filter config was created.
    assert.match(output, /per_route_config_destroy vh:vh-pr/);
    assert.doesNotMatch(output, /config_new x-pr/);
  });

  test('a module without the per-route hooks is refused, naming the missing hook', async () => {
    const { code, output } = await refuse({ vhPr: perRoute('vh', 'x', 'http_stream_info') });
    assert.equal(code, 1, output);
    assert.ok(output.includes('static_resources.listeners[0].filter_chains[0].filters[0].' +
      'typed_config.route_config.virtual_hosts[1].typed_per_filter_config.pr: Failed to resolve ' +
      'symbol envoy_dynamic_module_on_http_filter_per_route_config_new'), output);
  });

  test('another type of per-filter config is refused with its path', async () => {
    const { code, output } = await refuse(
      { withPr: { type: 'type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy' } });
    assert.equal(code, 1, output);
    assert.ok(output.includes(`${routePath}.@type: unsupported`), output);
  });
});
