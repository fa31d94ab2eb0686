import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { MapPrototypeGet, ReflectApply, RegExpPrototypeExec, thenOf } from '../primordials';

// Replaces `owner[name]` with a function that throws while `body` runs, then puts it back.
async function whilePatched(owner: object, name: string, body: () => unknown): Promise<void> {
  const original = (owner as Record<string, unknown>)[name];
  (owner as Record<string, unknown>)[name] = () => { throw new Error(`patched ${name}`); };
  try {
    await body();
  } finally {
    (owner as Record<string, unknown>)[name] = original;
  }
}

describe('primordials', () => {
  test('captured methods keep working when bundle code replaces the builtins', async () => {
    const map = new Map([['a', 1]]);
    await whilePatched(Map.prototype, 'get', () => assert.equal(MapPrototypeGet(map, 'a'), 1));
    await whilePatched(Function.prototype, 'call', () => assert.equal(MapPrototypeGet(map, 'a'), 1));
    await whilePatched(Function.prototype, 'apply', () => assert.equal(ReflectApply((x: number) => x + 1, undefined, [1]), 2));
    await whilePatched(RegExp.prototype, 'exec', () => assert.notEqual(RegExpPrototypeExec(/b/, 'abc'), null));
  });

  test('thenOf reaches a promise of this realm through the captured then, and any other thenable', async () => {
    let seen: unknown;
    await whilePatched(Promise.prototype, 'then', async () => {
      thenOf(Promise.resolve(7), (value) => { seen = value; }, () => undefined);
      await new Promise((resolve) => setImmediate(resolve));
    });
    assert.equal(seen, 7);
    const thenable = { then(ok: (value: unknown) => void) { ok('own then'); } };
    thenOf(thenable as PromiseLike<unknown>, (value) => { seen = value; }, () => undefined);
    assert.equal(seen, 'own then');
  });
});
