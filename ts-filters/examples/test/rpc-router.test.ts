import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { createTestNetworkChain, type TestConnection, type TestNetworkChain } from '../../testing';
import * as filters from '../index';
import { encodeRpcFrame } from '../rpc-router';

const config = { routes: { alpha: 'cluster_a', beta: 'cluster_b' } };
const decodeFrame = (bytes: Uint8Array): { service: string; payload: string } => {
  const b = Buffer.from(bytes);
  assert.equal(b.readUInt32BE(0), b.length - 4);
  const n = b[4] as number;
  return { service: b.toString('utf8', 5, 5 + n), payload: b.toString('utf8', 5 + n) };
};

const router = (cfg: unknown): Promise<TestNetworkChain> =>
  createTestNetworkChain({ filters, chain: [{ name: 'rpc-router', config: cfg }] });

/** A connection through a fresh chain (its metrics are the connection's). */
async function connect(cfg: unknown = config): Promise<TestConnection & { metric(name: string): number }> {
  const chain = await router(cfg);
  const conn = await chain.connect();
  assert.equal(conn.upstreamConnected, false);  // tcp_proxy must not connect yet
  assert.equal(conn.readDisabled, 0, 'the filter reads the client while tcp_proxy waits');
  return Object.assign(conn, { metric: (name: string) => chain.metrics.get(`rpc-router.${name}`) });
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
      await conn.send(Buffer.concat([first, second.subarray(0, 3)]));
      assert.equal(conn.upstreamConnected, true);
      assert.equal(conn.upstreamCluster, cluster, 'the typed envoy.tcp_proxy.cluster');
      assert.equal(conn.metadata.get('envoy-ts.rpc.service'), service);
      assert.equal(conn.metric('routed'), 1);
      // tcp_proxy's read-disable was back (1) when it connected, and it lifted it.
      assert.equal(conn.readDisabled, 0);
      // Nothing was drained: tcp_proxy gets the first frame and what followed, untouched.
      assert.deepEqual(Buffer.concat(conn.upstreamChunks), Buffer.concat([first, second.subarray(0, 3)]));
      // Later bytes pass through, even frames for other services.
      await conn.send(second.subarray(3));
      assert.deepEqual(Buffer.concat(conn.upstreamChunks), Buffer.concat([first, second]));
      assert.equal(conn.filterState.size, 1);
    }
  });

  test('a first frame split byte by byte (inside the length field too) is held, then routed', async () => {
    const conn = await connect();
    const frame = encodeRpcFrame('beta', 'p'.repeat(300));
    for (let i = 0; i < frame.length - 1; i++) {
      await conn.send(frame.subarray(i, i + 1));
      assert.equal(conn.upstreamConnected, false);
      assert.equal(conn.filterState.size, 0);
    }
    await conn.send(frame.subarray(frame.length - 1));
    assert.equal(conn.upstreamConnected, true);
    assert.deepEqual(Buffer.concat(conn.upstreamChunks), Buffer.from(frame));
    assert.equal(conn.upstreamCluster, 'cluster_b');
  });

  test('an unknown service is rejected with an error frame and a close', async () => {
    const conn = await connect();
    await conn.send(encodeRpcFrame('gamma', 'x'));
    assert.equal(conn.upstreamConnected, false);
    assert.equal(conn.closedBy, 'flush');
    assert.deepEqual(decodeFrame(conn.clientBytes()), { service: 'error', payload: "unknown service 'gamma'" });
    assert.equal(conn.upstreamChunks.length, 0);
    assert.equal(conn.filterState.size, 0);
    assert.equal(conn.metric('rejected'), 1);
  });

  test('the default cluster takes unknown services', async () => {
    const conn = await connect({ ...config, default: 'cluster_d' });
    await conn.send(encodeRpcFrame('gamma', 'x'));
    assert.equal(conn.upstreamConnected, true);
    assert.equal(conn.upstreamCluster, 'cluster_d');
  });

  test('oversize, inconsistent and truncated first frames are rejected', async () => {
    const big = await connect({ ...config, maxFrameSize: 64 });
    await big.send(Uint8Array.of(0, 0, 1, 0));
    assert.equal(big.closedBy, 'flush');
    assert.match(decodeFrame(big.clientBytes()).payload, /exceeds maxFrameSize 64/);
    const bad = await connect();
    await bad.send(Uint8Array.of(0, 0, 0, 2, 9, 0x61));  // name length 9 in a 2-byte body
    assert.equal(decodeFrame(bad.clientBytes()).payload, 'invalid frame header');
    const empty = await connect();
    await empty.send(Uint8Array.of(0, 0, 0, 0));
    assert.equal(decodeFrame(empty.clientBytes()).payload, 'invalid frame header');
    const truncated = await connect();
    await truncated.send(encodeRpcFrame('alpha', 'x').subarray(0, 7), { end: true });
    assert.equal(truncated.closedBy, 'flush');
    assert.equal(truncated.metric('rejected'), 1);
  });

  test('parseConfig validates', async () => {
    for (const [cfg, message] of [
      [null, /config must be an object/],
      [{}, /"routes" must be an object/],
      [{ routes: { a: '' } }, /the cluster of "a"/],
      [{ routes: { '': 'c' } }, /service names must be 1-255 bytes/],
      [{ routes: {}, default: 5 }, /"default"/],
      [{ routes: {}, maxFrameSize: 4 }, /"maxFrameSize"/],
      [{ routes: {}, route: {} }, /unknown config key\(s\): route/],
    ] as const) {
      await assert.rejects(router(cfg), message);
    }
  });
});
