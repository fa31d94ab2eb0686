import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { PairsFormatError, decodePairs, encodePairs } from '../pairs';

describe('serialized header maps', () => {
  test("encode the specification's example byte for byte", () => {
    const bytes = encodePairs([['a', '1'], ['b', '22']]);
    assert.deepEqual([...bytes], [2, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0,
                                  0x61, 0, 0x31, 0, 0x62, 0, 0x32, 0x32, 0]);
    assert.deepEqual(decodePairs(bytes), [['a', '1'], ['b', '22']]);
  });

  test('bytes above 0x7f cross as latin1 (one char a byte) both ways', () => {
    const pairs: [string, string][] = [['x-name', 'caf\u00c3\u00a9']];
    assert.deepEqual(decodePairs(encodePairs(pairs)), pairs);
  });

  test('an empty map is zero bytes or one NUL; a cut-short map is refused', () => {
    assert.deepEqual(decodePairs(new Uint8Array(0)), []);
    assert.deepEqual(decodePairs(new Uint8Array([0])), []);
    assert.throws(() => decodePairs(encodePairs([['abc', 'def']]).subarray(0, 18)), PairsFormatError);
    assert.throws(() => decodePairs(new Uint8Array([9, 0, 0, 0])), PairsFormatError);
  });
});
