import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { ProcessGuardError } from '../../../api/errors';
import { GUARDED_METHODS, installProcessGuards, signalsProxy, type GuardedProcess } from '../process-guards';

// A stand-in process whose methods record calls: the test runner's own process stays unguarded.
function fakeProcess(): GuardedProcess & Record<string, unknown> & { calls: string[] } {
  const calls: string[] = [];
  const proc: Record<string, unknown> = { pid: 4242, ppid: 4241, calls };
  for (const name of GUARDED_METHODS) {
    proc[name] = (...args: unknown[]): boolean => {
      calls.push(`${name}(${args.map(String).join(', ')})`);
      return true;
    };
  }
  return proc as GuardedProcess & Record<string, unknown> & { calls: string[] };
}

function call(proc: Record<string, unknown>, name: string, ...args: unknown[]): unknown {
  return (proc[name] as (...a: unknown[]) => unknown)(...args);
}

describe('process guards', () => {
  test('exit, reallyExit, abort, chdir, credentials and the capture callback throw ProcessGuardError', () => {
    const proc = fakeProcess();
    installProcessGuards(proc);
    for (const name of ['exit', 'reallyExit', 'abort', 'chdir', 'setuid', 'setgid', 'seteuid', 'setegid',
                        'setgroups', 'initgroups', 'setUncaughtExceptionCaptureCallback']) {
      assert.throws(() => call(proc, name, 1), (error: unknown) => {
        assert.ok(error instanceof ProcessGuardError);
        assert.equal(error.code, 'ETS_ERR_PROCESS_GUARD');
        assert.match(error.message, new RegExp(`^process\\.${name}\\(\\) is not available to filters: `));
        return true;
      });
    }
    assert.deepEqual(proc.calls, []);
  });

  test('the guards cannot be replaced or deleted', () => {
    const proc = fakeProcess();
    installProcessGuards(proc);
    for (const name of GUARDED_METHODS) {
      const guard = proc[name];
      assert.equal(Reflect.set(proc, name, () => {}), false, name);
      assert.equal(Reflect.deleteProperty(proc, name), false, name);
      assert.throws(() => Object.defineProperty(proc, name, { value: () => {} }), TypeError);
      assert.equal(proc[name], guard);
      assert.equal((guard as { name: string }).name, name);
    }
  });

  test('kill of the proxy, its parent, its group or every process throws; other pids are signalled', () => {
    const proc = fakeProcess();
    installProcessGuards(proc);
    for (const pid of [4242, '4242', 4241, 0, -1, -4242, -77]) {
      assert.throws(() => call(proc, 'kill', pid, 'SIGTERM'), (error: Error & { code?: string }) =>
        error.code === 'ETS_ERR_PROCESS_GUARD' && /^process\.kill\(\) is not available/.test(error.message));
      assert.throws(() => call(proc, 'kill', pid), { code: 'ETS_ERR_PROCESS_GUARD' });
    }
    assert.deepEqual(proc.calls, []);
    assert.equal(call(proc, 'kill', 5000, 'SIGTERM'), true);
    assert.equal(call(proc, 'kill', 5001), true);
    assert.equal(call(proc, 'kill', 4242, 0), true, 'signal 0 only probes');
    assert.deepEqual(proc.calls, ['kill(5000, SIGTERM)', 'kill(5001)', 'kill(4242, 0)']);
  });

  test('signalsProxy', () => {
    const proc = { pid: 10, ppid: 1 };
    assert.ok(signalsProxy(proc, 10) && signalsProxy(proc, 1) && signalsProxy(proc, 0) && signalsProxy(proc, -3));
    assert.ok(!signalsProxy(proc, 11) && !signalsProxy(proc, 'x'));
  });
});
