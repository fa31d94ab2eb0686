// --script mode with the real module (libenvoy_ts.so) and the built filter bundles: each stream goes
// through module loading, the worker dispatcher, the filter manager and the schedulers, without
// sockets. What the router and the client would see is checked, header by header.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { before, describe, test } from 'node:test';

import { listenLoopback } from '../../support/servers.mjs';
import { examplesBundle, fixturesBundle, hostBin, moduleSo, runScript, runScriptAsync } from './helpers.mjs';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** A JSON object from [key, value] pairs, written by hand so that a key may repeat. */
function headersJson(pairs) {
  return `{${pairs.map(([key, value]) => `${JSON.stringify(key)}: ${JSON.stringify(value)}`).join(', ')}}`;
}

/**
 * Runs one scenario: one envoy_ts filter (`chain`, `failurePolicy`) over `requests` (lists of
 * [key, value] pairs), the upstream answering `upstream` (pairs) with body "ok", after `warmup`
 * unmeasured passes. Returns the host's parsed output ({results, timing, peak_rss_kib}).
 */
function scenario({ bundle = examplesBundle, chain, failurePolicy = 'closed', requests, upstream, warmup = 0 }) {
  const config = JSON.stringify({ bundle, chain, failurePolicy });
  const text = `{
  "filters": [ { "module": "envoy_ts", "filter_name": "chain", "config": ${JSON.stringify(config)} } ],
  "upstream_response": { "headers": ${headersJson(upstream ?? [[':status', '200'], ['content-type', 'text/plain']])},
                         "body": "ok" },
  "requests": [ ${requests.map((headers) => `{ "headers": ${headersJson(headers)} }`).join(',\n    ')} ],
  "warmup": ${warmup}
}`;
  // --concurrency 1: the module prepares one Node environment per worker, and a script uses one.
  const run = runScript(text, { args: ['--concurrency', '1'] });
  assert.equal(run.code, 0, `the host failed (signal ${run.signal}):\n${run.stderr}`);
  const output = JSON.parse(run.stdout);
  assert.equal(output.results.length, requests.length, run.stdout);
  return output;
}

const get = (path, ...extra) => [[':method', 'GET'], [':path', path], [':authority', 'example.com'], ...extra];
const values = (headers, key) => (headers ?? []).filter(([k]) => k === key).map(([, v]) => v);

describe('scripted streams through libenvoy_ts.so', () => {
  before(() => {
    for (const file of [moduleSo, examplesBundle, fixturesBundle]) {
      assert.ok(existsSync(file), `${file} is missing (run npm run build)`);
    }
  });

  test('request-id: a new uuid v4 goes upstream and comes back; a client id is kept', () => {
    const { results } = scenario({
      chain: [{ name: 'request-id' }],
      requests: [get('/one'), get('/two'), get('/three', ['x-request-id', 'client-id-7'])],
    });
    const generated = results.slice(0, 2).map((r) => {
      assert.equal(r.local_reply, false);
      const [id, ...more] = values(r.upstream_request_headers, 'x-request-id');
      assert.deepEqual(more, []);
      assert.match(id, UUID_V4);
      assert.deepEqual(values(r.response_headers, 'x-request-id'), [id]);
      assert.deepEqual(values(r.response_headers, ':status'), ['200']);
      assert.equal(r.response_body, 'ok');
      return id;
    });
    assert.notEqual(generated[0], generated[1], 'each stream gets its own id');
    assert.deepEqual(values(results[2].upstream_request_headers, 'x-request-id'), ['client-id-7']);
    assert.deepEqual(values(results[2].response_headers, 'x-request-id'), ['client-id-7']);
  });

  test('the filter chain keeps the pseudo-headers :method, :path and :authority, first', () => {
    const { results } = scenario({
      chain: [{ name: 'request-id' }],
      requests: [[[':method', 'POST'], [':path', '/a/b?c=1&d=2'], [':authority', 'api.example.com:8080'],
                  ['content-type', 'text/plain']]],
    });
    const upstream = results[0].upstream_request_headers;
    assert.deepEqual(upstream.slice(0, 3), [[':method', 'POST'], [':path', '/a/b?c=1&d=2'],
                                            [':authority', 'api.example.com:8080']]);
    assert.deepEqual(values(upstream, 'content-type'), ['text/plain']);
  });

  test('header-auth: the 401 local reply goes through the encoder chain; a valid token passes', () => {
    const { results: [denied, allowed] } = scenario({
      chain: [{ name: 'request-id' }, { name: 'header-auth', config: { tokens: ['s3cret'], prefix: 'Bearer ' } }],
      requests: [get('/private', ['x-request-id', 'rid-401']),
                 get('/private', ['x-request-id', 'rid-200'], ['authorization', 'Bearer s3cret'])],
    });
    assert.equal(denied.local_reply, true);
    assert.equal(denied.upstream_request_headers, null, 'a denied request never reaches the router');
    assert.deepEqual(values(denied.response_headers, ':status'), ['401']);
    assert.deepEqual(values(denied.response_headers, 'www-authenticate'), ['Bearer realm="envoy-ts"']);
    // request-id's onResponseHeaders ran on the local reply: it went through the encoder chain.
    assert.deepEqual(values(denied.response_headers, 'x-request-id'), ['rid-401']);
    assert.equal(denied.response_body, 'unauthorized');

    assert.equal(allowed.local_reply, false);
    assert.deepEqual(values(allowed.upstream_request_headers, 'authorization'), ['Bearer s3cret']);
    assert.deepEqual(values(allowed.response_headers, ':status'), ['200']);
    assert.deepEqual(values(allowed.response_headers, 'x-request-id'), ['rid-200']);
  });

  test('async-delay: the stream resumes after the timer, through the scheduler, without sockets', () => {
    const { results: [r], timing, peak_rss_kib: peakRss } = scenario({
      chain: [{ name: 'async-delay', config: { ms: 5 } }],
      requests: [get('/slow')],
      warmup: 1, // the measured pass starts with the worker's Node environment ready
    });
    assert.deepEqual(values(r.upstream_request_headers, 'x-async-delay-ms'), ['5']);
    assert.equal(r.local_reply, false);
    assert.equal(r.response_body, 'ok');
    // libuv keeps time in whole milliseconds, so a 5 ms timer may fire up to 1 ms early.
    assert.ok(timing.total_ns >= 4e6, `the stream did not wait for the timer (${timing.total_ns} ns)`);
    // The host's own peak RSS (what the bench's leak check compares): at least the embedded Node.
    assert.ok(peakRss > 20 * 1024 && peakRss < 4 * 1024 * 1024, `peak_rss_kib ${peakRss}`);
  });

  test('set replaces every value of a multi-valued header; other repeated headers stay', () => {
    const { results: [r] } = scenario({
      chain: [{ name: 'request-id' }, { name: 'async-delay', config: { ms: 0 } }],
      requests: [get('/multi', ['x-async-delay-ms', '1'], ['x-async-delay-ms', '2'],
                     ['x-other', 'a'], ['x-other', 'b'])],
      upstream: [[':status', '200'], ['x-request-id', 'upstream-1'], ['x-request-id', 'upstream-2']],
    });
    assert.deepEqual(values(r.upstream_request_headers, 'x-async-delay-ms'), ['0']);
    assert.deepEqual(values(r.upstream_request_headers, 'x-other'), ['a', 'b']);
    // request-id sets the response's x-request-id to the request's, over both upstream values.
    const [id] = values(r.upstream_request_headers, 'x-request-id');
    assert.match(id, UUID_V4);
    assert.deepEqual(values(r.response_headers, 'x-request-id'), [id]);
  });

  for (const fixture of ['throws', 'rejects']) {
    test(`${fixture} under failurePolicy "closed" answers a 500 local reply`, () => {
      const { results: [r] } = scenario({ bundle: fixturesBundle, chain: [{ name: fixture }],
                                          failurePolicy: 'closed', requests: [get('/')] });
      assert.equal(r.local_reply, true);
      assert.equal(r.upstream_request_headers, null);
      assert.deepEqual(values(r.response_headers, ':status'), ['500']);
    });

    test(`${fixture} under failurePolicy "open" lets the request through`, () => {
      const { results: [r] } = scenario({ bundle: fixturesBundle, chain: [{ name: fixture }],
                                          failurePolicy: 'open', requests: [get('/')] });
      assert.equal(r.local_reply, false);
      assert.deepEqual(r.upstream_request_headers, get('/'));
      assert.deepEqual(values(r.response_headers, ':status'), ['200']);
      assert.equal(r.response_body, 'ok');
    });
  }

  test('reply-after-await: a local reply sent after an await ends the stream with 403', () => {
    const { results: [r] } = scenario({ bundle: fixturesBundle, chain: [{ name: 'reply-after-await' }],
                                        requests: [get('/')] });
    assert.equal(r.local_reply, true);
    assert.equal(r.upstream_request_headers, null);
    assert.deepEqual(values(r.response_headers, ':status'), ['403']);
    assert.equal(r.response_body, 'forbidden');
  });

  test("a scenario's clusters serve filter callouts: ctx.fetch reaches a real server, the streams go on", async () => {
    const seen = [];
    const server = await listenLoopback(http.createServer((req, res) => {
      seen.push(`${req.method} ${req.url} ${req.headers.host}`);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"allow":true}');
    }));
    try {
      const run = await runScriptAsync(JSON.stringify({
        filters: [{ module: 'envoy_ts', filter_name: 'chain',
                    config: JSON.stringify({ bundle: fixturesBundle, chain: [{ name: 'fetch-json' }] }) }],
        clusters: [decisionCluster(server.port)],
        requests: [{ headers: { ':method': 'GET', ':path': '/', ':authority': 'example.com' } }],
        repeat: 3,
      }), { args: ['--concurrency', '1'] });
      assert.equal(run.code, 0, run.stderr);
      // fetch-json marks the stream once it read {"allow":true}: the response carries x-resumed.
      assert.deepEqual(values(run.results[0].response_headers, 'x-resumed'), ['1']);
      assert.deepEqual(seen, Array(3).fill('GET /decision decision'));
    } finally {
      await server.close();
    }
  });

  test('a cluster the host cannot honour fails the scenario, naming it', () => {
    const run = runScript(JSON.stringify({ filters: [], clusters: [{ name: 'decision' }],
                                           requests: [{ headers: Object.fromEntries(get('/')) }] }));
    assert.equal(run.code, 1);
    assert.match(run.stderr, /clusters\[0\].*load_assignment/);
  });
});

/** Envoy's static_resources.clusters entry for cluster `decision` on 127.0.0.1:`port`. */
function decisionCluster(port) {
  return {
    name: 'decision',
    load_assignment: { cluster_name: 'decision', endpoints: [{ lb_endpoints: [{ endpoint: { address: {
      socket_address: { address: '127.0.0.1', port_value: port } } } }] }] },
  };
}

describe('scripted streams under callgrind', () => {
  const valgrind = '/usr/bin/valgrind';

  /** The instructions callgrind counts over a host-only scenario (no module: a fast run). */
  function counted(warmup, repeat) {
    const dir = mkdtempSync(path.join(tmpdir(), 'envoy-ts-host-callgrind-'));
    try {
      const scenario = path.join(dir, 'scenario.json');
      writeFileSync(scenario, JSON.stringify({ filters: [], requests: [{ headers: Object.fromEntries(get('/')) }],
                                               warmup, repeat }));
      const out = path.join(dir, 'callgrind.out');
      const run = spawnSync(valgrind, ['--tool=callgrind', '--instr-atstart=no', `--callgrind-out-file=${out}`,
                                       hostBin, '--script', scenario], { encoding: 'utf8', timeout: 120000 });
      assert.equal(run.status, 0, run.stderr);
      return Number(/^totals:\s+(\d+)/m.exec(readFileSync(out, 'utf8'))?.[1]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  test('callgrind counts the measured streams only: not the start-up, the warmup or the exit', (t) => {
    if (!existsSync(valgrind)) {
      t.skip('valgrind is not installed');
      return;
    }
    const measured = counted(0, 200);
    assert.ok(measured > 200 * 1000, `a stream takes thousands of instructions (counted ${measured})`);
    // 2,000 streams of warmup more change the count by far less than one stream's worth each.
    const afterWarmup = counted(2000, 200);
    assert.ok(Math.abs(afterWarmup - measured) < measured / 4, `${afterWarmup} vs ${measured}`);
    const twice = counted(0, 400);
    assert.ok(Math.abs(twice - 2 * measured) < measured / 4, `${twice} vs 2 × ${measured}`);
  });
});
