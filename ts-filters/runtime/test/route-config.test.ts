import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { defineHttpFilter } from '../../api/http-filter';
import { HookKind, HookOutcome } from '../codes';
import { withChain } from './fake-binding';

const ROUTE = 2;

function filters(seen: string[]) {
  return [
    defineHttpFilter({ name: 'a', onRequestHeaders() { seen.push('a'); } }),
    defineHttpFilter<{ greeting: string }>({
      name: 'b',
      parseConfig(raw) {
        const greeting = (raw as { greeting?: unknown } | undefined)?.greeting;
        if (typeof greeting !== 'string') throw new TypeError('"greeting" must be a string');
        return { greeting };
      },
      onRequestHeaders(_headers, ctx) { seen.push(`b:${ctx.config.greeting}`); },
    }),
  ];
}

describe('per-route config', () => {
  test('a route disables a filter or gives it another config; other routes keep the chain', () => {
    const seen: string[] = [];
    const { binding, runtime } = withChain(filters(seen), [{ name: 'a' }, { name: 'b', config: { greeting: 'hi' } }]);
    assert.equal(runtime.loadConfig(7, JSON.stringify({
      bundle: '/fake/bundle.js',
      filters: { a: { disabled: true }, b: { config: { greeting: 'route' } } },
    }), ROUTE), undefined);
    const routed = binding.openStream(1);
    assert.equal(binding.hook(routed, HookKind.RequestHeaders, true, 7), HookOutcome.Continue);
    const plain = binding.openStream(1);
    assert.equal(binding.hook(plain, HookKind.RequestHeaders, true, 0), HookOutcome.Continue);
    assert.deepEqual(seen, ['b:route', 'a', 'b:hi']);
  });

  test('a route config for another bundle does not apply', () => {
    const seen: string[] = [];
    const { binding, runtime } = withChain(filters(seen), [{ name: 'a' }]);
    assert.equal(runtime.loadConfig(8, JSON.stringify({ bundle: '/fake/other.js', filters: { a: { disabled: true } } }),
                                    ROUTE), undefined);
    binding.hook(binding.openStream(1), HookKind.RequestHeaders, true, 8);
    assert.deepEqual(seen, ['a']);
  });

  test('bad per-route configs are rejected at load, naming the filter and the field', () => {
    const { runtime } = withChain(filters([]), [{ name: 'a' }]);
    const load = (value: unknown) => runtime.loadConfig(9, JSON.stringify(value), ROUTE);
    assert.match(load({ filters: { a: { disabled: true } } }) ?? '', /'bundle' is required/);
    assert.match(load({ bundle: '/fake/bundle.js', filters: {} }) ?? '', /'filters' must be a non-empty object/);
    assert.match(load({ bundle: '/fake/bundle.js', filters: { zzz: { disabled: true } } }) ?? '',
                 /filters\.zzz: HTTP filter 'zzz' is not exported .*available: 'a', 'b'/);
    assert.match(load({ bundle: '/fake/bundle.js', filters: { b: { config: { greeting: 1 } } } }) ?? '',
                 /filter 'b': "greeting" must be a string/);
    assert.match(load({ bundle: '/fake/bundle.js', filters: { a: { disabled: true, config: {} } } }) ?? '',
                 /a disabled filter takes no config/);
    assert.match(load({ bundle: '/fake/bundle.js', filters: { a: {} } }) ?? '', /must set "disabled": true or give a "config"/);
    assert.match(load({ bundle: '/fake/bundle.js', filters: { a: { disabled: true } }, extra: 1 }) ?? '',
                 /unknown key\(s\) 'extra'/);
  });
});
