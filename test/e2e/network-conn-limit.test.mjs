// conn-limit through a real proxy: a per-IP cap shared by all workers, in front of a TCP echo server.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';

import { examplesBundle, proxyName } from './harness.mjs';
import { connectRaw, sleep, startTcpProxy, startTcpUpstream, until } from './network-harness.mjs';

const MESSAGE = 'conn-limit: too many connections\n';

/** A TCP echo upstream (`connections.length` counts what it accepted). */
const startEcho = () => startTcpUpstream((chunk) => chunk);

/** A connection through the proxy that proved it reaches the echo upstream. */
async function echoing(port, tag) {
  const client = await connectRaw(port);
  await client.write(tag);
  await client.readUntil((text) => text === tag, `the echo of ${tag}`);
  return client;
}

for (const concurrency of [1, 2]) {
  describe(`conn-limit (maxPerIp 2) through ${proxyName}, --concurrency ${concurrency}`, { timeout: 20000 }, () => {
    let upstream;
    let proxy;

    before(async () => {
      upstream = await startEcho();
      proxy = await startTcpProxy({
        concurrency,
        clusters: [{ name: 'echo', port: upstream.port }],
        filterConfigs: [{ bundle: examplesBundle, chain: [{ name: 'conn-limit', config: { maxPerIp: 2, message: MESSAGE } }] }],
      });
    });

    after(async () => {
      await proxy?.stop();
      await upstream?.close();
    });

    test('the third concurrent connection is told and closed; a freed slot is reused', async () => {
      const a = await echoing(proxy.port, 'a1');
      const b = await echoing(proxy.port, 'b1');
      const acceptedBefore = upstream.connections.length;
      const c = await connectRaw(proxy.port);
      await c.waitClosed();
      assert.equal(c.text(), MESSAGE);
      assert.equal(upstream.connections.length, acceptedBefore, 'the rejected connection never reached the upstream');
      // The first two still work.
      await a.write('a2');
      await a.readUntil((text) => text === 'a1a2', 'a2 echoed');
      assert.equal(b.isClosed, false);
      assert.equal(await proxy.stat('conn-limit.active'), 2);

      b.close();
      await until(async () => (await proxy.stat('conn-limit.active')) === 1, 'conn-limit.active back to 1');
      const d = await echoing(proxy.port, 'd1');
      assert.equal(await proxy.stat('conn-limit.active'), 2);
      a.close();
      d.close();
      await until(async () => (await proxy.stat('conn-limit.active')) === 0, 'conn-limit.active back to 0');
      assert.ok((await proxy.stat('conn-limit.rejected')) >= 1);
    });

    test('ten simultaneous connections: exactly two get through, whichever worker took them', async () => {
      const rejectedBefore = (await proxy.stat('conn-limit.rejected')) ?? 0;
      const clients = await Promise.all(Array.from({ length: 10 }, () => connectRaw(proxy.port)));
      try {
        await until(() => clients.filter((c) => c.isClosed).length >= 8, 'eight connections to be closed');
        await sleep(200);  // a ninth close would show up now
        const open = clients.filter((c) => !c.isClosed);
        assert.equal(open.length, 2);
        for (const [i, client] of open.entries()) {
          await client.write(`open-${i}`);
          await client.readUntil((text) => text === `open-${i}`, `open-${i} echoed`);
        }
        for (const client of clients.filter((c) => c.isClosed)) assert.equal(client.text(), MESSAGE);
        await until(async () => (await proxy.stat('conn-limit.rejected')) === rejectedBefore + 8,
                    'conn-limit.rejected + 8');
      } finally {
        for (const client of clients) client.close();
      }
      await until(async () => (await proxy.stat('conn-limit.active')) === 0, 'conn-limit.active back to 0');
    });
  });
}
