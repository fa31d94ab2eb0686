// The HTTP stream-info callbacks (clear_route_cache, attributes, dynamic metadata, filter state,
// labelled metrics) with Envoy's semantics, proven through real HTTP with the tiny C module
// test/host/modules/http_stream_info.c, which copies what it reads into response headers.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  freePort, histogramQuantiles, request, startHostWithYaml, statsWhen, testModulesDir,
} from './helpers.mjs';
import { httpProxyYaml } from '../../support/proxy-config.mjs';
import { listenLoopback } from '../../support/servers.mjs';

const searchPath = testModulesDir;
const module = 'http_stream_info';

/** An upstream answering `<label> saw <method> <path>`. */
async function startUpstream(label) {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`${label} saw ${req.method} ${req.url}`);
    });
  });
  return listenLoopback(server);
}

/**
 * envoy.yaml: one module filter (its config selects the :path behaviour), three routes: "route-b"
 * (/b, to cluster "b"), an unnamed one (/unnamed) and "route-root" (/), both to cluster "upstream"
 * (the root upstream).
 */
function yaml({ listenPort, adminPort, rootPort, bPort, config }) {
  return httpProxyYaml({
    listenPort, adminPort, upstreamPort: rootPort, extraClusters: [{ name: 'b', port: bPort }],
    filters: [
      { name: 'stream_info', module, filterName: 'stream_info', config, doNotClose: false },
    ],
    routes: [
      { name: 'route-b', prefix: '/b', cluster: 'b' },
      { prefix: '/unnamed' },
      { name: 'route-root', prefix: '/' },
    ],
  });
}

async function startHost(config, upstreams) {
  const listenPort = await freePort();
  const adminPort = await freePort();
  return startHostWithYaml(
    yaml({ listenPort, adminPort, rootPort: upstreams.root.port, bPort: upstreams.b.port, config }),
    { listenPort, adminPort, searchPath });
}

/** One request on a fresh connection; also resolves the client's local port. */
function get(port, urlPath, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: urlPath, headers, agent: false },
      (res) => {
        const localPort = res.socket.localPort;
        const chunks = [];
        res.on('data', (chunk) => chunks.push(chunk));
        res.on('end', () => resolve({
          status: res.statusCode, headers: res.headers, localPort,
          body: Buffer.concat(chunks).toString('utf8'),
        }));
      });
    req.on('error', reject);
    req.end();
  });
}

/** "a=1;b=2;" → { a: '1', b: '2' } */
function fields(text) {
  return Object.fromEntries(text.split(';').filter(Boolean).map((kv) => {
    const at = kv.indexOf('=');
    return [kv.slice(0, at), kv.slice(at + 1)];
  }));
}

describe('HTTP stream info: routing, attributes, metadata, filter state, labelled metrics', () => {
  const upstreams = {};
  let host;

  before(async () => {
    assert.ok(existsSync(path.join(testModulesDir, `lib${module}.so`)),
              `lib${module}.so is not built (run npm run build)`);
    upstreams.root = await startUpstream('root');
    upstreams.b = await startUpstream('b');
  });

  after(async () => {
    await host?.stop();
    await upstreams.root?.close();
    await upstreams.b?.close();
  });

  test('clear_route_cache: a rewritten :path picks its route again (route-b for /b)', async () => {
    host = await startHost('rewrite-clear', upstreams);
    const response = await get(host.port, '/a/x?q=1');
    assert.equal(response.status, 200);
    assert.equal(response.body, 'b saw GET /b/x?q=1');
    assert.equal(response.headers['x-route-name'], 'route-b');
    await host.stop();
    host = null;
  });

  test('without clear_route_cache the route picked before the filters stays (Envoy caches it)',
       async () => {
    host = await startHost('rewrite', upstreams);
    const response = await get(host.port, '/a/x');
    assert.equal(response.body, 'root saw GET /b/x');
    assert.equal(response.headers['x-route-name'], 'route-root');
    // An unnamed route: Envoy's xds.route_name is the empty string.
    const unnamed = await get(host.port, '/unnamed');
    assert.equal(unnamed.body, 'root saw GET /unnamed');
    assert.equal(unnamed.headers['x-route-name'], '');
    await host.stop();
    host = null;
  });

  test('attributes, dynamic metadata and filter state of each stream', async () => {
    host = await startHost('keep', upstreams);
    const first = await get(host.port, '/c', { 'x-request-id': 'req-123' });
    assert.equal(first.body, 'root saw GET /c');
    const attrs = fields(first.headers['x-attrs']);
    assert.deepEqual(attrs, {
      'request-id': 'req-123',
      protocol: 'HTTP/1.1',
      source: `127.0.0.1:${first.localPort}`,
      destination: `127.0.0.1:${host.port}`,
      sni: '<none>',
      'tls-version': '<none>',
      'source-port-as-string': '<none>',
      unknown: '<none>',
      'source-port': String(first.localPort),
      'destination-port': String(host.port),
      'connection-id': attrs['connection-id'],
      mtls: 'false',
    });
    assert.match(attrs['connection-id'], /^[1-9]\d*$/);
    assert.deepEqual(fields(first.headers['x-md']), {
      s: 'hello', n: '42.5', b: 'true', replaced: '7', 's-as-number': '0', 'n-as-bool': '0',
      'missing-key': '0', 'missing-ns': '0', source1: '0', source2: '0', source3: '0',
      source4: '0',
    });
    assert.equal(first.headers['x-fs'], 'v1');
    const results = fields(first.headers['x-results']);
    // Setting the same (read-only) filter state twice fails; nothing leaks between streams.
    assert.equal(results.fs, '1,0');
    assert.equal(results.stale, '0,0');

    // Another connection: another id; no x-request-id: the connection manager generated one
    // (a UUID v4) before the filters ran, and request.id reads it.
    const second = await get(host.port, '/c');
    const attrs2 = fields(second.headers['x-attrs']);
    assert.match(attrs2['request-id'],
                 /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.notEqual(attrs2['connection-id'], attrs['connection-id']);
    assert.equal(fields(second.headers['x-results']).stale, '0,0');

    // HTTP/1.0 is request.protocol "HTTP/1.0".
    const raw = await new Promise((resolve, reject) => {
      const socket = net.connect(host.port, '127.0.0.1', () => {
        socket.write('GET /c HTTP/1.0\r\nhost: x\r\n\r\n');
      });
      let data = '';
      socket.on('data', (chunk) => { data += chunk; });
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
    });
    assert.match(raw, /^x-attrs: .*protocol=HTTP\/1\.0;/m);
    assert.match(host.output, /http_stream_info: request-id=req-123;protocol=HTTP\/1\.1;/);
    await host.stop();
    host = null;
  });

  test('metrics: labelled names, Frozen after config_new, InvalidLabels, MetricNotFound',
       async () => {
    host = await startHost('keep', upstreams);
    const response = await get(host.port, '/abc');
    assert.deepEqual(fields(response.headers['x-results']), {
      define: '0', inc: '0', plain: '0', gauge: '0,0', hist: '0', invalid: '2', not_found: '1',
      labelled_not_found: '1', frozen: '3', stale: '0,0', fs: '1,0',
    });
    await get(host.port, '/abcdef');
    await new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: host.port, method: 'POST', path: '/p',
                                 agent: false }, (res) => { res.resume(); res.on('end', resolve); });
      req.on('error', reject);
      req.end('x');
    });
    // The histogram shows in /stats once a stats flush (every 0.1 s here) merged all three
    // path lengths (2, 4 and 7).
    const histogram = 'dynamicmodulescustom.path_length.kind.path';
    const merged = await statsWhen(host.adminPort, (body) =>
      histogramQuantiles(body, histogram)?.cumulative === '2 2 4 7 7 7 7 7 7 7',
    '?filter=dynamicmodulescustom');
    const lines = merged.trim().split('\n');
    assert.deepEqual(lines.slice(0, 4), [
      'dynamicmodulescustom.inflight: 9',
      'dynamicmodulescustom.plain: 6',
      'dynamicmodulescustom.requests.method.GET: 2',
      'dynamicmodulescustom.requests.method.POST: 1',
    ]);
    assert.match(lines[4], /^dynamicmodulescustom\.path_length\.kind\.path: P0\(/);
    assert.equal(lines.length, 5);
    await host.stop();
    host = null;
  });
});
