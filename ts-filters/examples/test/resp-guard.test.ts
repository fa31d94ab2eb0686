import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { respGuard } from '../resp-guard';
import { FakeConnection } from './fake-network';

const config = { blocked: ['FLUSHALL', 'keys'], counted: ['get', 'SET'] };
const resp = (...args: string[]): string =>
  `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a, 'latin1')}\r\n${a}\r\n`).join('')}`;
const blockedError = (name: string): string => `-ERR command '${name}' is blocked by policy\r\n`;

async function connect(cfg: unknown = config): Promise<FakeConnection<ReturnType<NonNullable<typeof respGuard.parseConfig>>>> {
  const conn = new FakeConnection(respGuard, cfg);
  assert.equal(await conn.open(), 'Continue');
  return conn;
}

describe('resp-guard', () => {
  test('allowed commands go upstream unchanged; blocked ones get an error and never go', async () => {
    const conn = await connect();
    await conn.send(resp('SET', 'k', 'v'));
    assert.equal(conn.upstreamText(), resp('SET', 'k', 'v'));
    await conn.send(resp('keys', '*'));
    assert.equal(conn.clientText(), '');  // SET's reply is still due: the error waits for it
    conn.reply('+OK\r\n');
    assert.equal(conn.clientText(), `+OK\r\n${blockedError('keys')}`);
    await conn.send(resp('FlushAll'));
    assert.equal(conn.clientText(), `+OK\r\n${blockedError('keys')}${blockedError('flushall')}`);
    assert.equal(conn.upstreamText(), resp('SET', 'k', 'v'));
    assert.equal(conn.closed, null);
    assert.equal(conn.metrics.get('commands.set'), 1);
    assert.equal(conn.metrics.get('blocked'), 2);
  });

  test('inline commands, quoted names and case are recognised', async () => {
    const conn = await connect();
    await conn.send('PING\r\nkeys *\r\n"KE\\x59S" *\r\n  \'keys\'  x\r\nget a\n\r\n');
    assert.equal(conn.upstreamText(), 'PING\r\nget a\n');  // the blank line is dropped
    assert.equal(conn.clientText(), '');  // PING's reply is due first
    conn.reply('+PONG\r\n$-1\r\n');
    assert.equal(conn.clientText(), `+PONG\r\n${blockedError('keys').repeat(3)}$-1\r\n`);
    assert.equal(conn.metrics.get('commands.other'), 1);
    assert.equal(conn.metrics.get('commands.get'), 1);
  });

  test('pipelining: errors land between the replies in command order', async () => {
    const conn = await connect();
    const pipeline = [
      resp('KEYS', '*'), resp('SET', 'a', '1'), resp('GET', 'a'), resp('KEYS', 'a*'),
      resp('INCR', 'n'), resp('FLUSHALL'), resp('FLUSHALL'), resp('LRANGE', 'l', '0', '-1'), resp('KEYS', 'z'),
    ];
    await conn.send(pipeline.join(''));
    // The allowed commands went in order, adjacent ones as one run.
    assert.equal(conn.upstream.length, 3);
    assert.equal(conn.upstreamText(), [pipeline[1], pipeline[2], pipeline[4], pipeline[7]].join(''));
    // Nothing was due before the first KEYS: its error is immediate.
    assert.equal(conn.clientText(), blockedError('keys'));
    // Replies arrive split anywhere, including inside nested arrays and bulk strings.
    const replies = '+OK\r\n$1\r\n1\r\n:1\r\n*3\r\n$1\r\nx\r\n*2\r\n:1\r\n$-1\r\n$3\r\nyz\n\r\n';
    for (const c of replies) conn.reply(c);
    assert.equal(conn.clientText(), [
      blockedError('keys'), '+OK\r\n', '$1\r\n1\r\n', blockedError('keys'), ':1\r\n',
      blockedError('flushall'), blockedError('flushall'), '*3\r\n$1\r\nx\r\n*2\r\n:1\r\n$-1\r\n$3\r\nyz\n\r\n',
      blockedError('keys'),
    ].join(''));
  });

  test('a command split byte by byte is held until complete, then forwarded once', async () => {
    const conn = await connect();
    const command = resp('SET', 'key', 'a\r\nvalue with $3\r\n inside');
    for (const c of command) {
      assert.equal(await conn.send(c), 'StopIteration');
    }
    assert.equal(conn.upstream.length, 1);
    assert.equal(conn.upstreamText(), command);
    assert.equal(conn.readBuffer.length, 0);
    // A blocked command split the same way never goes.
    for (const c of resp('KEYS', '*')) await conn.send(c);
    conn.reply('+OK\r\n');
    assert.equal(conn.clientText(), `+OK\r\n${blockedError('keys')}`);
    assert.equal(conn.upstream.length, 1);
  });

  test('every cut of a pipeline gives the same upstream bytes and client bytes', async () => {
    const stream = resp('SET', 'a', 'xyz') + resp('KEYS', '*') + 'GET a\r\n' + resp('FLUSHALL') + resp('DEL', 'a');
    for (let cut = 1; cut < stream.length; cut++) {
      const conn = await connect();
      await conn.send(stream.slice(0, cut));
      await conn.send(stream.slice(cut));
      assert.equal(conn.upstreamText(), resp('SET', 'a', 'xyz') + 'GET a\r\n' + resp('DEL', 'a'), `cut ${cut}`);
      conn.reply('+OK\r\n$3\r\nxyz\r\n:1\r\n');
      assert.equal(conn.clientText(),
                   `+OK\r\n${blockedError('keys')}$3\r\nxyz\r\n${blockedError('flushall')}:1\r\n`, `cut ${cut}`);
    }
  });

  test('a malformed command closes the connection after the valid ones before it', async () => {
    for (const bad of ['*2\r\n$3\r\nGET\r\n:1\r\n', '*x\r\n', '*1\r\n$3\r\nGETX\r\n', `*1\r\n$${'9'.repeat(30)}`]) {
      const conn = await connect();
      await conn.send(resp('SET', 'a', '1') + bad + resp('GET', 'a'));
      assert.equal(conn.upstreamText(), resp('SET', 'a', '1'), bad);
      assert.equal(conn.closed, 'flush', bad);
      assert.match(conn.clientText(), /^-ERR Protocol error: /, bad);
      assert.equal(conn.metrics.get('malformed'), 1);
    }
  });

  test('too large commands are malformed; empty multibulks are ignored', async () => {
    const conn = await connect({ blocked: [], maxCommandSize: 64 });
    await conn.send('*0\r\n*-1\r\n' + resp('SET', 'k', 'v'));
    assert.equal(conn.upstreamText(), resp('SET', 'k', 'v'));
    await conn.send(resp('SET', 'k', 'v'.repeat(64)).slice(0, 26));
    assert.equal(conn.closed, 'flush');
    assert.match(conn.clientText(), /exceeds maxCommandSize/);
    const inline = await connect({ blocked: [] });
    await inline.send('x'.repeat(64 * 1024));
    assert.equal(inline.closed, 'flush');
  });

  test('end of stream: complete commands go with it, a truncated one is dropped', async () => {
    const conn = await connect();
    await conn.send(resp('GET', 'a') + '*2\r\n$3\r\nGE', true);
    assert.equal(conn.upstreamText(), resp('GET', 'a'));
    assert.ok(conn.upstreamEnded);
    assert.equal(conn.readBuffer.length, 0);
  });

  test('after SUBSCRIBE, errors are written at once', async () => {
    const conn = await connect();
    await conn.send(resp('SUBSCRIBE', 'ch'));
    await conn.send(resp('KEYS', '*'));
    assert.equal(conn.clientText(), blockedError('keys'));
    // RESP3 pushes stop reply counting: deferred errors go out with the next write.
    const other = await connect();
    await other.send(resp('GET', 'a') + resp('KEYS', '*'));
    other.reply('>3\r\n$7\r\nmessage\r\n');
    assert.equal(other.clientText(), `>3\r\n$7\r\nmessage\r\n${blockedError('keys')}`);
  });

  test('parseConfig validates and metrics follow the config', () => {
    const parse = respGuard.parseConfig as (raw: unknown) => unknown;
    assert.throws(() => parse(undefined), /config must be an object/);
    assert.throws(() => parse({}), /"blocked" must be an array of command names/);
    assert.throws(() => parse({ blocked: ['KEYS *'] }), /"blocked" must be an array/);
    assert.throws(() => parse({ blocked: [1] }), /"blocked"/);
    assert.throws(() => parse({ blocked: [], counted: 'GET' }), /"counted"/);
    assert.throws(() => parse({ blocked: [], maxCommandSize: 1 }), /maxCommandSize/);
    assert.throws(() => parse({ blocked: [], block: [] }), /unknown config key\(s\): block/);
    const metrics = respGuard.metrics as (config: unknown) => Record<string, string>;
    assert.deepEqual(metrics(parse({ blocked: ['KEYS'], counted: ['hget'] })), {
      'commands.hget': 'counter', 'commands.other': 'counter', blocked: 'counter', malformed: 'counter',
    });
    assert.deepEqual(Object.keys(metrics(parse({ blocked: [] }))).sort(),
                     ['blocked', 'commands.get', 'commands.other', 'commands.set', 'malformed']);
  });
});
