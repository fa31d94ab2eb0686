import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { HeaderMapKind, HookKind, HookOutcome } from '../../runtime/codes';
import { withChain } from '../../runtime/test/fake-binding';
import * as examples from '../index';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('request-id', () => {
  test('sets an id when the request has none and echoes it on the response', () => {
    const { binding } = withChain(examples, [{ name: 'request-id' }]);
    const s = binding.openStream(1, { ':path': '/' });
    assert.equal(binding.hook(s, HookKind.RequestHeaders), HookOutcome.Continue);
    const id = binding.header(s, HeaderMapKind.RequestHeaders, 'x-request-id') ?? '';
    assert.match(id, UUID);
    binding.setResponse(s, { ':status': '200' });
    binding.hook(s, HookKind.ResponseHeaders);
    assert.equal(binding.header(s, HeaderMapKind.ResponseHeaders, 'x-request-id'), id);
  });

  test("keeps the client's id", () => {
    const { binding } = withChain(examples, [{ name: 'request-id' }]);
    const s = binding.openStream(1, { 'X-Request-Id': 'abc' });
    binding.hook(s, HookKind.RequestHeaders);
    assert.deepEqual(binding.headers(s, HeaderMapKind.RequestHeaders), [['x-request-id', 'abc']]);
    binding.setResponse(s, { ':status': '200' });
    binding.hook(s, HookKind.ResponseHeaders);
    assert.equal(binding.header(s, HeaderMapKind.ResponseHeaders, 'x-request-id'), 'abc');
  });

  test('echoes the id on a local reply from a later filter', () => {
    const { binding } = withChain(examples, [
      { name: 'request-id' },
      { name: 'header-auth', config: { tokens: ['t'] } },
    ]);
    const s = binding.openStream(1, { 'x-request-id': 'r1' });
    assert.equal(binding.hook(s, HookKind.RequestHeaders), HookOutcome.Replied);
    assert.equal(s.localReply?.status, 401);
    binding.hook(s, HookKind.ResponseHeaders);
    assert.equal(binding.header(s, HeaderMapKind.ResponseHeaders, 'x-request-id'), 'r1');
  });
});
