import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { encodeRpcFrame, rpcRouter } from '../rpc-router';
import { FakeConnection } from './fake-network';

const config = { routes: { alpha: 'cluster_a', beta: 'cluster_b' } };
const decodeFrame = (bytes: Uint8Array): { service: string; payload: string } => {
  const b = Buffer.from(bytes);
  assert.equal(b.readUInt32BE(0), b.length - 4);
  const n = b[4] as number;
  return { service: b.toString('utf8', 5, 5 + n), payload: b.toString('utf8', 5 + n) };
};

async function connect(cfg: unknown = config) {
  const conn = new FakeConnection(rpcRouter, cfg);
  assert.equal(await conn.open(), 'StopIteration');  // tcp_proxy must not connect yet
  assert.equal(conn.readDisables, 0, 'the filter reads the client while tcp_proxy waits');
  return conn;
}

describe('rpc-router', () => {
  test('encodeRpcFrame: length, name length, name, payload', () => {
    assert.deepEqual([...encodeRpcFrame('ab', 'xy')], [0, 0, 0, 5, 2, 0x61, 0x62, 0x78, 0x79]);
    assert.throws(() => encodeRpcFrame('x'.repeat(256), ''), RangeError);
  });

  test('routes by the first frame, sets the typed cluster and the metadata, passes everything on', async () => {
    for (const [service, cluster] of [['alpha', 'cluster_a'], ['beta', 'cluster_b']]) {
      const conn = await connect();
      const first = encodeRpcFrame(service as string, 'hello');
      const second = encodeRpcFrame('whatever', 'more');
      assert.equal(await conn.send(Buffer.concat([first, second.subarray(0, 3)])), 'Continue');
      assert.deepEqual(conn.filterState.get('envoy.tcp_proxy.cluster'),
                       { value: new TextEncoder().encode(cluster as string), typed: true });
      assert.equal(conn.metadata.get('envoy-ts.rpc.service'), service);
      assert.equal(conn.metrics.get('routed'), 1);
      assert.equal(conn.readDisables, 1, "tcp_proxy's read-disable is back, for it to lift once connected");
      // Nothing was drained: tcp_proxy gets the first frame and what followed, untouched.
      assert.deepEqual(Buffer.concat(conn.upstream), Buffer.concat([first, second.subarray(0, 3)]));
      // Later bytes pass through, even frames for other services.
      assert.equal(await conn.send(second.subarray(3)), 'Continue');
      assert.deepEqual(Buffer.concat(conn.upstream), Buffer.concat([first, second]));
      assert.equal(conn.filterState.size, 1);
    }
  });

  test('a first frame split byte by byte (inside the length field too) is held, then routed', async () => {
    const conn = await connect();
    const frame = encodeRpcFrame('beta', 'p'.repeat(300));
    for (let i = 0; i < frame.length - 1; i++) {
      assert.equal(await conn.send(frame.subarray(i, i + 1)), 'StopIteration');
      assert.equal(conn.filterState.size, 0);
    }
    assert.equal(await conn.send(frame.subarray(frame.length - 1)), 'Continue');
    assert.deepEqual(Buffer.concat(conn.upstream), Buffer.from(frame));
    assert.equal(new TextDecoder().decode(conn.filterState.get('envoy.tcp_proxy.cluster')?.value), 'cluster_b');
  });

  test('an unknown service is rejected with an error frame and a close', async () => {
    const conn = await connect();
    assert.equal(await conn.send(encodeRpcFrame('gamma', 'x')), 'StopIteration');
    assert.equal(conn.closed, 'flush');
    assert.deepEqual(decodeFrame(Buffer.concat(conn.client)), { service: 'error', payload: "unknown service 'gamma'" });
    assert.equal(conn.upstream.length, 0);
    assert.equal(conn.filterState.size, 0);
    assert.equal(conn.metrics.get('rejected'), 1);
  });

  test('the default cluster takes unknown services', async () => {
    const conn = await connect({ ...config, default: 'cluster_d' });
    assert.equal(await conn.send(encodeRpcFrame('gamma', 'x')), 'Continue');
    assert.equal(new TextDecoder().decode(conn.filterState.get('envoy.tcp_proxy.cluster')?.value), 'cluster_d');
  });

  test('oversize, inconsistent and truncated first frames are rejected', async () => {
    const big = await connect({ ...config, maxFrameSize: 64 });
    await big.send(Uint8Array.of(0, 0, 1, 0));
    assert.equal(big.closed, 'flush');
    assert.match(decodeFrame(Buffer.concat(big.client)).payload, /exceeds maxFrameSize 64/);
    const bad = await connect();
    await bad.send(Uint8Array.of(0, 0, 0, 2, 9, 0x61));  // name length 9 in a 2-byte body
    assert.equal(decodeFrame(Buffer.concat(bad.client)).payload, 'invalid frame header');
    const empty = await connect();
    await empty.send(Uint8Array.of(0, 0, 0, 0));
    assert.equal(decodeFrame(Buffer.concat(empty.client)).payload, 'invalid frame header');
    const truncated = await connect();
    await truncated.send(encodeRpcFrame('alpha', 'x').subarray(0, 7), true);
    assert.equal(truncated.closed, 'flush');
    assert.equal(truncated.metrics.get('rejected'), 1);
  });

  test('parseConfig validates', () => {
    const parse = rpcRouter.parseConfig as (raw: unknown) => unknown;
    assert.throws(() => parse(null), /config must be an object/);
    assert.throws(() => parse({}), /"routes" must be an object/);
    assert.throws(() => parse({ routes: { a: '' } }), /the cluster of "a"/);
    assert.throws(() => parse({ routes: { '': 'c' } }), /service names must be 1-255 bytes/);
    assert.throws(() => parse({ routes: {}, default: 5 }), /"default"/);
    assert.throws(() => parse({ routes: {}, maxFrameSize: 4 }), /"maxFrameSize"/);
    assert.throws(() => parse({ routes: {}, route: {} }), /unknown config key\(s\): route/);
  });
});
