import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { createTestNetworkChain } from '../../testing';
import * as filters from '../index';

describe('conn-limit', () => {
  // Every connection of a chain shares the process-wide counters and the filter's metrics, like workers do.
  const limit = (config: unknown) => createTestNetworkChain({ filters, chain: [{ name: 'conn-limit', config }] });

  test('up to maxPerIp connections per IP; the next one is closed before reaching the upstream', async () => {
    const chain = await limit({ maxPerIp: 2, message: 'too many connections\n' });
    const a = await chain.connect();
    const b = await chain.connect();
    assert.equal(a.upstreamConnected, true);
    assert.equal(b.upstreamConnected, true);
    const c = await chain.connect();
    assert.equal(c.upstreamConnected, false);
    assert.equal(c.closedBy, 'flush');
    assert.equal(c.clientText(), 'too many connections\n');
    assert.equal(chain.metrics.get('conn-limit.rejected'), 1);
    assert.equal(chain.metrics.get('conn-limit.active'), 2);
    assert.equal(chain.sharedCounter('conn-limit/default/10.0.0.1'), 2);
    // Another IP has its own count.
    assert.equal((await chain.connect({ remoteAddress: '10.0.0.2' })).upstreamConnected, true);
    assert.equal(chain.metrics.get('conn-limit.active'), 3);
    await chain.close();
  });

  test('onClose releases a slot exactly once; rejected connections release nothing', async () => {
    const chain = await limit({ maxPerIp: 1 });
    const a = await chain.connect();
    const rejected = await chain.connect();
    assert.equal(rejected.closedBy, 'flush');
    assert.equal(rejected.clientText(), '');  // no message configured
    assert.deepEqual(rejected.closeEvents, ['local']);
    assert.equal(chain.sharedCounter('conn-limit/default/10.0.0.1'), 1);
    await a.closeFromClient();
    assert.deepEqual(a.closeEvents, ['remote']);
    await assert.rejects(a.closeFromClient(), /the connection is closed/);  // a second close changes nothing
    assert.equal(chain.sharedCounter('conn-limit/default/10.0.0.1'), 0);
    assert.equal(chain.metrics.get('conn-limit.active'), 0);
    const b = await chain.connect();
    assert.equal(b.upstreamConnected, true);
    assert.equal(chain.metrics.get('conn-limit.active'), 1);
    assert.equal(chain.metrics.get('conn-limit.rejected'), 1);
    await chain.close();
  });

  test('scopes keep separate counts', async () => {
    const chain = await createTestNetworkChain({ filters, chain: [
      { name: 'conn-limit', config: { maxPerIp: 1, scope: 'a' } },
      { name: 'conn-limit', config: { maxPerIp: 1, scope: 'b' } },
    ] });
    assert.equal((await chain.connect()).upstreamConnected, true);
    assert.equal(chain.sharedCounter('conn-limit/a/10.0.0.1'), 1);
    assert.equal(chain.sharedCounter('conn-limit/b/10.0.0.1'), 1);
    await chain.close();
  });

  test('parseConfig validates', async () => {
    for (const [config, message] of [
      [undefined, /config must be an object/],
      [{}, /"maxPerIp" must be an integer >= 1/],
      [{ maxPerIp: 0 }, /"maxPerIp"/],
      [{ maxPerIp: 1.5 }, /"maxPerIp"/],
      [{ maxPerIp: 1, message: 3 }, /"message" must be a string/],
      [{ maxPerIp: 1, scope: '' }, /"scope"/],
      [{ maxPerIp: 1, max: 2 }, /unknown config key\(s\): max/],
    ] as const) {
      await assert.rejects(limit(config), message);
    }
    // The defaults: no message, the "default" scope.
    const chain = await limit({ maxPerIp: 3 });
    const conn = await chain.connect();
    assert.equal(chain.sharedCounter('conn-limit/default/10.0.0.1'), 1);
    assert.equal(conn.clientText(), '');
    await chain.close();
  });
});
