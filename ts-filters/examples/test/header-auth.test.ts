import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { HookKind, HookOutcome } from '../../runtime/codes';
import { setup, withChain } from '../../runtime/test/fake-binding';
import * as examples from '../index';

function run(config: unknown, headers: [string, string][]) {
  const { binding } = withChain(examples, [{ name: 'header-auth', config }]);
  const s = binding.openStream(1, headers);
  return { outcome: binding.hook(s, HookKind.RequestHeaders), reply: s.localReply };
}

describe('header-auth', () => {
  const config = { tokens: ['s3cret', 'other-longer-token'], prefix: 'Bearer ' };

  test('accepts each configured token', () => {
    assert.equal(run(config, [['authorization', 'Bearer s3cret']]).outcome, HookOutcome.Continue);
    assert.equal(run(config, [['Authorization', 'bearer other-longer-token']]).outcome, HookOutcome.Continue);
  });

  test('rejects missing, wrong, prefix-only, shorter/longer and duplicated credentials with 401', () => {
    for (const headers of [
      [],
      [['authorization', 'Bearer wrong']],
      [['authorization', 'Bearer s3cre']],
      [['authorization', 'Bearer s3cret1']],
      [['authorization', 's3cret']],
      [['authorization', 'Bearer ']],
      [['authorization', 'Bearer s3cret'], ['authorization', 'Bearer wrong']],
    ] as [string, string][][]) {
      const { outcome, reply } = run(config, headers);
      assert.equal(outcome, HookOutcome.Replied, JSON.stringify(headers));
      assert.deepEqual(reply, {
        status: 401,
        headers: ['www-authenticate', 'Bearer realm="envoy-ts"'],
        body: 'unauthorized',
        details: 'envoy_ts_header_auth_denied',
      });
    }
  });

  test('custom header without prefix', () => {
    const custom = { header: 'X-Api-Key', tokens: ['k1'] };
    assert.equal(run(custom, [['x-api-key', 'k1']]).outcome, HookOutcome.Continue);
    assert.equal(run(custom, [['authorization', 'k1']]).reply?.headers[1], 'Token realm="envoy-ts"');
  });

  test('parseConfig rejects bad configs', () => {
    const { runtime } = setup({ loadBundle: () => examples });
    const load = (cfg: unknown) =>
      runtime.loadConfig(1, JSON.stringify({ bundle: '/b.js', chain: [{ name: 'header-auth', config: cfg }] }), 0);
    assert.match(load(undefined) ?? '', /^filter 'header-auth': config must be an object/);
    assert.match(load({ tokens: [] }) ?? '', /^filter 'header-auth': "tokens" must be a non-empty array/);
    assert.match(load({ tokens: [''] }) ?? '', /"tokens" must be a non-empty array of non-empty strings/);
    assert.match(load({ tokens: ['a'], header: 'bad header' }) ?? '', /"header" must be a valid header name/);
    assert.match(load({ tokens: ['a'], realm: 'x' }) ?? '', /unknown config key\(s\): realm/);
    assert.equal(load({ tokens: ['a'] }), undefined);
  });
});
