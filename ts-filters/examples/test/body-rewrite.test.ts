import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { createTestChain } from '../../testing';
import { JsonRedactor } from '../body-rewrite';
import * as filters from '../index';

const redactAll = (fields: string[], text: string): string => {
  const redactor = new JsonRedactor(fields);
  return redactor.push(Buffer.from(text)) + redactor.end();
};

// The reference result: parse, redact scalars of the named fields at any depth, serialise.
function reference(fields: string[], text: string): unknown {
  const walk = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(walk);
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([key, inner]) =>
        [key, fields.includes(key) && (inner === null || typeof inner !== 'object') ? '[redacted]' : walk(inner)]));
    }
    return value;
  };
  return walk(JSON.parse(text));
}

const SAMPLE = JSON.stringify({
  user: { name: 'Ann "A" Lee', ssn: '123-45-6789', pin: 1234, admin: false, note: null },
  cards: [{ number: '4111 1111 1111 1111', cvv: '123' }, { number: 'x\\"y', cvv: 9 }],
  ssn: { nested: 'objects are kept', ssn: 'but scanned' },
  text: 'a "ssn": "in a string" is not a field',
  unicode: 'ünïcödé ✓',
}, null, 1);

describe('body-rewrite', () => {
  test('redacts the named fields like a parse-and-rewrite would', () => {
    const fields = ['ssn', 'pin', 'admin', 'note', 'number', 'cvv'];
    const out = redactAll(fields, SAMPLE);
    assert.deepEqual(JSON.parse(out), reference(fields, SAMPLE));
  });

  test('gives the same result whatever the chunk boundaries (every split point, UTF-8 included)', () => {
    const fields = ['ssn', 'cvv', 'pin'];
    const bytes = Buffer.from(SAMPLE);
    const whole = redactAll(fields, SAMPLE);
    for (let cut = 1; cut < bytes.length; cut++) {
      const redactor = new JsonRedactor(fields);
      const out = redactor.push(bytes.subarray(0, cut)) + redactor.push(bytes.subarray(cut)) + redactor.end();
      assert.equal(out, whole, `split at ${cut}`);
    }
    const redactor = new JsonRedactor(fields);
    let byteByByte = '';
    for (const byte of bytes) byteByByte += redactor.push(Uint8Array.of(byte));
    assert.equal(byteByByte + redactor.end(), whole);
  });

  test('streams a JSON response through the filter: content-length dropped, chunks rewritten', async () => {
    const chain = await createTestChain({
      filters, chain: [{ name: 'body-rewrite', config: { fields: ['token'] } }],
      upstream: () => ({ headers: { 'content-type': 'application/json', 'content-length': '30' },
                         body: ['{"id":7,"tok', 'en":"abc","ok":true}'] }),
    });
    const res = await chain.request();
    assert.equal(res.headers.get('content-length'), null);
    assert.deepEqual(res.json(), { id: 7, token: '[redacted]', ok: true });
    await chain.close();
  });

  test('leaves other content types alone; rejects a config without fields', async () => {
    const chain = await createTestChain({
      filters, chain: [{ name: 'body-rewrite', config: { fields: ['token'] } }],
      upstream: () => ({ headers: { 'content-type': 'text/plain', 'content-length': '14' }, body: '{"token":"x"}\n' }),
    });
    const res = await chain.request();
    assert.equal(res.text(), '{"token":"x"}\n');
    assert.equal(res.headers.get('content-length'), '14');
    await chain.close();
    await assert.rejects(createTestChain({ filters, chain: [{ name: 'body-rewrite', config: {} }] }),
                         /config.fields is required/);
  });
});
