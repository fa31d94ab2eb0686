import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { defineHttpFilter, isHttpFilter } from '../http-filter';

describe('defineHttpFilter', () => {
  test('brands the definition with the registered symbol, frozen', () => {
    const f = defineHttpFilter({ name: 'x', onRequestHeaders() {} });
    assert.equal((f as unknown as Record<symbol, unknown>)[Symbol.for('envoy-ts.http-filter')], 1);
    assert.ok(Object.isFrozen(f));
    assert.ok(isHttpFilter(f));
    assert.ok(!isHttpFilter({ name: 'x' }));
    assert.ok(!isHttpFilter(null));
    // What another bundle's copy makes is recognised too.
    assert.ok(isHttpFilter({ name: 'y', [Symbol.for('envoy-ts.http-filter')]: 1 }));
    assert.ok(!isHttpFilter({ name: 'y', [Symbol.for('envoy-ts.http-filter')]: 2 }));
  });

  test('rejects bad names and non-function hooks', () => {
    assert.throws(() => defineHttpFilter({ name: '' }), TypeError);
    assert.throws(() => defineHttpFilter({ name: ' x' }), TypeError);
    assert.throws(() => defineHttpFilter({ name: 'x', onRequestHeaders: 5 as unknown as () => void }),
                  /`onRequestHeaders` must be a function/);
    assert.throws(() => defineHttpFilter(null as unknown as { name: string }), TypeError);
  });

  test('infers the config type from parseConfig', () => {
    const f = defineHttpFilter({
      name: 'typed',
      parseConfig: (raw: unknown) => ({ n: Number(raw) }),
      onRequestHeaders(_h, ctx) {
        const n: number = ctx.config.n;
        void n;
      },
    });
    assert.equal(f.parseConfig?.('3').n, 3);
  });
});
