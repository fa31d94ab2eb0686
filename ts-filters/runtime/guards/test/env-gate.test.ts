import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { parseCapabilities } from '../capabilities';
import { CapabilityGrants } from '../capability-grants';
import { installEnvGate } from '../env-gate';

// A stand-in process: the test runner's own env stays as it is.
function holder(): { env: Record<string, string> } {
  return { env: { HOME: '/home/envoy', LANG: 'C' } };
}

describe('env gate', () => {
  test('reads, keys and copies see the environment', () => {
    const proc = holder();
    installEnvGate(proc, new CapabilityGrants());
    assert.equal(proc.env['HOME'], '/home/envoy');
    assert.ok('LANG' in proc.env);
    assert.deepEqual(Object.keys(proc.env), ['HOME', 'LANG']);
    assert.deepEqual({ ...proc.env }, { HOME: '/home/envoy', LANG: 'C' });
    assert.equal(JSON.stringify(proc.env), '{"HOME":"/home/envoy","LANG":"C"}');
  });

  test('without envWrite, set, delete and defineProperty throw CapabilityError and change nothing', () => {
    const proc = holder();
    installEnvGate(proc, new CapabilityGrants());
    const denied = (what: string) => ({ code: 'ETS_ERR_CAPABILITY',
      message: `${what} is not available to filters: set "capabilities": {"envWrite": true} in the filter_config` });
    assert.throws(() => { proc.env['FOO'] = 'bar'; }, denied('writing process.env.FOO'));
    assert.throws(() => { delete proc.env['HOME']; }, denied('deleting process.env.HOME'));
    assert.throws(() => Object.defineProperty(proc.env, 'X', { value: '1' }), denied('defining process.env.X'));
    assert.deepEqual({ ...proc.env }, { HOME: '/home/envoy', LANG: 'C' });
  });

  test('env itself cannot be replaced', () => {
    const proc = holder();
    installEnvGate(proc, new CapabilityGrants());
    const view = proc.env;
    assert.equal(Reflect.set(proc, 'env', {}), false);
    assert.equal(proc.env, view);
    assert.equal(Object.getOwnPropertyDescriptor(proc, 'env')?.configurable, false);
  });

  test('with envWrite, writes reach the environment', () => {
    const proc = holder();
    const grants = new CapabilityGrants();
    installEnvGate(proc, grants);
    grants.grant(1, parseCapabilities({ envWrite: true }));
    proc.env['FOO'] = 'bar';
    delete proc.env['LANG'];
    assert.deepEqual({ ...proc.env }, { HOME: '/home/envoy', FOO: 'bar' });
  });
});
