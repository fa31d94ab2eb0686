import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { connLimit } from '../conn-limit';
import { FakeConnection, FakeMetrics, FakeShared } from './fake-network';

describe('conn-limit', () => {
  const declared = { rejected: 'counter', active: 'gauge' } as const;

  function setup(config: unknown) {
    // Every connection shares the process-wide counters and the filter's metrics, like workers do.
    const shared = new FakeShared();
    const metrics = new FakeMetrics(declared);
    const open = async (ip = '10.0.0.1') => {
      const conn = new FakeConnection(connLimit, config, { remoteAddress: ip, shared, metrics });
      await conn.open();
      return conn;
    };
    return { shared, metrics, open };
  }

  test('up to maxPerIp connections per IP; the next one is closed before reaching the upstream', async () => {
    const { shared, metrics, open } = setup({ maxPerIp: 2, message: 'too many connections\n' });
    const a = await open();
    const b = await open();
    assert.equal(a.lastStatus, 'Continue');
    assert.equal(b.lastStatus, 'Continue');
    const c = await open();
    assert.equal(c.lastStatus, 'StopIteration');
    assert.equal(c.iterated, false);
    assert.equal(c.closed, 'flush');
    assert.equal(c.clientText(), 'too many connections\n');
    assert.equal(metrics.get('rejected'), 1);
    assert.equal(metrics.get('active'), 2);
    assert.equal(shared.get('conn-limit/default/10.0.0.1'), 2);
    // Another IP has its own count.
    assert.equal((await open('10.0.0.2')).lastStatus, 'Continue');
    assert.equal(metrics.get('active'), 3);
  });

  test('onClose releases a slot exactly once; rejected connections release nothing', async () => {
    const { shared, metrics, open } = setup({ maxPerIp: 1 });
    const a = await open();
    const rejected = await open();
    assert.equal(rejected.closed, 'flush');
    assert.equal(rejected.clientText(), '');  // no message configured
    assert.deepEqual(rejected.closeEvents, ['local']);
    assert.equal(shared.get('conn-limit/default/10.0.0.1'), 1);
    a.remoteClose();
    a.filter.onClose?.('local', a.ctx);  // a second close event changes nothing
    assert.equal(shared.get('conn-limit/default/10.0.0.1'), 0);
    assert.equal(shared.values.size, 0);
    assert.equal(metrics.get('active'), 0);
    const b = await open();
    assert.equal(b.lastStatus, 'Continue');
    assert.equal(metrics.get('active'), 1);
    assert.equal(metrics.get('rejected'), 1);
  });

  test('scopes keep separate counts', async () => {
    const shared = new FakeShared();
    const one = new FakeConnection(connLimit, { maxPerIp: 1, scope: 'a' }, { shared });
    const two = new FakeConnection(connLimit, { maxPerIp: 1, scope: 'b' }, { shared });
    assert.equal(await one.open(), 'Continue');
    assert.equal(await two.open(), 'Continue');
  });

  test('parseConfig validates', () => {
    const parse = connLimit.parseConfig as (raw: unknown) => unknown;
    assert.throws(() => parse(undefined), /config must be an object/);
    assert.throws(() => parse({}), /"maxPerIp" must be an integer >= 1/);
    assert.throws(() => parse({ maxPerIp: 0 }), /"maxPerIp"/);
    assert.throws(() => parse({ maxPerIp: 1.5 }), /"maxPerIp"/);
    assert.throws(() => parse({ maxPerIp: 1, message: 3 }), /"message" must be a string/);
    assert.throws(() => parse({ maxPerIp: 1, scope: '' }), /"scope"/);
    assert.throws(() => parse({ maxPerIp: 1, max: 2 }), /unknown config key\(s\): max/);
    assert.deepEqual(parse({ maxPerIp: 3 }), { maxPerIp: 3, message: '', keyPrefix: 'conn-limit/default/' });
  });
});
