import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { createTestNetworkChain, type TestConnection, type TestNetworkChain } from '../../testing';
import * as filters from '../index';

const config = { blocked: ['FLUSHALL', 'keys'], counted: ['get', 'SET'] };
const resp = (...args: string[]): string =>
  `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a, 'latin1')}\r\n${a}\r\n`).join('')}`;
const blockedError = (name: string): string => `-ERR command '${name}' is blocked by policy\r\n`;

const guard = (cfg: unknown = config): Promise<TestNetworkChain> =>
  createTestNetworkChain({ filters, chain: [{ name: 'resp-guard', config: cfg }] });

/** A connection through a fresh chain (its metrics are the connection's). */
async function connect(cfg: unknown = config): Promise<TestConnection & { metric(name: string): number }> {
  const chain = await guard(cfg);
  const conn = await chain.connect();
  assert.equal(conn.upstreamConnected, true);
  return Object.assign(conn, { metric: (name: string) => chain.metrics.get(`resp-guard.${name}`) });
}

describe('resp-guard', () => {
  test('allowed commands go upstream unchanged; blocked ones get an error and never go', async () => {
    const conn = await connect();
    await conn.send(resp('SET', 'k', 'v'));
    assert.equal(conn.upstreamText(), resp('SET', 'k', 'v'));
    await conn.send(resp('keys', '*'));
    assert.equal(conn.clientText(), '');  // SET's reply is still due: the error waits for it
    await conn.reply('+OK\r\n');
    assert.equal(conn.clientText(), `+OK\r\n${blockedError('keys')}`);
    await conn.send(resp('FlushAll'));
    assert.equal(conn.clientText(), `+OK\r\n${blockedError('keys')}${blockedError('flushall')}`);
    assert.equal(conn.upstreamText(), resp('SET', 'k', 'v'));
    assert.equal(conn.closedBy, null);
    assert.equal(conn.metric('commands.set'), 1);
    assert.equal(conn.metric('blocked'), 2);
  });

  test('inline commands, quoted names and case are recognised', async () => {
    const conn = await connect();
    await conn.send('PING\r\nkeys *\r\n"KE\\x59S" *\r\n  \'keys\'  x\r\nget a\n\r\n');
    assert.equal(conn.upstreamText(), 'PING\r\nget a\n');  // the blank line is dropped
    assert.equal(conn.clientText(), '');  // PING's reply is due first
    await conn.reply('+PONG\r\n$-1\r\n');
    assert.equal(conn.clientText(), `+PONG\r\n${blockedError('keys').repeat(3)}$-1\r\n`);
    assert.equal(conn.metric('commands.other'), 1);
    assert.equal(conn.metric('commands.get'), 1);
  });

  test('pipelining: errors land between the replies in command order', async () => {
    const conn = await connect();
    const pipeline = [
      resp('KEYS', '*'), resp('SET', 'a', '1'), resp('GET', 'a'), resp('KEYS', 'a*'),
      resp('INCR', 'n'), resp('FLUSHALL'), resp('FLUSHALL'), resp('LRANGE', 'l', '0', '-1'), resp('KEYS', 'z'),
    ];
    await conn.send(pipeline.join(''));
    // The allowed commands went in order, adjacent ones as one run.
    assert.equal(conn.upstreamChunks.length, 3);
    assert.equal(conn.upstreamText(), [pipeline[1], pipeline[2], pipeline[4], pipeline[7]].join(''));
    // Nothing was due before the first KEYS: its error is immediate.
    assert.equal(conn.clientText(), blockedError('keys'));
    // Replies arrive split anywhere, including inside nested arrays and bulk strings.
    const replies = '+OK\r\n$1\r\n1\r\n:1\r\n*3\r\n$1\r\nx\r\n*2\r\n:1\r\n$-1\r\n$3\r\nyz\n\r\n';
    for (const c of replies) await conn.reply(c);
    assert.equal(conn.clientText(), [
      blockedError('keys'), '+OK\r\n', '$1\r\n1\r\n', blockedError('keys'), ':1\r\n',
      blockedError('flushall'), blockedError('flushall'), '*3\r\n$1\r\nx\r\n*2\r\n:1\r\n$-1\r\n$3\r\nyz\n\r\n',
      blockedError('keys'),
    ].join(''));
  });

  test('a command split byte by byte is held until complete, then forwarded once', async () => {
    const conn = await connect();
    const command = resp('SET', 'key', 'a\r\nvalue with $3\r\n inside');
    for (const c of command.slice(0, -1)) {
      await conn.send(c);
      assert.equal(conn.upstreamText(), '', 'held until the command is complete');
    }
    await conn.send(command.slice(-1));
    assert.equal(conn.upstreamChunks.length, 1);
    assert.equal(conn.upstreamText(), command);
    assert.equal(conn.heldBytes, 0);
    // A blocked command split the same way never goes.
    for (const c of resp('KEYS', '*')) await conn.send(c);
    await conn.reply('+OK\r\n');
    assert.equal(conn.clientText(), `+OK\r\n${blockedError('keys')}`);
    assert.equal(conn.upstreamChunks.length, 1);
  });

  test('every cut of a pipeline gives the same upstream bytes and client bytes', async () => {
    const stream = resp('SET', 'a', 'xyz') + resp('KEYS', '*') + 'GET a\r\n' + resp('FLUSHALL') + resp('DEL', 'a');
    for (let cut = 1; cut < stream.length; cut++) {
      const conn = await connect();
      await conn.send(stream.slice(0, cut));
      await conn.send(stream.slice(cut));
      assert.equal(conn.upstreamText(), resp('SET', 'a', 'xyz') + 'GET a\r\n' + resp('DEL', 'a'), `cut ${cut}`);
      await conn.reply('+OK\r\n$3\r\nxyz\r\n:1\r\n');
      assert.equal(conn.clientText(),
                   `+OK\r\n${blockedError('keys')}$3\r\nxyz\r\n${blockedError('flushall')}:1\r\n`, `cut ${cut}`);
    }
  });

  test('a malformed command closes the connection after the valid ones before it', async () => {
    for (const bad of ['*2\r\n$3\r\nGET\r\n:1\r\n', '*x\r\n', '*1\r\n$3\r\nGETX\r\n', `*1\r\n$${'9'.repeat(30)}`]) {
      const conn = await connect();
      await conn.send(resp('SET', 'a', '1') + bad + resp('GET', 'a'));
      assert.equal(conn.upstreamText(), resp('SET', 'a', '1'), bad);
      assert.equal(conn.closedBy, 'flush', bad);
      assert.match(conn.clientText(), /^-ERR Protocol error: /, bad);
      assert.equal(conn.metric('malformed'), 1);
    }
  });

  test('too large commands are malformed; empty multibulks are ignored', async () => {
    const conn = await connect({ blocked: [], maxCommandSize: 64 });
    await conn.send('*0\r\n*-1\r\n' + resp('SET', 'k', 'v'));
    assert.equal(conn.upstreamText(), resp('SET', 'k', 'v'));
    await conn.send(resp('SET', 'k', 'v'.repeat(64)).slice(0, 26));
    assert.equal(conn.closedBy, 'flush');
    assert.match(conn.clientText(), /exceeds maxCommandSize/);
    const inline = await connect({ blocked: [] });
    await inline.send('x'.repeat(64 * 1024));
    assert.equal(inline.closedBy, 'flush');
  });

  test('end of stream: complete commands go with it, a truncated one is dropped', async () => {
    const conn = await connect();
    await conn.send(resp('GET', 'a') + '*2\r\n$3\r\nGE', { end: true });
    assert.equal(conn.upstreamText(), resp('GET', 'a'));
    assert.ok(conn.upstreamEnded);
    assert.equal(conn.heldBytes, 0);
  });

  test('after SUBSCRIBE, errors are written at once', async () => {
    const conn = await connect();
    await conn.send(resp('SUBSCRIBE', 'ch'));
    await conn.send(resp('KEYS', '*'));
    assert.equal(conn.clientText(), blockedError('keys'));
    // RESP3 pushes stop reply counting: deferred errors go out with the next write.
    const other = await connect();
    await other.send(resp('GET', 'a') + resp('KEYS', '*'));
    await other.reply('>3\r\n$7\r\nmessage\r\n');
    assert.equal(other.clientText(), `>3\r\n$7\r\nmessage\r\n${blockedError('keys')}`);
  });

  test('parseConfig validates and metrics follow the config', async () => {
    for (const [cfg, message] of [
      [undefined, /config must be an object/],
      [{}, /"blocked" must be an array of command names/],
      [{ blocked: ['KEYS *'] }, /"blocked" must be an array/],
      [{ blocked: [1] }, /"blocked"/],
      [{ blocked: [], counted: 'GET' }, /"counted"/],
      [{ blocked: [], maxCommandSize: 1 }, /maxCommandSize/],
      [{ blocked: [], block: [] }, /unknown config key\(s\): block/],
    ] as const) {
      await assert.rejects(createTestNetworkChain({ filters, chain: [{ name: 'resp-guard', config: cfg }] }), message);
    }
    const declared = async (cfg: unknown, names: string[]): Promise<void> => {
      const chain = await guard(cfg);
      for (const name of ['commands.hget', 'commands.get', 'commands.set', 'commands.other', 'blocked', 'malformed']) {
        if (names.includes(name)) assert.equal(chain.metrics.get(`resp-guard.${name}`), 0, name);
        else assert.throws(() => chain.metrics.get(`resp-guard.${name}`), /declares no metric/, name);
      }
      await chain.close();
    };
    await declared({ blocked: ['KEYS'], counted: ['hget'] }, ['commands.hget', 'commands.other', 'blocked', 'malformed']);
    await declared({ blocked: [] }, ['blocked', 'commands.get', 'commands.other', 'commands.set', 'malformed']);
  });
});
