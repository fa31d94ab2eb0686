import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { defineHttpFilter } from '../../api/http-filter';
import type { HeaderMap } from '../../api/types';
import { HeaderMapKind, HookKind } from '../codes';
import { NAME_CACHE_SIZE, checkHeaderName, checkHeaderValue, validatedNameCount } from '../header-map';
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

  test('a refused value is not written; on a closed stream the value is still checked first', () => {
    let kept: HeaderMap | undefined;
    const { binding, s } = withHeaders([['x-a', '1']], (h) => {
      kept = h;
      assert.throws(() => h.set('x-a', 'two\r\nx-b: 3'), /forbidden character CR \(U\+000D\) at index 3/);
      assert.throws(() => h.add('x-a', 'two\u010a'), /forbidden character U\+010A at index 3/);
      assert.throws(() => h.set('x-a', 7 as unknown as string), /value of header 'x-a' must be a string, got number/);
    });
    assert.deepEqual(binding.headers(s, HeaderMapKind.RequestHeaders), [['x-a', '1']]);
    binding.destroy(s);
    assert.throws(() => kept?.set('x-a', 'a\nb'), TypeError);
    assert.throws(() => kept?.set('x-a', 'fine'), { name: 'StreamClosedError' });
  });

  test('has asks the binding whether the header is there, without reading its value', () => {
    const { binding, s } = withHeaders([['x-a', '1']], (h) => {
      assert.equal(h.has('X-A'), true);
      assert.equal(h.has('x-b'), false);
    });
    assert.deepEqual(binding.callsFor(s).filter((m) => m.endsWith('Header')), ['hasHeader', 'hasHeader']);
  });
});

describe('header names', () => {
  test('every RFC 7230 token char is accepted, and a leading colon; nothing else', () => {
    const tokenChars = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    assert.equal(checkHeaderName(tokenChars), tokenChars.toLowerCase());
    assert.equal(checkHeaderName(':Method'), ':method');
    for (let code = 0; code <= 0x17f; code++) {
      const char = String.fromCharCode(code);
      if (tokenChars.includes(char)) continue;
      assert.throws(() => checkHeaderName(`x${char}`), TypeError, `U+${code.toString(16)}`);
    }
    for (const name of ['', ':', '::a', 'a:', ':a:b']) assert.throws(() => checkHeaderName(name), TypeError, name);
  });

  test('a valid name is validated once and kept lowercased; an invalid one is never kept', () => {
    const before = validatedNameCount();
    const name = `X-Cached-${before}`;
    assert.equal(checkHeaderName(name), name.toLowerCase());
    assert.equal(validatedNameCount(), before + 1);
    assert.equal(checkHeaderName(name), name.toLowerCase());
    assert.equal(validatedNameCount(), before + 1, 'the second call was a cache hit');
    for (let i = 0; i < 2; i++) {
      assert.throws(() => checkHeaderName('x\r\ny'), /invalid header name "x\\r\\ny"/);
      assert.throws(() => checkHeaderName(42), /header name must be a string, got number/);
    }
    assert.equal(validatedNameCount(), before + 1);
  });

  test('the cache holds at most NAME_CACHE_SIZE names, and names still check after it starts over', () => {
    for (let i = 0; i < NAME_CACHE_SIZE * 2 + 3; i++) {
      assert.equal(checkHeaderName(`X-Many-${i}`), `x-many-${i}`);
      assert.ok(validatedNameCount() <= NAME_CACHE_SIZE);
    }
    assert.throws(() => checkHeaderName('still bad'), TypeError);
  });
});

describe('header values', () => {
  const why = '(CR, LF, NUL, control characters and characters above U+00FF are not allowed)';

  test('HTAB, SP, VCHAR and obs-text pass; every other char is refused, named with its index', () => {
    let allowed = '';
    for (let code = 0; code <= 0x2ff; code++) {
      const char = String.fromCharCode(code);
      if (code === 0x09 || (code >= 0x20 && code <= 0x7e) || (code >= 0x80 && code <= 0xff)) {
        allowed += char;
        continue;
      }
      const hex = code.toString(16).toUpperCase().padStart(4, '0');
      assert.throws(() => checkHeaderValue('x-v', `ok${char}`), {
        name: 'TypeError',
        message: new RegExp(`^invalid value for header 'x-v': forbidden character (CR |LF |NUL )?\\(?U\\+${hex}\\)? at index 2 `),
      });
    }
    assert.equal(checkHeaderValue('x-v', allowed), allowed);
  });

  test('CR, LF and NUL are named; the first bad char is reported', () => {
    assert.throws(() => checkHeaderValue('x', 'a\r\nb'), { message: `invalid value for header 'x': forbidden character CR (U+000D) at index 1 ${why}` });
    assert.throws(() => checkHeaderValue('x', 'ab\n'), { message: `invalid value for header 'x': forbidden character LF (U+000A) at index 2 ${why}` });
    assert.throws(() => checkHeaderValue('x', '\0'), { message: `invalid value for header 'x': forbidden character NUL (U+0000) at index 0 ${why}` });
    // U+010A would be LF if its high byte were dropped on the way to Envoy.
    assert.throws(() => checkHeaderValue('x', 'a\u010a\r'), { message: `invalid value for header 'x': forbidden character U+010A at index 1 ${why}` });
    assert.throws(() => checkHeaderValue('x', 7), { message: "value of header 'x' must be a string, got number" });
  });

  test('a two-byte string whose chars are all latin1 passes (V8 may keep any string two bytes per char)', () => {
    const twoByte = '\u0100caf\u00e9 and more \u00ff'.slice(1);
    assert.equal(checkHeaderValue('x', twoByte), 'caf\u00e9 and more \u00ff');
  });
});
