// Header reads and writes through the real module (test/e2e/fixtures/header-probe.ts): what
// filters read and write reaches the upstream byte for byte, header injection is refused before a
// call reaches the binding, and the binding itself never truncates a char to its low byte and
// throws the documented error codes.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { echoOf, fixturesBundle, proxyForSuite, proxyName, request } from './harness.mjs';

const refused = (name, code, message) => ({ ok: false, name, code, message });

describe(`header access through ${proxyName}`, () => {
  const suite = proxyForSuite({ filterConfigs: [{ bundle: fixturesBundle, chain: [{ name: 'header-probe' }] }] });

  async function probe() {
    const response = await request(suite.proxy.port, {
      path: '/probe',
      headers: { 'x-probe-id': 'probe-1', 'x-multi': ['one', 'two'], 'x-delete-me': 'gone' },
    });
    assert.equal(response.status, 200);
    return { results: JSON.parse(decodeURIComponent(response.headers['x-probe-results'])), upstream: echoOf(response) };
  }

  test('reads: get and has by any case, every value of a repeated header', async () => {
    const { results } = await probe();
    assert.equal(results.get, 'probe-1');
    assert.equal(results.hasPresent, true);
    assert.equal(results.hasAbsent, false);
    assert.deepEqual(results.getAll, ['one', 'two']);
  });

  test('writes reach the upstream as written: latin1 text, long values and names, deletes', async () => {
    const { results, upstream } = await probe();
    assert.deepEqual(results.latin1, { ok: true, value: 'caf\u00e9 \u00ff\ttab' });
    assert.equal(upstream.headers['x-latin1'], 'caf\u00e9 \u00ff\ttab', 'one byte per char, as latin1');
    assert.deepEqual(results.longValue, { ok: true, value: 2000 });
    assert.equal(upstream.headers['x-long-value'], 'v'.repeat(2000));
    assert.deepEqual(results.longName, { ok: true, value: 'ok' });
    assert.equal(upstream.headers[`x-long-${'n'.repeat(600)}`], 'ok');
    assert.deepEqual(results.deleted, { ok: true, value: false });
    assert.equal(upstream.headers['x-delete-me'], undefined);
  });

  test('CR, LF, NUL and chars above U+00FF are refused with a TypeError naming the char; nothing is injected', async () => {
    const { results, upstream } = await probe();
    const why = '(CR, LF, NUL, control characters and characters above U+00FF are not allowed)';
    assert.deepEqual(results.crlf, refused('TypeError', null,
      `invalid value for header 'x-bad': forbidden character CR (U+000D) at index 1 ${why}`));
    assert.deepEqual(results.lf, refused('TypeError', null,
      `invalid value for header 'x-bad': forbidden character LF (U+000A) at index 1 ${why}`));
    assert.deepEqual(results.nul, refused('TypeError', null,
      `invalid value for header 'x-bad': forbidden character NUL (U+0000) at index 1 ${why}`));
    assert.deepEqual(results.aboveLatin1, refused('TypeError', null,
      `invalid value for header 'x-bad': forbidden character U+010A at index 1 ${why}`));
    assert.deepEqual(results.badName, refused('TypeError', null,
      'invalid header name "bad name": must be an RFC 7230 token or a \':\' pseudo-header'));
    assert.equal(upstream.headers['x-bad'], undefined);
    assert.equal(upstream.headers['x-injected'], undefined);
  });

  test('the binding checks writes itself (a refused value is not written; its first bad char is named), never truncates a char, and its errors carry codes', async () => {
    const { results, upstream } = await probe();
    const { raw } = results;
    assert.deepEqual(raw.aboveLatin1Value, { ok: true, value: 1 }, 'U+010A at index 1');
    assert.deepEqual(raw.crlfValue, { ok: true, value: 2 }, 'CR at index 2');
    assert.deepEqual(raw.delValue, { ok: true, value: 0 }, 'DEL at index 0');
    assert.equal(raw.rawAfter, null, 'nothing was written');
    assert.equal(upstream.headers['x-raw'], undefined);
    assert.equal(upstream.headers['x-injected'], undefined, 'U+010A was not truncated to LF');
    const badWrite = 'header names are RFC 7230 tokens (or \':\' pseudo-headers), values strings';
    assert.deepEqual(raw.badName, refused('TypeError', 'ETS_ERR_INVALID_ARG', badWrite));
    assert.deepEqual(raw.notString, refused('TypeError', 'ETS_ERR_INVALID_ARG', badWrite));
    assert.deepEqual(raw.aboveLatin1Name, refused('TypeError', 'ETS_ERR_INVALID_ARG',
      'header name must be a string of chars up to U+00FF'));
    // A string V8 keeps two bytes per char, all of them latin1: narrowed, not refused.
    assert.deepEqual(raw.twoByte, { ok: true, value: 'caf\u00e9 and more latin1 \u00ff' });
    assert.equal(upstream.headers['x-two-byte'], 'caf\u00e9 and more latin1 \u00ff');
    assert.deepEqual(raw.closed, refused('Error', 'ETS_ERR_STREAM_CLOSED',
      'the stream is closed: its request, response or connection is gone'));
    assert.deepEqual(raw.badSlot, refused('TypeError', 'ETS_ERR_INVALID_ARG', 'expected (slot, generation)'));
    assert.deepEqual(raw.badMap, refused('TypeError', 'ETS_ERR_INVALID_ARG', 'invalid header map kind'));
    assert.deepEqual(raw.unavailable, refused('Error', 'ETS_ERR_HEADERS_UNAVAILABLE',
      'these headers cannot be changed now (not received yet, or already sent)'));
  });
});
