import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { defineHttpFilter } from '../../api/http-filter';
import type { HeaderMap } from '../../api/types';
import { HeaderMapKind, HookKind } from '../codes';
import { checkHeaderName, checkHeaderValue } from '../header-map';
import { withChain } from './fake-binding';

function withHeaders(initial: [string, string][], body: (headers: HeaderMap) => void) {
  const f = defineHttpFilter({ name: 'f', onRequestHeaders: (headers) => body(headers) });
  const { binding } = withChain([f], [{ name: 'f' }]);
  const s = binding.openStream(1, initial);
  binding.hook(s, HookKind.RequestHeaders);
  return { binding, s };
}

describe('HeaderMap', () => {
  test('reads are case-insensitive and go to the binding', () => {
    withHeaders([['Accept', 'a'], ['x-m', '1'], ['x-m', '2']], (h) => {
      assert.equal(h.get('ACCEPT'), 'a');
      assert.equal(h.get('missing'), null);
      assert.deepEqual(h.getAll('X-M'), ['1', '2']);
      assert.deepEqual(h.getAll('nope'), []);
      assert.equal(h.has('x-M'), true);
      assert.equal(h.has('y'), false);
      assert.deepEqual([...h], [['accept', 'a'], ['x-m', '1'], ['x-m', '2']]);
      assert.deepEqual([...h.entries()].length, 3);
    });
  });

  test('writes: set replaces, add appends, delete removes, names lowercased', () => {
    const { binding, s } = withHeaders([['x-m', '1'], ['x-m', '2']], (h) => {
      h.set('X-M', 'one');
      h.add('X-N', 'a');
      h.add('x-n', 'b');
      h.delete('x-gone');
      h.set(':path', '/rewritten');
    });
    assert.deepEqual(binding.headers(s, HeaderMapKind.RequestHeaders),
                     [['x-m', 'one'], ['x-n', 'a'], ['x-n', 'b'], [':path', '/rewritten']]);
  });

  test('CR, LF, NUL and non-latin1 values are rejected with a TypeError', () => {
    withHeaders([], (h) => {
      for (const value of ['a\r\nset-cookie: x', 'a\nb', 'a\rb', 'a\0b', 'a\u010ab', 'a\x7fb', 'a\x01']) {
        assert.throws(() => h.set('x-a', value), TypeError);
        assert.throws(() => h.add('x-a', value), TypeError);
      }
      assert.throws(() => h.set('x-a', 'a\r\nb'), /forbidden character CR \(U\+000D\) at index 1/);
      assert.throws(() => h.set('x-a', 'a\u010ab'), /U\+010A/);
      h.set('x-ok', 'tab\tand latin1 \xe9 and symbols !"#');
    });
  });

  test('invalid names are rejected', () => {
    withHeaders([], (h) => {
      for (const name of ['', 'a b', 'a:b', 'x\r\ny', 'é', '::a', 'a\0']) {
        assert.throws(() => h.set(name, 'v'), TypeError, name);
        assert.throws(() => h.get(name), TypeError, name);
      }
      assert.throws(() => h.set(42 as unknown as string, 'v'), /must be a string/);
      assert.throws(() => h.set('x', 42 as unknown as string), /must be a string/);
    });
  });

  test('checkHeaderName / checkHeaderValue', () => {
    assert.equal(checkHeaderName('Content-Type'), 'content-type');
    assert.equal(checkHeaderName(':authority'), ':authority');
    assert.equal(checkHeaderValue('x', ''), '');
  });
});
