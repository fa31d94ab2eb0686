// rpc-router through a real proxy: the first frame's service picks one of two real TCP upstreams.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { examplesBundle, proxyName } from './harness.mjs';
import {
  connectRaw, parseRpcFrame, rpcFrame, sleep, startRecordingUpstream, startTcpProxy, until,
} from './network-harness.mjs';

describe(`rpc-router through ${proxyName}`, { timeout: 20000 }, () => {
  let upstreamA;
  let upstreamB;
  let proxy;

  before(async () => {
    upstreamA = await startRecordingUpstream('A');
    upstreamB = await startRecordingUpstream('B');
    proxy = await startTcpProxy({
      clusters: [{ name: 'cluster_a', port: upstreamA.port }, { name: 'cluster_b', port: upstreamB.port }],
      defaultCluster: 'cluster_a',
      filterConfigs: [{
        bundle: examplesBundle,
        chain: [{ name: 'rpc-router', config: { routes: { alpha: 'cluster_a', beta: 'cluster_b' } } }],
      }],
    });
  });

  after(async () => {
    await proxy?.stop();
    await upstreamA?.close();
    await upstreamB?.close();
  });

  const counts = () => [upstreamA.connections.length, upstreamB.connections.length];

  test('frames for service beta go to B, for alpha to A, with every byte passed on', async () => {
    for (const [service, upstream] of [['beta', upstreamB], ['alpha', upstreamA]]) {
      const before = upstream.connections.length;
      const client = await connectRaw(proxy.port);
      try {
        const first = rpcFrame(service, `hello ${service}`);
        await client.write(first);
        await client.readUntil((text) => text.includes(`${upstream.name}:${first.length};`),
                               `${upstream.name} to receive the first frame`);
        // A later frame on the same connection goes the same way, even for another service.
        const second = rpcFrame('alpha', 'second');
        await client.write(second);
        const total = first.length + second.length;
        await client.readUntil((text) => text.includes(`${upstream.name}:${total};`), 'the second frame');
        assert.equal(upstream.connections.length, before + 1);
        assert.deepEqual(upstream.connections.at(-1).received, Buffer.concat([first, second]));
      } finally {
        client.close();
      }
    }
  });

  test('an unknown service gets an error frame, the connection is closed, no upstream is reached', async () => {
    const before = counts();
    const client = await connectRaw(proxy.port);
    await client.write(rpcFrame('gamma', 'who am I'));
    await client.waitClosed();
    assert.deepEqual(parseRpcFrame(client.received), { service: 'error', payload: "unknown service 'gamma'" });
    await sleep(100);
    assert.deepEqual(counts(), before);
  });

  test('a first frame split into one-byte writes (length field included) still routes', async () => {
    const before = upstreamB.connections.length;
    const client = await connectRaw(proxy.port);
    try {
      const frame = rpcFrame('beta', 'split across many segments');
      await client.writeBytewise(frame);
      await client.readUntil((text) => text.includes(`B:${frame.length};`), 'B to receive the whole frame');
      assert.equal(upstreamB.connections.length, before + 1);
      assert.deepEqual(upstreamB.connections.at(-1).received, frame);
    } finally {
      client.close();
    }
  });

  test('no upstream connection is made before the first frame is complete', async () => {
    const before = counts();
    const client = await connectRaw(proxy.port);
    try {
      const frame = rpcFrame('alpha', 'held');
      await client.write(frame.subarray(0, 6));
      await sleep(200);
      assert.deepEqual(counts(), before, 'tcp_proxy connected before the routing decision');
      await client.write(frame.subarray(6));
      await client.readUntil((text) => text.includes(`A:${frame.length};`), 'A to receive the frame');
    } finally {
      client.close();
    }
  });

  test('routed and rejected counters are in the admin /stats', async () => {
    await until(async () => (await proxy.stat('rpc-router.routed')) >= 4 &&
                            (await proxy.stat('rpc-router.rejected')) >= 1,
                'rpc-router.routed >= 4 and rpc-router.rejected >= 1 in /stats', 3000);
  });
});
