import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { CapabilityError, ConfigError, EnvoyTsError, FetchError, InvalidStateError, NotInHookError,
  ProcessGuardError, StreamClosedError, isEnvoyTsError } from '../errors';

describe('errors', () => {
  test('literal names and codes', () => {
    const cases = [
      [new StreamClosedError(), 'StreamClosedError', 'ETS_ERR_STREAM_CLOSED'],
      [new ConfigError('c'), 'ConfigError', 'ETS_ERR_CONFIG'],
      [new NotInHookError('n'), 'NotInHookError', 'ETS_ERR_NOT_IN_HOOK'],
      [new InvalidStateError('i'), 'InvalidStateError', 'ETS_ERR_INVALID_STATE'],
      [new FetchError('f'), 'FetchError', 'ETS_ERR_FETCH'],
      [new ProcessGuardError('p'), 'ProcessGuardError', 'ETS_ERR_PROCESS_GUARD'],
      [new CapabilityError('c'), 'CapabilityError', 'ETS_ERR_CAPABILITY'],
    ] as const;
    for (const [error, name, code] of cases) {
      assert.ok(error instanceof EnvoyTsError);
      assert.ok(error instanceof Error);
      assert.equal(error.name, name);
      assert.equal(error.code, code);
      assert.match(String(error.stack), new RegExp(`^${name}`));
      assert.ok(isEnvoyTsError(error, code));
    }
  });

  test('isEnvoyTsError recognises native errors by code', () => {
    const native = Object.assign(new Error('gone'), { code: 'ETS_ERR_STREAM_CLOSED' });
    assert.ok(isEnvoyTsError(native));
    assert.ok(isEnvoyTsError(native, 'ETS_ERR_STREAM_CLOSED'));
    assert.ok(!isEnvoyTsError(native, 'ETS_ERR_CONFIG'));
    assert.ok(!isEnvoyTsError(Object.assign(new Error('x'), { code: 'ENOENT' })));
    assert.ok(!isEnvoyTsError('ETS_ERR_CONFIG'));
  });

  test('narrowing on code', () => {
    const error: EnvoyTsError = new ConfigError('x');
    if (error.code === 'ETS_ERR_CONFIG') {
      const code: 'ETS_ERR_CONFIG' = error.code;
      assert.equal(code, 'ETS_ERR_CONFIG');
    }
  });
});
