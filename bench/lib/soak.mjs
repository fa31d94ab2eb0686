// Part 5: leak check. Each HTTP example serves its main paths (e.g. allowed and refused) over real
// HTTP/1.1: a Node client → envoy-ts-host (one worker) → nginx, with the clusters the example calls
// (jwt-auth fetches its JWKS through one). After a warmup, two passes of `passRequests` each; after
// the warmup and after each pass the bench reads the worker's live JavaScript heap after full
// garbage collections (the heap-probe fixture, first in the chain, answers GET /__heap) and the
// host's RSS. A filter that keeps something per request grows the heap by the same amount in both
// passes; the probe alone (no example) is the host's and runtime's own floor.
import http from 'node:http';
import path from 'node:path';

import { newRsaKey, signJwt } from '../../test/support/jwt.mjs';
import { httpProxyYaml } from '../../test/support/proxy-config.mjs';
import { SHOP_PROTO_FILE, orderFrame } from '../../test/support/shop-orders.mjs';
import { launchHost, startUpstream, stopCleanly } from './http.mjs';
import { BenchFailure, examplesBundle, fixturesBundle, log, rssKiB } from './util.mjs';

// Concurrent requests in flight (one keep-alive connection each).
const LANES = 16;

// ---- what the examples are asked ----

const JSON_PATH = '/json';
const JWKS_PATH = '/keys';
const SECRET = 'abc-secret-token';

function jwtMaterial() {
  const issuer = newRsaKey('soak-key');
  const forger = newRsaKey('soak-key');  // same kid, another key: its signatures must not verify
  const claims = { iss: 'https://idp.soak', sub: 'soak-user', exp: Math.floor(Date.now() / 1000) + 24 * 3600 };
  return {
    jwks: JSON.stringify({ keys: [issuer.jwk] }),
    valid: signJwt(issuer, claims),
    forged: signJwt(forger, claims),
    expired: signJwt(issuer, { ...claims, exp: 1000 }),
  };
}

const GRPC_METHOD = '/shop.Orders/Create';
const CLEAN_ORDER = { customer_id: 'c-17', items: [{ sku: 'TEA', quantity: 2 }], amount_cents: 125_000, channel: 'WEB' };

// A check's verdict for an answer that is right but not the path the request is there for.
const TOLERATED = Symbol('tolerated');
const TOLERATED_SHARE = 0.05;

const get = (urlPath, headers = {}) => () => ({ method: 'GET', path: urlPath, headers });
const status = (code) => (res) => res.status === code || `status ${res.status}, expected ${code}`;

/** What the upstream (nginx) serves besides "ok": the JSON to redact, the JWKS, gRPC's answer. */
const upstreamRoutes = (jwt) => [
  { path: JSON_PATH, headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user: 'ann', token: SECRET, items: [1, 2, 3] }) },
  { path: JWKS_PATH, headers: { 'content-type': 'application/json' }, body: jwt.jwks },
  { path: GRPC_METHOD, headers: { 'content-type': 'application/grpc', 'grpc-status': '0' }, body: '' },
];

/**
 * Each example with the requests that take its main paths, sent in turn: `make()` builds one,
 * `check(res)` returns true or what is wrong. `config` is the chain's filter_config.
 */
function soakConfigs(jwt) {
  let newClient = 0;
  const grpcCall = (body) => () => ({ method: 'POST', path: GRPC_METHOD,
    headers: { 'content-type': 'application/grpc', te: 'trailers' }, body });
  const grpcStatus = (code) => (res) => (res.status === 200 && res.headers['grpc-status'] === code) ||
    `status ${res.status} grpc-status ${res.headers['grpc-status']}, expected 200 grpc-status ${code}`;
  const chain = (name, config, extra = {}) => ({ bundle: examplesBundle, chain: [{ name, config }], ...extra });
  return [
    { key: 'none', label: 'heap probe only (host and runtime)', config: null,
      requests: [{ make: get('/'), check: status(200) }] },
    { key: 'request-id', label: 'request-id', config: chain('request-id'),
      requests: [{ make: get('/'), check: (res) => (res.status === 200 && /^[0-9a-f-]{36}$/.test(res.headers['x-request-id'])) ||
                   `status ${res.status}, x-request-id ${res.headers['x-request-id']}: expected 200 and a generated id` },
                 { make: get('/', { 'x-request-id': 'soak-id' }), check: status(200) }] },
    { key: 'header-auth', label: 'header-auth (allowed, refused)',
      config: chain('header-auth', { tokens: ['soak-token'], prefix: 'Bearer ' }),
      requests: [{ make: get('/', { authorization: 'Bearer soak-token' }), check: status(200) },
                 { make: get('/'), check: status(401) }] },
    // A new client key per request (a new bucket, forgotten once full again) and one exhausted key,
    // which the refill lets through now and then (tolerated, up to TOLERATED_SHARE of its answers).
    { key: 'rate-limit', label: 'rate-limit (new keys allowed, one key limited)',
      config: chain('rate-limit', { ratePerSecond: 50, burst: 1, key: 'header:x-client' }),
      requests: [{ make: () => get('/', { 'x-client': `client-${newClient++}` })(), check: status(200) },
                 { make: get('/', { 'x-client': 'exhausted' }),
                   check: (res) => (res.status === 200 ? TOLERATED : status(429)(res)) }] },
    { key: 'async-delay', label: 'async-delay (ms 0: a timer per request)', config: chain('async-delay', { ms: 0 }),
      requests: [{ make: get('/'), check: status(200) }] },
    { key: 'body-rewrite', label: 'body-rewrite (a JSON response redacted)',
      config: chain('body-rewrite', { fields: ['token'] }),
      requests: [{ make: get(JSON_PATH),
                   check: (res) => (res.status === 200 && res.body.includes('"user"') && !res.body.includes(SECRET)) ||
                     `status ${res.status}, body ${res.body.slice(0, 80)}` }] },
    { key: 'jwt-auth', label: 'jwt-auth (valid, forged, expired; JWKS refetched every second)',
      config: chain('jwt-auth', { jwksUrl: `http://jwks${JWKS_PATH}`, cacheSeconds: 1 }, { offload: { threads: 1 } }),
      requests: [{ make: get('/', { authorization: `Bearer ${jwt.valid}` }), check: status(200) },
                 { make: get('/', { authorization: `Bearer ${jwt.forged}` }), check: status(401) },
                 { make: get('/', { authorization: `Bearer ${jwt.expired}` }), check: status(401) }] },
    { key: 'grpc-inspect', label: 'grpc-inspect (allowed, denied)',
      config: chain('grpc-inspect', {
        protoFile: path.relative(path.dirname(examplesBundle), SHOP_PROTO_FILE),
        methods: { [GRPC_METHOD]: { deny: [{ field: 'items.sku', in: ['BANNED'] }] } },
      }),
      requests: [{ make: grpcCall(orderFrame(CLEAN_ORDER)), check: grpcStatus('0') },
                 { make: grpcCall(orderFrame({ ...CLEAN_ORDER, items: [{ sku: 'BANNED' }] })), check: grpcStatus('7') }] },
  ];
}

// ---- the client ----

function send(agent, port, { method, path: urlPath, headers, body }) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: urlPath, headers, agent }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Sends `count` requests (the config's kinds in turn) over LANES keep-alive connections; fails on a wrong answer. */
async function drive(port, config, count, where) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: LANES });
  let next = 0;
  const wrong = [];
  const tolerated = config.requests.map(() => 0);
  const started = performance.now();
  const lane = async () => {
    for (let i = next++; i < count; i = next++) {
      const kindIndex = i % config.requests.length;
      const kind = config.requests[kindIndex];
      const verdict = kind.check(await send(agent, port, kind.make()));
      if (verdict === TOLERATED) tolerated[kindIndex]++;
      else if (verdict !== true && wrong.push(`request ${i}: ${verdict}`) >= 3) break;
    }
  };
  try {
    await Promise.all(Array.from({ length: LANES }, lane));
  } finally {
    agent.destroy();
  }
  const perKind = count / config.requests.length;
  tolerated.forEach((n, kindIndex) => {
    if (n > perKind * TOLERATED_SHARE) wrong.push(`request kind ${kindIndex}: ${n} of ${perKind} answers off its path`);
  });
  if (wrong.length > 0) throw new BenchFailure(`${where}: wrong answers:\n${wrong.join('\n')}`);
  return (performance.now() - started) / 1000;
}

/**
 * In KiB: the worker's live JavaScript heap after full collections (heap-probe: V8's used heap
 * plus memory held by JS objects outside it), what the process has allocated (admin /memory:
 * tcmalloc, like Envoy's; it includes V8's own mallocs) and its RSS.
 */
async function probe(host, where) {
  const res = await send(false, host.port, get('/__heap')());
  if (res.status !== 200) throw new BenchFailure(`${where}: the heap probe answered ${res.status}: ${res.body}`);
  const heap = JSON.parse(res.body);
  const memory = await send(false, host.adminPort, get('/memory')());
  if (memory.status !== 200) throw new BenchFailure(`${where}: admin /memory answered ${memory.status}: ${memory.body}`);
  return { heap_kib: (heap.usedHeapBytes + heap.externalBytes) / 1024,
           allocated_kib: Number(JSON.parse(memory.body).allocated) / 1024, rss_kib: rssKiB(host.pid) };
}

// ---- the passes ----

function hostYaml(config, upstreamPort) {
  const filter = (bundleConfig) => ({ module: 'envoy_ts', filterName: 'chain', config: JSON.stringify(bundleConfig) });
  const filters = [filter({ bundle: fixturesBundle, chain: [{ name: 'heap-probe' }] })];
  if (config.config !== null) filters.push(filter(config.config));
  return ({ listenPort, adminPort }) => httpProxyYaml({ listenPort, adminPort, upstreamPort, filters,
    extraClusters: [{ name: 'jwks', port: upstreamPort }] });
}

async function soakOne(config, upstream, { warmupRequests, passRequests }) {
  const host = await launchHost(`soak ${config.key}`, hostYaml(config, upstream.port), 1);
  const where = `soak ${config.key}`;
  try {
    await probe(host, where);  // its own first use (e.g. of Response) is not the filter's
    await drive(host.port, config, warmupRequests, `${where} (warmup)`);
    const points = [await probe(host, where)];
    const seconds = [];
    for (let pass = 0; pass < 2; pass++) {
      seconds.push(await drive(host.port, config, passRequests, `${where} (pass ${pass + 1})`));
      points.push(await probe(host, where));
    }
    await stopCleanly(host, where);
    const perPass = (field) => [1, 2].map((p) => (points[p][field] - points[p - 1][field]) * 1e5 / passRequests);
    return { label: config.label, points, seconds, growth_kib_per_1e5: {
      heap: perPass('heap_kib'), allocated: perPass('allocated_kib'), rss: perPass('rss_kib') } };
  } finally {
    await host.stop();
  }
}

/**
 * Returns { warmup_requests, pass_requests, lanes, configs }: per example its label, the three
 * probes ({ heap_kib, allocated_kib, rss_kib }), each pass's seconds, and growth_kib_per_1e5
 * ({ heap, allocated, rss }: each pass's growth scaled to 10⁵ requests).
 */
export async function soakBench(settings) {
  const configs = {};
  const jwt = jwtMaterial();
  const upstream = await startUpstream({ routes: upstreamRoutes(jwt) });
  try {
    for (const config of soakConfigs(jwt).filter((c) => !settings.only || settings.only.includes(c.key))) {
      const result = await soakOne(config, upstream, settings);
      configs[config.key] = result;
      const series = (field, digits) => result.points.map((p) => (p[field] / 1024).toFixed(digits)).join(' → ');
      log(`soak ${config.key}: heap ${series('heap_kib', 2)} MiB, allocated ${series('allocated_kib', 2)} MiB, ` +
          `RSS ${series('rss_kib', 1)} MiB (passes ${result.seconds.map((s) => s.toFixed(1)).join(', ')} s)`);
    }
  } finally {
    await upstream.stop();
  }
  return { warmup_requests: settings.warmupRequests, pass_requests: settings.passRequests, lanes: LANES, configs };
}
