// HTTP/1.1 trailers with Envoy's semantics: they go through only where the HTTP/1 codec has
// `enable_trailers` (Http1ProtocolOptions, off by default). Downstream it is the connection
// manager's http_protocol_options: off, the trailers of a chunked request are ignored (the filters
// get the request ending with its body) and response trailers are not written (the chunked body
// just ends). Upstream it is each cluster's HttpProtocolOptions (explicit_http_config): off, the
// router and callout streams do not write request trailers and ignore response trailers. What
// reaches the filters is recorded by the tiny C module test/host/modules/trailers_record.c.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';

import { freePort, runHostToExit, startHost, testModulesDir } from './helpers.mjs';
import { httpProxyYaml } from '../../support/proxy-config.mjs';
import { listenLoopback } from '../../support/servers.mjs';

const searchPath = testModulesDir;

/**
 * The upstream: keeps each request it got as { body, trailers, te } in `seen` and answers 200,
 * chunked, with the JSON of it as the body and the response trailer x-up-trailer: done.
 */
async function startTrailersUpstream() {
  const seen = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => { body += chunk; });
    req.on('end', () => {
      const entry = { body, trailers: req.trailers, te: req.headers['transfer-encoding'] ?? null };
      seen.push(entry);
      res.writeHead(200, { 'content-type': 'application/json', trailer: 'x-up-trailer' });
      res.write(JSON.stringify(entry));
      res.addTrailers({ 'x-up-trailer': 'done' });
      res.end();
    });
  });
  return { ...(await listenLoopback(server)), seen };
}

/**
 * A chunked POST with the body `ping` and the request trailer x-req-trailer: 1; resolves with
 * {status, body, trailers} once the response ended (a chunked body that never ends times out).
 */
function postWithTrailers(port) {
  return new Promise((resolve, reject) => {
    const options = { host: '127.0.0.1', port, method: 'POST', path: '/', agent: false,
                      headers: { 'transfer-encoding': 'chunked', trailer: 'x-req-trailer' } };
    const req = http.request(options, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => { body += chunk; });
      res.on('end', () => resolve({ status: res.statusCode, body, trailers: res.trailers }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error('request timed out')));
    req.write('ping');
    req.addTrailers({ 'x-req-trailer': '1' });
    req.end();
  });
}

/** The trailers_record lines the host logged so far. */
const recordLines = (host) =>
  host.output.split('\n').filter((line) => line.includes('trailers_record record: '));

/** The trailers_record line of the next stream: { request: [tokens], response: [tokens] }. */
async function nextRecord(host, previousCount) {
  const deadline = Date.now() + 5000;
  while (true) {
    const lines = recordLines(host);
    if (lines.length > previousCount) {
      const match = /request (.*) \| response (.*)$/.exec(lines[previousCount]);
      return { request: match[1].split(' '), response: match[2].split(' ') };
    }
    if (Date.now() > deadline) throw new Error(`no trailers_record line:\n${host.output}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** One POST with trailers through a host with the given enable_trailers options. */
async function exchange(upstream, { downstreamEnableTrailers, upstreamEnableTrailers }) {
  const host = await startHost({
    upstreamPort: upstream.port, searchPath, downstreamEnableTrailers, upstreamEnableTrailers,
    filters: [{ module: 'trailers_record', filterName: 'record' }],
  });
  try {
    const count = recordLines(host).length;
    const res = await postWithTrailers(host.port);
    const record = await nextRecord(host, count);
    return { res, record, seen: upstream.seen.at(-1) };
  } finally {
    await host.stop();
  }
}

/** The direction had no trailers hook and ended with a body hook (end_of_stream). */
function assertEndsWithBody(tokens) {
  assert.ok(!tokens.some((token) => token.startsWith('T:')), tokens.join(' '));
  assert.match(tokens.at(-1), /^D1:\d+$/, tokens.join(' '));
}
const UPSTREAM_BODY = JSON.stringify({ body: 'ping', trailers: {}, te: 'chunked' });

describe('HTTP/1.1 trailers: enable_trailers of the connection manager and of the cluster', () => {
  let upstream;
  before(async () => { upstream = await startTrailersUpstream(); });
  after(() => upstream.close());

  test('downstream off (explicit false), upstream on: request trailers are not decoded, ' +
       'response trailers reach the filters but not the client', async () => {
    const { res, record, seen } = await exchange(upstream, {
      downstreamEnableTrailers: false, upstreamEnableTrailers: true });
    assert.equal(res.status, 200);
    assert.equal(res.body, UPSTREAM_BODY);
    assert.deepEqual(res.trailers, {});
    assertEndsWithBody(record.request);
    assert.deepEqual(seen, { body: 'ping', trailers: {}, te: 'chunked' });
    assert.equal(record.response.at(-1), 'T:x-up-trailer=done', record.response.join(' '));
  });

  test('downstream on, upstream off (no protocol options): request trailers reach the filters ' +
       'but not the upstream, response trailers are ignored', async () => {
    const { res, record, seen } = await exchange(upstream, {
      downstreamEnableTrailers: true, upstreamEnableTrailers: null });
    assert.equal(res.status, 200);
    assert.equal(res.body, UPSTREAM_BODY);
    assert.deepEqual(res.trailers, {});
    assert.equal(record.request.at(-1), 'T:x-req-trailer=1', record.request.join(' '));
    // The chunked request body still ends: the upstream got the whole body, without trailers.
    assert.deepEqual(seen, { body: 'ping', trailers: {}, te: 'chunked' });
    assertEndsWithBody(record.response);
  });

  test('both on: trailers go through both ways', async () => {
    const { res, record, seen } = await exchange(upstream, {
      downstreamEnableTrailers: true, upstreamEnableTrailers: true });
    assert.equal(res.status, 200);
    assert.deepEqual(JSON.parse(res.body),
                     { body: 'ping', trailers: { 'x-req-trailer': '1' }, te: 'chunked' });
    assert.deepEqual(res.trailers, { 'x-up-trailer': 'done' });
    assert.equal(record.request.at(-1), 'T:x-req-trailer=1', record.request.join(' '));
    assert.deepEqual(seen, { body: 'ping', trailers: { 'x-req-trailer': '1' }, te: 'chunked' });
    assert.equal(record.response.at(-1), 'T:x-up-trailer=done', record.response.join(' '));
  });

  test('both left out (Envoy\'s default): no trailers anywhere, each direction ends with its ' +
       'body', async () => {
    const { res, record, seen } = await exchange(upstream, {
      downstreamEnableTrailers: null, upstreamEnableTrailers: null });
    assert.equal(res.status, 200);
    assert.equal(res.body, UPSTREAM_BODY);
    assert.deepEqual(res.trailers, {});
    assertEndsWithBody(record.request);
    assert.deepEqual(seen, { body: 'ping', trailers: {}, te: 'chunked' });
    assertEndsWithBody(record.response);
  });
});

describe('HTTP/1.1 trailers of callout streams: the cluster\'s enable_trailers', () => {
  let upstream;
  before(async () => { upstream = await startTrailersUpstream(); });
  after(() => upstream.close());

  /** A stream (module http_stream) to the `stream` cluster: pieces, then request trailers. */
  async function streamLog(upstreamEnableTrailers) {
    const host = await startHost({
      upstreamPort: upstream.port, searchPath, upstreamEnableTrailers,
      filters: [{ module: 'http_stream', filterName: 'streams', config: 'stream' }],
      extraClusters: [{ name: 'stream', port: upstream.port }],
    });
    try {
      const headers = { 'x-stream-pieces': 'p1,p2', 'x-stream-req-trailers': 'X-Req-Sum:42' };
      const res = await new Promise((resolve, reject) => {
        const options = { host: '127.0.0.1', port: host.port, path: '/', agent: false, headers };
        http.get(options, (response) => {
          let body = '';
          response.setEncoding('utf8');
          response.on('data', (chunk) => { body += chunk; });
          response.on('end', () => resolve({ status: response.statusCode, body }));
        }).on('error', reject);
      });
      assert.equal(res.status, 200, res.body);
      return res.body.split('\n').filter(Boolean);
    } finally {
      await host.stop();
    }
  }

  test('off: send_trailers ends the request without them, response trailers are ignored (the ' +
       'data ends the response)', async () => {
    const log = await streamLog(false);
    assert.ok(log.includes('send-trailers 1 ok=1'), log.join('\n'));
    assert.deepEqual(upstream.seen.at(-1), { body: 'p1p2', trailers: {}, te: 'chunked' });
    assert.ok(!log.some((line) => line.startsWith('trailers ')), log.join('\n'));
    const data = log.filter((line) => line.startsWith('data 1 '));
    assert.match(data.at(-1), / end=1 /);
    assert.equal(log.at(-1), 'complete 1');
  });

  test('on: both go through', async () => {
    const log = await streamLog(true);
    assert.ok(log.includes('send-trailers 1 ok=1'), log.join('\n'));
    assert.deepEqual(upstream.seen.at(-1),
                     { body: 'p1p2', trailers: { 'x-req-sum': '42' }, te: 'chunked' });
    assert.deepEqual(log.slice(-2), ['trailers 1 x-up-trailer=done', 'complete 1']);
  });
});

describe('enable_trailers in envoy.yaml: bad values are rejected naming the field', () => {
  const hcm = 'static_resources.listeners[0].filter_chains[0].filters[0].typed_config.' +
              'http_protocol_options';
  const options = 'static_resources.clusters[0].typed_extension_protocol_options.' +
                  'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';
  const on = 'http_protocol_options: { enable_trailers: true }';
  const optionsType =
    '"@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions';
  const cases = [
    { what: 'a downstream value that is not a bool', downstream: 'maybe',
      error: `${hcm}.enable_trailers: expected true or false` },
    { what: 'an upstream value that is not a bool', upstream: '"yes"',
      error: `${options}.explicit_http_config.http_protocol_options.enable_trailers: ` +
             'expected true or false' },
    { what: 'an unknown Http1ProtocolOptions field', edit: (yaml) =>
        yaml.replace(on, 'http_protocol_options: { trailers: true }'),
      error: `${hcm}.trailers: field not supported by the conformance host` },
    { what: 'http_protocol_options that is not a mapping', edit: (yaml) =>
        yaml.replace(on, 'http_protocol_options: true'),
      error: `${hcm}: expected a mapping` },
    { what: 'an upstream protocol other than HTTP/1.1', edit: (yaml) =>
        yaml.replace(`explicit_http_config:\n          ${on}`,
                     'explicit_http_config:\n          http2_protocol_options: {}'),
      error: `${options}.explicit_http_config.http2_protocol_options: field not supported by the ` +
             'conformance host' },
    { what: 'HttpProtocolOptions without explicit_http_config', edit: (yaml) =>
        yaml.replace(`\n        explicit_http_config:\n          ${on}`, ''),
      error: `${options}.explicit_http_config: required field is missing` },
    { what: 'another @type under the HttpProtocolOptions key', edit: (yaml) =>
        yaml.replace(optionsType, '"@type": type.googleapis.com/google.protobuf.Struct'),
      error: `${options}.@type: unsupported type.googleapis.com/google.protobuf.Struct` },
  ];
  for (const { what, downstream, upstream, edit = (yaml) => yaml, error } of cases) {
    test(what, async () => {
      const yaml = edit(httpProxyYaml({
        listenPort: await freePort(), adminPort: await freePort(), upstreamPort: 9,
        downstreamEnableTrailers: downstream, upstreamEnableTrailers: upstream,
        filters: [{ module: 'trailers_record', filterName: 'record', config: '' }],
      }));
      const { code, output } = await runHostToExit(yaml, { searchPath });
      assert.equal(code, 1, output);
      assert.ok(output.includes(error), output);
    });
  }
});
