import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { CapabilityError, ConfigError, isEnvoyTsError } from '../../../api/errors';
import { defineHttpFilter } from '../../../api/http-filter';
import { setup } from '../../test/fake-binding';
import { CAPABILITIES, NO_CAPABILITIES, capabilityError, parseCapabilities } from '../capabilities';
import { environmentGrants } from '../capability-grants';

describe('parseCapabilities', () => {
  test('absent: nothing granted', () => {
    assert.deepEqual(parseCapabilities(undefined), NO_CAPABILITIES);
    assert.ok(CAPABILITIES.every((capability) => !NO_CAPABILITIES[capability]));
  });

  test('grants the keys set to true; absent keys stay false', () => {
    assert.deepEqual(parseCapabilities({ childProcess: true, fsWrite: false, envWrite: true }),
                     { childProcess: true, workerThreads: false, envWrite: true, fsWrite: false });
    assert.deepEqual(parseCapabilities({}), NO_CAPABILITIES);
    assert.ok(Object.isFrozen(parseCapabilities({ workerThreads: true })));
  });

  test('an unknown key is rejected, naming it and the allowed keys', () => {
    assert.throws(() => parseCapabilities({ childProces: true }), (error: unknown) =>
      error instanceof ConfigError &&
      /'capabilities' has unknown key\(s\) 'childProces' \(allowed: 'childProcess', 'workerThreads', 'envWrite', 'fsWrite'\)/
        .test(error.message));
  });

  test('a non-boolean value is rejected, naming the field', () => {
    assert.throws(() => parseCapabilities({ fsWrite: 'yes' }),
                  /'capabilities\.fsWrite' must be true or false, got "yes"/);
    assert.throws(() => parseCapabilities({ envWrite: 1 }), /'capabilities\.envWrite' must be true or false, got 1/);
  });

  test('not an object', () => {
    for (const raw of [true, ['fsWrite'], null, 'fsWrite']) {
      assert.throws(() => parseCapabilities(raw), /'capabilities' must be an object/);
    }
  });
});

describe('capabilityError', () => {
  test('names what was used and the switch that allows it', () => {
    const error = capabilityError('child_process', 'childProcess');
    assert.ok(error instanceof CapabilityError);
    assert.ok(isEnvoyTsError(error, 'ETS_ERR_CAPABILITY'));
    assert.equal(error.message, 'child_process is not available to filters: set "capabilities": ' +
                 '{"childProcess": true} in the filter_config');
  });
});

describe('filter_config "capabilities"', () => {
  const filter = defineHttpFilter({ name: 'f' });

  test('is granted while the bundle loads and for the loaded config', () => {
    let grantedDuringLoad = false;
    const { runtime } = setup({ loadBundle: () => {
      grantedDuringLoad = environmentGrants.has('childProcess');
      return { filter };
    } });
    const json = JSON.stringify({ bundle: '/fake/bundle.js', chain: [{ name: 'f' }],
                                  capabilities: { childProcess: true } });
    assert.equal(runtime.loadConfig(501, json, 0), undefined);
    assert.ok(grantedDuringLoad);
    assert.ok(environmentGrants.has('childProcess'));
    runtime.unloadConfig(501);
    assert.ok(!environmentGrants.has('childProcess'));
  });

  test('a config whose load fails grants nothing', () => {
    const { runtime } = setup({ loadBundle: () => { throw new Error('bad bundle'); } });
    const json = JSON.stringify({ bundle: '/fake/bundle.js', chain: [{ name: 'f' }], capabilities: { fsWrite: true } });
    assert.match(runtime.loadConfig(503, json, 0) ?? '', /bad bundle/);
    assert.ok(!environmentGrants.has('fsWrite'));
  });

  test('a bad value rejects the config, naming the field', () => {
    const { runtime } = setup({ loadBundle: () => ({ filter }) });
    const load = (capabilities: unknown): string | undefined =>
      runtime.loadConfig(502, JSON.stringify({ bundle: '/fake/bundle.js', chain: [{ name: 'f' }], capabilities }), 0);
    assert.match(load({ fsWrite: 'yes' }) ?? '', /'capabilities\.fsWrite' must be true or false/);
    assert.match(load({ fsWirte: true }) ?? '', /'capabilities' has unknown key\(s\) 'fsWirte'/);
    assert.equal(load({ fsWrite: false }), undefined);
  });
});
