// grpc-inspect through a real proxy: gRPC-framed protobuf messages (encoded with protobufjs) from
// a real HTTP/1.1 client, and an upstream that records the exact bytes it receives.
import assert from 'node:assert/strict';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { listenLoopback } from '../support/servers.mjs';
import { SHOP_PROTO_FILE, orderFrame } from '../support/shop-orders.mjs';
import { envoyYaml, examplesBundle, freePort, proxyName, request, runProxyToExit, startProxy } from './harness.mjs';

const CREATE = '/shop.Orders/Create';
const IMPORT = '/shop.Orders/Import';

const CLEAN = { customer_id: 'c-17', items: [{ sku: 'TEA', quantity: 2 }], amount_cents: 125_000, channel: 'WEB' };

const CONFIG = {
  // Relative to the bundle's directory (dist/examples), wherever the proxy runs from.
  protoFile: path.relative(path.dirname(examplesBundle), SHOP_PROTO_FILE),
  methods: {
    [CREATE]: {
      deny: [
        { field: 'items.sku', in: ['BANNED'] },
        { field: 'amount_cents', above: 1_000_000, message: 'amount over the limit' },
      ],
    },
    [IMPORT]: { deny: [{ field: 'channel', equals: 'STAFF' }] },
  },
};

/** An upstream that keeps every request's raw body, complete or not (an aborted one too). */
async function startRecordingUpstream() {
  const requests = [];
  const server = http.createServer((req, res) => {
    const record = { path: req.url, chunks: [], complete: false };
    requests.push(record);
    req.on('data', (chunk) => record.chunks.push(chunk));
    req.on('end', () => {
      record.complete = true;
      res.writeHead(200, { 'content-type': 'application/grpc', 'grpc-status': '0' });
      res.end();
    });
  });
  return { ...(await listenLoopback(server)), requests, bytesOf: (record) => Buffer.concat(record.chunks) };
}

function grpcCall(port, urlPath, body) {
  return request(port, {
    method: 'POST',
    path: urlPath,
    headers: { 'content-type': 'application/grpc', te: 'trailers' },
    body,
  });
}

describe(`grpc-inspect through ${proxyName}`, () => {
  let upstream;
  let proxy;

  before(async () => {
    upstream = await startRecordingUpstream();
    proxy = await startProxy({
      upstreamPort: upstream.port,
      filterConfigs: [{ bundle: examplesBundle, chain: [{ name: 'grpc-inspect', config: CONFIG }] }],
    });
  });

  after(async () => {
    await proxy?.stop();
    await upstream?.close();
  });

  /** The upstream's record of the last request, once its body is complete. */
  function lastRequest() {
    const record = upstream.requests.at(-1);
    assert.ok(record?.complete, 'the upstream got a complete request');
    return upstream.bytesOf(record);
  }

  test('an allowed message reaches the upstream byte for byte', async () => {
    const message = orderFrame(CLEAN);
    const response = await grpcCall(proxy.port, CREATE, message);
    assert.equal(response.status, 200);
    assert.equal(response.headers['grpc-status'], '0');
    assert.deepEqual(lastRequest(), message);
  });

  test('messages split across pieces, and several in one piece, arrive unchanged', async () => {
    const messages = [orderFrame(CLEAN), orderFrame({ ...CLEAN, note: 'gift wrap, ünïcödé' }), orderFrame({ customer_id: 'c-2' })];
    const body = Buffer.concat(messages);
    // A piece ends inside the first length prefix, the next inside a message, the last holds two.
    const pieces = [body.subarray(0, 3), body.subarray(3, 20), body.subarray(20, messages[0].length + 4),
                    body.subarray(messages[0].length + 4)];
    const response = await grpcCall(proxy.port, IMPORT, pieces);
    assert.equal(response.status, 200);
    assert.equal(response.headers['grpc-status'], '0');
    assert.deepEqual(lastRequest(), body);
  });

  test('a denied message gets PERMISSION_DENIED and never reaches the upstream', async () => {
    const denied = orderFrame({ ...CLEAN, items: [{ sku: 'TEA' }, { sku: 'BANNED' }] });
    const overLimit = orderFrame({ ...CLEAN, amount_cents: 5_000_000 });
    const response = await grpcCall(proxy.port, CREATE, denied);
    assert.equal(response.status, 200);
    assert.equal(response.headers['content-type'], 'application/grpc');
    assert.equal(response.headers['grpc-status'], '7');
    assert.equal(response.headers['grpc-message'], 'denied: items.sku in ["BANNED"]');

    // Split across pieces, after an allowed message of the same call.
    const allowed = orderFrame({ ...CLEAN, channel: 'WEB' });
    const staff = orderFrame({ ...CLEAN, channel: 'STAFF' });
    const streamed = await grpcCall(proxy.port, IMPORT, [allowed, staff.subarray(0, 9), staff.subarray(9)]);
    assert.equal(streamed.headers['grpc-status'], '7');
    assert.equal(streamed.headers['grpc-message'], 'denied: channel equals "STAFF"');

    const overResponse = await grpcCall(proxy.port, CREATE, overLimit);
    assert.equal(overResponse.headers['grpc-status'], '7');
    assert.equal(overResponse.headers['grpc-message'], 'amount over the limit');

    await new Promise((resolve) => setTimeout(resolve, 50));  // anything in flight has landed
    for (const record of upstream.requests) {
      const received = upstream.bytesOf(record);
      for (const refused of [denied, staff, overLimit]) {
        assert.equal(received.indexOf(refused), -1, 'a refused message reached the upstream');
      }
    }
  });

  test('a message that does not decode gets INVALID_ARGUMENT', async () => {
    const garbage = Buffer.from([0, 0, 0, 0, 3, 0x0a, 0x05, 0x61]);
    const response = await grpcCall(proxy.port, CREATE, garbage);
    assert.equal(response.headers['grpc-status'], '3');
    assert.match(decodeURIComponent(response.headers['grpc-message']), /not a valid shop\.CreateOrder/);
  });

  test('decisions are counted by method in /stats', async () => {
    assert.ok(await proxy.stat(`grpc-inspect.decisions.method.${CREATE}.decision.allowed`) >= 1);
    assert.ok(await proxy.stat(`grpc-inspect.decisions.method.${IMPORT}.decision.allowed`) >= 4);
    assert.ok(await proxy.stat(`grpc-inspect.decisions.method.${CREATE}.decision.denied`) >= 2);
    assert.ok(await proxy.stat(`grpc-inspect.decisions.method.${IMPORT}.decision.denied`) >= 1);
    assert.ok(await proxy.stat(`grpc-inspect.decisions.method.${CREATE}.decision.invalid`) >= 1);
  });

  test('a rule naming an unknown field rejects the config at load', async () => {
    const config = { ...CONFIG, methods: { [CREATE]: { deny: [{ field: 'items.price', above: 1 }] } } };
    const yaml = envoyYaml({ listenPort: await freePort(), adminPort: await freePort(), upstreamPort: upstream.port,
                             filterConfigs: [{ bundle: examplesBundle, chain: [{ name: 'grpc-inspect', config }] }] });
    const { code, output } = await runProxyToExit(yaml);
    assert.notEqual(code, 0, `the proxy must refuse the config; output:\n${output}`);
    assert.match(output, /config\.methods\.\/shop\.Orders\/Create\.deny\[0\]\.field: shop\.Item has no field 'price'/);
  });
});
