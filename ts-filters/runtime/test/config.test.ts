import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, describe, test } from 'node:test';

import { defineHttpFilter } from '../../api/http-filter';
import { setup } from './fake-binding';

const dir = mkdtempSync(join(tmpdir(), 'envoy-ts-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// A bundle built separately from the runtime: it brands its filters through the registered symbol.
const good = join(dir, 'good.js');
writeFileSync(good, `
  const brand = Symbol.for('envoy-ts.http-filter');
  const def = (o) => Object.freeze({ ...o, [brand]: 1 });
  exports.a = def({ name: 'a', onRequestHeaders() {} });
  exports.list = [def({ name: 'b' }), def({ name: 'strict', parseConfig(raw) {
    if (raw === undefined || typeof raw.n !== 'number') throw new TypeError('"n" must be a number');
    return raw;
  } })];
  exports.default = def({ name: 'd' });
  exports.notAFilter = { name: 'nope' };
`);
const throwing = join(dir, 'throwing.js');
writeFileSync(throwing, `throw new Error('boom at load');`);

function load(config: unknown): string | undefined {
  const { runtime } = setup();
  return runtime.loadConfig(1, typeof config === 'string' ? config : JSON.stringify(config), 0);
}

describe('loadConfig', () => {
  test('accepts a valid config: named, array and default exports across bundles', () => {
    assert.equal(load({ bundle: good, chain: [{ name: 'a' }, { name: 'b' }, { name: 'd' }] }), undefined);
    assert.equal(load({ bundle: good, chain: [{ name: 'strict', config: { n: 1 } }], failurePolicy: 'open' }),
                 undefined);
  });

  test('invalid JSON names the parse error', () => {
    const message = load('{"bundle": ');
    assert.match(message ?? '', /^filter_config is not valid JSON: .*JSON/);
  });

  test('not an object', () => {
    assert.match(load('[1]') ?? '', /must be a JSON object/);
  });

  test('missing or non-string bundle', () => {
    assert.match(load({ chain: [{ name: 'a' }] }) ?? '', /'bundle' is required and must be a string/);
    assert.match(load({ bundle: 42, chain: [{ name: 'a' }] }) ?? '', /'bundle' is required/);
  });

  test('a relative bundle path is resolved against the working directory', () => {
    assert.equal(load({ bundle: relative(process.cwd(), good), chain: [{ name: 'a' }] }), undefined);
    assert.match(load({ bundle: 'dist/x.js', chain: [{ name: 'a' }] }) ?? '',
                 new RegExp(`bundle not found: ${join(process.cwd(), 'dist/x.js')}`));
  });

  test('bundle not found names the path', () => {
    const path = join(dir, 'missing.js');
    assert.equal(load({ bundle: path, chain: [{ name: 'a' }] }), `bundle not found: ${path}`);
  });

  test('bundle throwing at load names the path and the error', () => {
    assert.equal(load({ bundle: throwing, chain: [{ name: 'a' }] }),
                 `bundle ${throwing} failed to load: boom at load`);
  });

  test('chain missing, empty or not an array', () => {
    for (const chain of [undefined, [], { name: 'a' }]) {
      assert.match(load({ bundle: good, chain }) ?? '', /'chain' must be a non-empty array/);
    }
  });

  test('entry without a string name', () => {
    assert.match(load({ bundle: good, chain: [{ name: 'a' }, { config: {} }] }) ?? '',
                 /chain\[1\] must be an object with a non-empty string 'name'/);
    assert.match(load({ bundle: good, chain: ['a'] }) ?? '', /chain\[0\] must be an object/);
  });

  test('unknown keys in an entry', () => {
    assert.match(load({ bundle: good, chain: [{ name: 'a', confg: {} }] }) ?? '', /chain\[0\] \('a'\) has unknown key\(s\) 'confg'/);
  });

  test('filter not exported lists the available names', () => {
    assert.equal(load({ bundle: good, chain: [{ name: 'zzz' }] }),
                 `chain[0]: HTTP filter 'zzz' is not exported by ${good} (available: 'a', 'b', 'strict', 'd')`);
  });

  test('offload settings: defaults, and each bad value named', () => {
    assert.equal(load({ bundle: good, chain: [{ name: 'a' }], offload: { threads: 4, idleTimeoutMs: 0 } }), undefined);
    assert.equal(load({ bundle: good, chain: [{ name: 'a' }], offload: { threads: 0 } }),
                 `'offload.threads' must be an integer in 1-64, got 0`);
    assert.equal(load({ bundle: good, chain: [{ name: 'a' }], offload: { idleTimeoutMs: -1 } }),
                 `'offload.idleTimeoutMs' must be a non-negative integer, got -1`);
    assert.equal(load({ bundle: good, chain: [{ name: 'a' }], offload: { thread: 2 } }),
                 `'offload' has unknown key(s) 'thread' (allowed: 'threads', 'idleTimeoutMs')`);
    assert.equal(load({ bundle: good, chain: [{ name: 'a' }], offload: 2 }),
                 `'offload' must be an object like {"threads": 2}`);
  });

  test('cpuBudgetMs and asyncTimeoutMs: per chain and per filter, each bad value named', () => {
    assert.equal(load({ bundle: good, chain: [{ name: 'a', cpuBudgetMs: 5, asyncTimeoutMs: 0 }], cpuBudgetMs: 0,
                        asyncTimeoutMs: 100 }), undefined);
    assert.equal(load({ bundle: good, chain: [{ name: 'a' }], cpuBudgetMs: 60_001 }),
                 `'cpuBudgetMs' must be an integer number of milliseconds from 0 (no limit) to 60000, got 60001`);
    assert.equal(load({ bundle: good, chain: [{ name: 'a' }], asyncTimeoutMs: '5s' }),
                 `'asyncTimeoutMs' must be an integer number of milliseconds from 0 (no limit) to 86400000, got "5s"`);
    assert.equal(load({ bundle: good, chain: [{ name: 'a', cpuBudgetMs: 1.5 }] }),
                 `'chain[0].cpuBudgetMs' must be an integer number of milliseconds from 0 (no limit) to 60000, got 1.5`);
    assert.equal(load({ bundle: good, chain: [{ name: 'a', asyncTimeoutMs: -1 }] }),
                 `'chain[0].asyncTimeoutMs' must be an integer number of milliseconds from 0 (no limit) to 86400000, ` +
                 'got -1');
  });

  test('bad failurePolicy', () => {
    assert.equal(load({ bundle: good, chain: [{ name: 'a' }], failurePolicy: 'sometimes' }),
                 `'failurePolicy' must be "closed" or "open", got "sometimes"`);
  });

  test('unknown top-level keys are named', () => {
    assert.match(load({ bundle: good, chain: [{ name: 'a' }], extra: 1, policy: 2 }) ?? '',
                 /unknown key\(s\) 'extra', 'policy'/);
  });

  test("a filter's parseConfig rejection", () => {
    assert.equal(load({ bundle: good, chain: [{ name: 'strict', config: { n: 'x' } }] }),
                 `filter 'strict': "n" must be a number`);
  });

  test('two different filters with one name', () => {
    const { runtime } = setup({
      loadBundle: () => [defineHttpFilter({ name: 'x' }), defineHttpFilter({ name: 'x' })],
    });
    assert.match(runtime.loadConfig(1, JSON.stringify({ bundle: '/b.js', chain: [{ name: 'x' }] }), 0) ?? '',
                 /two different filters named 'x'/);
  });

  test('a rejected config is not kept; unloadConfig drops a config', () => {
    const { runtime, binding } = setup();
    assert.equal(runtime.loadConfig(7, JSON.stringify({ bundle: good, chain: [{ name: 'a' }] }), 0), undefined);
    const s = binding.openStream(7);
    assert.equal(binding.hook(s, 0), 0);
    runtime.unloadConfig(7);
    const s2 = binding.openStream(7);
    // Unknown config: fail closed.
    assert.equal(binding.hook(s2, 0), 2);
    assert.equal(s2.localReply?.status, 500);
  });

  test('a bundle rebuilt on disk is loaded afresh', () => {
    const path = join(dir, 'changing.js');
    const write = (name: string) => writeFileSync(path, `
      exports.f = Object.freeze({ name: '${name}', [Symbol.for('envoy-ts.http-filter')]: 1 });
      // padding ${'x'.repeat(name.length * 3)}`);
    write('one');
    assert.equal(load({ bundle: path, chain: [{ name: 'one' }] }), undefined);
    write('second');
    assert.equal(load({ bundle: path, chain: [{ name: 'second' }] }), undefined);
  });
});
