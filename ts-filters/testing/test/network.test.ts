import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { NetworkStatus, defineNetworkFilter } from '../../api';
import { createTestNetworkChain } from '../index';

/** Holds the client's bytes until a line is complete, upper-cases replies, closes on "bye". */
const lines = defineNetworkFilter({
  name: 'lines',
  metrics: { lines: 'counter' },
  onData(buffer, _endOfStream, ctx) {
    const text = buffer.text();
    if (text.includes('bye')) {
      ctx.write('goodbye\n');
      ctx.close('flush');
      return NetworkStatus.StopIteration;
    }
    if (!text.endsWith('\n')) return NetworkStatus.StopIteration;
    ctx.metrics.increment('lines', text.split('\n').length - 1);
    return NetworkStatus.Continue;
  },
  onWrite(buffer) {
    buffer.replace(buffer.text().toUpperCase());
  },
});

describe('createTestNetworkChain', () => {
  test('bytes are held until the filter continues, then reach the upstream; replies pass onWrite', async () => {
    const chain = await createTestNetworkChain({ filters: [lines], chain: [{ name: 'lines' }] });
    const conn = await chain.connect();
    assert.equal(conn.upstreamConnected, true, 'no onNewConnection: the chain goes on at once');
    await conn.send('hel');
    assert.equal(conn.heldBytes, 3);
    assert.equal(conn.upstreamText(), '');
    await conn.send('lo\n');
    assert.equal(conn.upstreamText(), 'hello\n');
    assert.equal(conn.heldBytes, 0);
    await conn.reply('hi there');
    assert.equal(conn.clientText(), 'HI THERE');
    assert.equal(chain.metrics.get('lines.lines'), 1);
    await chain.close();
  });

  test('a filter that closes: the client gets its write (through onWrite), onClose sees "local"', async () => {
    const chain = await createTestNetworkChain({ filters: [lines], chain: [{ name: 'lines' }] });
    const conn = await chain.connect();
    await conn.send('bye\n');
    assert.equal(conn.closedBy, 'flush');
    assert.equal(conn.clientText(), 'GOODBYE\n');
    assert.deepEqual(conn.closeEvents, ['local']);
    await assert.rejects(conn.send('more'), /the connection is closed/);
    await chain.close();
  });

  test('HTTP-only options are refused', async () => {
    await assert.rejects(createTestNetworkChain({ filters: [lines], chain: [{ name: 'lines' }], upstream: () => ({}) } as never),
                         /does not take upstream/);
  });
});
