// What Envoy's HTTP connection manager and HTTP/1 codec do to a request before any filter runs,
// and to a response's framing: x-request-id and x-forwarded-proto
// (ConnectionManagerUtility::mutateRequestHeaders), the header count and size limits (431), and
// the framing of a response to HEAD. Upstreams here echo what they received.
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';

import {
  freePort, hostYaml, request, runHostToExit, startHostWithYaml, testModulesDir,
} from './helpers.mjs';
import { listenLoopback } from '../../support/servers.mjs';

const searchPath = testModulesDir;
const uuid4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/**
 * An upstream answering the request headers it received as JSON; `GET /head-*` answers a HEAD
 * without content-length (`/head-chunked`) or with one (`/head-length`).
 */
async function startEchoUpstream() {
  // Node's own limit (16 KiB) would refuse what the proxy must forward here.
  const server = http.createServer({ maxHeaderSize: 256 * 1024 }, (req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url === '/head-chunked') {
        // Node writes a HEAD response head only, without content-length or transfer-encoding.
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end();
        return;
      }
      if (req.url === '/head-length') {
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '42' });
        res.end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(req.headers));
    });
  });
  return listenLoopback(server);
}

/** hostYaml with one pass-through filter and `hcmOptions` (YAML lines) added to the HCM. */
function yamlWith(ports, hcmOptions = []) {
  const yaml = hostYaml({ ...ports, filters: [{ module: 'config_lifecycle' }] });
  const anchor = '          stat_prefix: ingress_http';
  assert.ok(yaml.includes(anchor), yaml);
  return yaml.replace(anchor, [anchor, ...hcmOptions.map((line) => `          ${line}`)].join('\n'));
}

async function startHost(upstream, hcmOptions) {
  const ports = { listenPort: await freePort(), adminPort: await freePort(),
                  upstreamPort: upstream.port };
  return startHostWithYaml(yamlWith(ports, hcmOptions), { ...ports, searchPath });
}

/**
 * Writes `head` on a fresh connection; resolves with what the proxy sent: until it closed the
 * connection (`untilClose`, for a request with `connection: close`), or else, for a 200 (kept
 * alive), its response head.
 */
function raw(port, head, { untilClose = false } = {}) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(head));
    let data = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk) => {
      data += chunk;
      if (!untilClose && /^HTTP\/1\.1 200 /.test(data) && data.includes('\r\n\r\n')) {
        data = data.slice(0, data.indexOf('\r\n\r\n') + 4);
        socket.destroy();
        resolve(data);
      }
    });
    socket.on('end', () => resolve(data));
    socket.on('error', reject);
  });
}

function headerLines(count) {
  return Array.from({ length: count }, (_, i) => `x-h${i}: v\r\n`).join('');
}

describe('the connection manager before the filters: x-request-id, x-forwarded-proto', () => {
  let upstream;
  before(async () => { upstream = await startEchoUpstream(); });
  after(async () => { await upstream?.close(); });

  test('defaults: a UUID x-request-id when absent, a client\'s kept; x-forwarded-proto http',
       async () => {
    const host = await startHost(upstream);
    try {
      const generated = JSON.parse((await request(host.port, { path: '/' })).body);
      assert.match(generated['x-request-id'], uuid4);
      assert.equal(generated['x-forwarded-proto'], 'http');
      const other = JSON.parse((await request(host.port, { path: '/' })).body);
      assert.notEqual(other['x-request-id'], generated['x-request-id']);
      // use_remote_address false: not an edge request, so the client's id and proto are kept.
      const kept = JSON.parse((await request(host.port, {
        path: '/', headers: { 'x-request-id': 'client-id', 'x-forwarded-proto': 'https' },
      })).body);
      assert.equal(kept['x-request-id'], 'client-id');
      assert.equal(kept['x-forwarded-proto'], 'https');
    } finally {
      await host.stop();
    }
  });

  test('generate_request_id: false adds none; preserve_external_request_id is accepted',
       async () => {
    const host = await startHost(upstream, ['generate_request_id: false',
                                            'preserve_external_request_id: true']);
    try {
      const seen = JSON.parse((await request(host.port, { path: '/' })).body);
      assert.equal(seen['x-request-id'], undefined);
      assert.equal(seen['x-forwarded-proto'], 'http');
    } finally {
      await host.stop();
    }
  });

  test('use_remote_address: true is refused with its path (the host supports false only)',
       async () => {
    const ports = { listenPort: await freePort(), adminPort: await freePort(),
                    upstreamPort: upstream.port };
    const { code, output } = await runHostToExit(yamlWith(ports, ['use_remote_address: true']),
                                                 { searchPath });
    assert.equal(code, 1, output);
    assert.match(output, /\.use_remote_address: only false \(the default\) is supported/);
  });
});

describe('request header limits of the HTTP/1 codec', () => {
  let upstream;
  before(async () => { upstream = await startEchoUpstream(); });
  after(async () => { await upstream?.close(); });

  const tooLarge = /^HTTP\/1\.1 431 Request Header Fields Too Large\r\n[\s\S]*\r\nconnection: close\r\n\r\nRequest Header Fields Too Large$/;

  test('defaults: 100 headers pass, 101 are 431; 60 KiB of headers pass, more is 431', async () => {
    const host = await startHost(upstream);
    try {
      // host + 99 others = 100 headers.
      const hundred = await raw(host.port, `GET / HTTP/1.1\r\nhost: x\r\n${headerLines(99)}\r\n`);
      assert.match(hundred, /^HTTP\/1\.1 200 OK\r\n/);
      const many = await raw(host.port, `GET / HTTP/1.1\r\nhost: x\r\n${headerLines(100)}\r\n`);
      assert.match(many, tooLarge);
      assert.match(many, /\r\ncontent-length: 31\r\n/);
      // Names and values count: "host" + "x" + "big" + value.
      const fits = 60 * 1024 - 'hostxbig'.length;
      const atLimit = await raw(host.port, `GET / HTTP/1.1\r\nhost: x\r\nbig: ${'a'.repeat(fits)}\r\n\r\n`);
      assert.match(atLimit, /^HTTP\/1\.1 200 OK\r\n/);
      const over = await raw(host.port, `GET / HTTP/1.1\r\nhost: x\r\nbig: ${'a'.repeat(fits + 1)}\r\n\r\n`);
      assert.match(over, tooLarge);
      const huge = await raw(host.port, `GET / HTTP/1.1\r\nhost: x\r\nbig: ${'a'.repeat(70000)}\r\n\r\n`);
      assert.match(huge, tooLarge);
    } finally {
      await host.stop();
    }
  });

  test('common_http_protocol_options.max_headers_count and max_request_headers_kb', async () => {
    const host = await startHost(upstream, ['common_http_protocol_options: { max_headers_count: 5 }',
                                            'max_request_headers_kb: 1']);
    try {
      assert.match(await raw(host.port, `GET / HTTP/1.1\r\nhost: x\r\n${headerLines(4)}\r\n`),
                   /^HTTP\/1\.1 200 OK\r\n/);
      assert.match(await raw(host.port, `GET / HTTP/1.1\r\nhost: x\r\n${headerLines(5)}\r\n`),
                   tooLarge);
      assert.match(await raw(host.port, `GET / HTTP/1.1\r\nhost: x\r\nbig: ${'a'.repeat(1100)}\r\n\r\n`),
                   tooLarge);
    } finally {
      await host.stop();
    }
  });
});

describe('the framing of a response to HEAD', () => {
  let upstream;
  let host;
  before(async () => {
    upstream = await startEchoUpstream();
    host = await startHost(upstream);
  });
  after(async () => {
    await host?.stop();
    await upstream?.close();
  });

  test('without content-length: the GET framing header (transfer-encoding: chunked), no body',
       async () => {
    const head = await raw(host.port, 'HEAD /head-chunked HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n',
                           { untilClose: true });
    assert.match(head, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(head, /\r\ntransfer-encoding: chunked\r\n/i);
    assert.doesNotMatch(head, /content-length/i);
    assert.ok(head.endsWith('\r\n\r\n'), JSON.stringify(head));
  });

  test('with content-length: kept as the upstream sent it, no body', async () => {
    const head = await raw(host.port, 'HEAD /head-length HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n',
                           { untilClose: true });
    assert.match(head, /\r\ncontent-length: 42\r\n/);
    assert.doesNotMatch(head, /transfer-encoding/i);
    assert.ok(head.endsWith('\r\n\r\n'), JSON.stringify(head));
  });
});
