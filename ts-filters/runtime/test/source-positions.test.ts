import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { mapStackPositions } from '../source-positions';

describe('source positions', () => {
  test('frames of files without a loaded source map stay as they are', () => {
    const stack = '\n    at spin (/nowhere/bundle.js:10:3)\n    at <anonymous> (node:internal:1:1)';
    assert.equal(mapStackPositions(stack), stack);
  });
});
