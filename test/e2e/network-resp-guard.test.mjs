// resp-guard through a real proxy, in front of a real redis-server, with redis-cli and raw sockets.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { examplesBundle, proxyName } from './harness.mjs';
import {
  connectRaw, haveRedis, redisCli, resp, sleep, startRedis, startTcpProxy, until,
} from './network-harness.mjs';

const skip = haveRedis() ? false : 'redis-server/redis-cli are not installed (scripts/setup.sh installs them)';
const blockedError = (name) => `-ERR command '${name}' is blocked by policy\r\n`;
const chain = (blocked = ['FLUSHALL', 'FLUSHDB', 'KEYS', 'CONFIG']) => ({
  bundle: examplesBundle,
  chain: [{ name: 'resp-guard', config: { blocked } }],
});
let keySeq = 0;
const uniqueKey = (what) => `e2e:${what}:${process.pid}:${++keySeq}`;

describe(`resp-guard in front of redis-server through ${proxyName}`, { skip, timeout: 30000 }, () => {
  let redis;
  let proxy;

  before(async () => {
    redis = await startRedis();
    proxy = await startTcpProxy({ clusters: [{ name: 'redis', port: redis.port }], filterConfigs: [chain()] });
  });

  after(async () => {
    await proxy?.stop();
    await redis?.stop();
  });

  test('redis-cli: SET then GET round-trips through the proxy', async () => {
    const key = uniqueKey('roundtrip');
    const set = await redisCli(proxy.port, 'SET', key, 'hello world');
    assert.equal(set.stdout.trim(), 'OK', set.stderr);
    const get = await redisCli(proxy.port, 'GET', key);
    assert.equal(get.stdout.trim(), 'hello world');
    // It really is in redis.
    assert.equal((await redis.cli('GET', key)).stdout.trim(), 'hello world');
  });

  test('blocked commands get the policy error and never reach redis', async () => {
    const key = uniqueKey('survivor');
    assert.equal((await redis.cli('SET', key, 'still here')).stdout.trim(), 'OK');
    for (const [args, name] of [[['FLUSHALL'], 'flushall'], [['flushdb'], 'flushdb'], [['KEYS', '*'], 'keys'],
                                [['config', 'set', 'save', ''], 'config']]) {
      const result = await redisCli(proxy.port, ...args);
      assert.match(result.stdout + result.stderr, new RegExp(`ERR command '${name}' is blocked by policy`),
                   `${args.join(' ')}: ${JSON.stringify(result)}`);
    }
    assert.equal((await redis.cli('GET', key)).stdout.trim(), 'still here');
    // Redis never saw them: its command stats have no flushall/keys/config calls.
    const stats = (await redis.cli('INFO', 'commandstats')).stdout;
    assert.doesNotMatch(stats, /cmdstat_(flushall|flushdb|keys|config)/);
  });

  test('pipelining: mixed allowed and blocked commands in one write keep their order', async () => {
    const key = uniqueKey('pipe');
    const counter = uniqueKey('ctr');
    const client = await connectRaw(proxy.port);
    try {
      await client.write(
        resp('SET', key, 'v1') + resp('KEYS', '*') + resp('GET', key) + resp('FLUSHALL') +
        resp('INCR', counter) + `GET ${key}\r\n` + resp('keys', 'x') + resp('INCR', counter));
      const expected = '+OK\r\n' + blockedError('keys') + '$2\r\nv1\r\n' + blockedError('flushall') +
        ':1\r\n' + '$2\r\nv1\r\n' + blockedError('keys') + ':2\r\n';
      await client.readUntil((text) => text.length >= expected.length, 'all 8 replies');
      await sleep(50);
      assert.equal(client.text(), expected);
    } finally {
      client.close();
    }
  });

  test('pipelining: 300 commands in one write, every 7th blocked, replies in order', async () => {
    const key = uniqueKey('many');
    const client = await connectRaw(proxy.port);
    try {
      let commands = '';
      let expected = '';
      for (let i = 0; i < 300; i++) {
        if (i % 7 === 3) {
          commands += resp('KEYS', `${key}*`);
          expected += blockedError('keys');
        } else {
          commands += resp('RPUSH', key, `item-${i}`);
          expected += `:${i + 1 - Math.floor((i + 4) / 7)}\r\n`;  // list length so far
        }
      }
      await client.write(commands);
      await client.readUntil((text) => text.length >= expected.length, 'all 300 replies', 10000);
      assert.equal(client.text(), expected);
    } finally {
      client.close();
    }
  });

  test('a command split into one-byte TCP writes works; a split blocked command is still blocked', async () => {
    const key = uniqueKey('bytewise');
    const client = await connectRaw(proxy.port);
    try {
      await client.writeBytewise(resp('SET', key, 'split\r\nvalue'));
      await client.readUntil((text) => text === '+OK\r\n', '+OK');
      await client.writeBytewise(resp('FLUSHALL') + `GET ${key}\r\n`);
      const expected = `+OK\r\n${blockedError('flushall')}$12\r\nsplit\r\nvalue\r\n`;
      await client.readUntil((text) => text.length >= expected.length, 'the error and the GET reply');
      assert.equal(client.text(), expected);
    } finally {
      client.close();
    }
    assert.equal((await redis.cli('GET', key)).stdout, 'split\r\nvalue\n');
  });

  test('a client that aborts mid-command leaves the proxy (and redis) healthy', async () => {
    const key = uniqueKey('aborted');
    for (let i = 0; i < 5; i++) {
      const client = await connectRaw(proxy.port);
      // A SET whose value never completes, then a reset.
      await client.write(`*3\r\n$3\r\nSET\r\n$${key.length}\r\n${key}\r\n$100\r\nonly part`);
      await sleep(20);
      client.socket.resetAndDestroy?.() ?? client.close();
    }
    // The half-sent SETs never reached redis as a command.
    assert.equal((await redis.cli('EXISTS', key)).stdout.trim(), '0');
    const ping = await redisCli(proxy.port, 'PING');
    assert.equal(ping.stdout.trim(), 'PONG');
    assert.equal(proxy.exited, null);
  });

  test('a malformed command gets a protocol error and the connection is closed', async () => {
    const before = (await proxy.stat('resp-guard.malformed')) ?? 0;
    const client = await connectRaw(proxy.port);
    await client.write('*2\r\n$3\r\nGET\r\n:12\r\n');
    await client.waitClosed();
    assert.match(client.text(), /^-ERR Protocol error: /);
    await until(async () => (await proxy.stat('resp-guard.malformed')) === before + 1, 'resp-guard.malformed + 1');
  });

  test('metrics: per-command counters and blocked are visible in the admin /stats', async () => {
    const stat = async (name) => (await proxy.stat(`resp-guard.${name}`)) ?? 0;
    const before = { get: await stat('commands.get'), set: await stat('commands.set'),
                     other: await stat('commands.other'), blocked: await stat('blocked') };
    const key = uniqueKey('metrics');
    const client = await connectRaw(proxy.port);
    try {
      await client.write(resp('SET', key, '1') + resp('GET', key) + resp('GET', key) + resp('EXISTS', key) +
                         resp('KEYS', '*') + 'PING\r\n');
      await client.readUntil((text) => text.endsWith('+PONG\r\n'), 'the PING reply');
    } finally {
      client.close();
    }
    await until(async () => (await stat('commands.get')) === before.get + 2 &&
                            (await stat('commands.set')) === before.set + 1 &&
                            (await stat('commands.other')) === before.other + 2 &&
                            (await stat('blocked')) === before.blocked + 1,
                'commands.get +2, commands.set +1, commands.other +2, blocked +1 in /stats', 3000)
      .catch(async (error) => {
        throw new Error(`${error.message}; /stats has:\n${(await proxy.statsText()).split('\n')
          .filter((line) => line.includes('resp-guard')).join('\n')}`);
      });
  });
});

describe(`resp-guard when redis goes away (${proxyName})`, { skip, timeout: 20000 }, () => {
  let redis;
  let proxy;

  before(async () => {
    redis = await startRedis();
    proxy = await startTcpProxy({ clusters: [{ name: 'redis', port: redis.port }], filterConfigs: [chain()] });
  });

  after(async () => {
    await proxy?.stop();
    await redis?.stop();
  });

  test('killing redis closes the client connection', async () => {
    const client = await connectRaw(proxy.port);
    try {
      await client.write('PING\r\n');
      await client.readUntil((text) => text === '+PONG\r\n', 'PONG');
      await redis.stop();
      await client.waitClosed(5000);
      assert.equal(proxy.exited, null);
    } finally {
      client.close();
    }
  });
});
