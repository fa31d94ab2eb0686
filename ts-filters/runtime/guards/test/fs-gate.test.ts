import assert from 'node:assert/strict';
import { constants } from 'node:fs';
import { describe, test } from 'node:test';

import { parseCapabilities } from '../capabilities';
import { CapabilityGrants } from '../capability-grants';
import { installFsGate, opensForWriting } from '../fs-gate';

// Stand-ins for fs and fs/promises that record calls (the test runner's own fs stays untouched).
function fakeFs() {
  const calls: string[] = [];
  const record = (name: string) => (...args: unknown[]): string => {
    calls.push(`${name}(${args.map((a) => (typeof a === 'function' ? 'cb' : String(a))).join(', ')})`);
    return name;
  };
  const names = ['writeFile', 'writeFileSync', 'appendFileSync', 'mkdirSync', 'rmSync', 'unlink', 'renameSync',
    'copyFileSync', 'symlinkSync', 'truncateSync', 'chmodSync', 'utimesSync', 'mkdtempSync', 'createWriteStream',
    'open', 'openSync', 'readFileSync', 'statSync', 'createReadStream'];
  const fs: Record<string, unknown> & { constants: typeof constants } = { constants };
  for (const name of names) fs[name] = record(name);
  const promises: Record<string, unknown> = {};
  for (const name of ['writeFile', 'mkdir', 'rm', 'open', 'readFile']) promises[name] = record(`promises.${name}`);
  return { fs, promises, calls };
}

function call(table: Record<string, unknown>, name: string, ...args: unknown[]): unknown {
  return (table[name] as (...a: unknown[]) => unknown)(...args);
}

describe('fs gate', () => {
  test('open flags that write', () => {
    for (const flags of ['w', 'wx', 'a', 'as+', 'r+', 'rs+', constants.O_WRONLY, constants.O_RDWR,
                         constants.O_CREAT | constants.O_RDONLY, constants.O_APPEND]) {
      assert.ok(opensForWriting(flags, constants), String(flags));
    }
    for (const flags of [undefined, null, 'r', 'rs', constants.O_RDONLY, () => {}]) {
      assert.ok(!opensForWriting(flags, constants), String(flags));
    }
  });

  test('without fsWrite, mutating calls throw CapabilityError before reaching fs; reads pass', () => {
    const { fs, promises, calls } = fakeFs();
    installFsGate(fs, promises, new CapabilityGrants());
    for (const name of ['writeFile', 'writeFileSync', 'appendFileSync', 'mkdirSync', 'rmSync', 'unlink', 'renameSync',
                        'copyFileSync', 'symlinkSync', 'truncateSync', 'chmodSync', 'utimesSync', 'mkdtempSync',
                        'createWriteStream']) {
      assert.throws(() => call(fs, name, '/tmp/x', () => {}), (error: Error & { code?: string }) => {
        assert.equal(error.code, 'ETS_ERR_CAPABILITY');
        assert.equal(error.message, `fs.${name}() (the file system is read-only) is not available to filters: ` +
                     'set "capabilities": {"fsWrite": true} in the filter_config');
        return true;
      });
    }
    assert.throws(() => call(fs, 'openSync', '/tmp/x', 'w'), /fs\.openSync\(\) for writing .*"fsWrite": true/);
    assert.throws(() => call(fs, 'open', '/tmp/x', 'a', () => {}), /fs\.open\(\) for writing/);
    assert.deepEqual(calls, []);
    assert.equal(call(fs, 'openSync', '/tmp/x', 'r'), 'openSync');
    assert.equal(call(fs, 'open', '/tmp/x', () => {}), 'open');
    assert.equal(call(fs, 'readFileSync', '/tmp/x'), 'readFileSync');
    assert.equal(call(fs, 'createReadStream', '/tmp/x'), 'createReadStream');
    assert.deepEqual(calls, ['openSync(/tmp/x, r)', 'open(/tmp/x, cb)', 'readFileSync(/tmp/x)', 'createReadStream(/tmp/x)']);
  });

  test('fs/promises: a denied call returns a rejected promise', async () => {
    const { fs, promises, calls } = fakeFs();
    installFsGate(fs, promises, new CapabilityGrants());
    for (const name of ['writeFile', 'mkdir', 'rm']) {
      const result = call(promises, name, '/tmp/x');
      assert.ok(result instanceof Promise);
      await assert.rejects(result, { code: 'ETS_ERR_CAPABILITY', message: new RegExp(`^fs\\.promises\\.${name}\\(\\)`) });
    }
    await assert.rejects(call(promises, 'open', '/tmp/x', 'w+') as Promise<unknown>, /fs\.promises\.open\(\) for writing/);
    assert.equal(call(promises, 'open', '/tmp/x'), 'promises.open');
    assert.equal(call(promises, 'readFile', '/tmp/x'), 'promises.readFile');
    assert.deepEqual(calls, ['promises.open(/tmp/x)', 'promises.readFile(/tmp/x)']);
  });

  test('with fsWrite, calls go through with their arguments', async () => {
    const { fs, promises, calls } = fakeFs();
    const grants = new CapabilityGrants();
    installFsGate(fs, promises, grants);
    grants.grant(1, parseCapabilities({ fsWrite: true }));
    assert.equal(call(fs, 'writeFileSync', '/tmp/x', 'data'), 'writeFileSync');
    assert.equal(call(fs, 'openSync', '/tmp/x', 'w'), 'openSync');
    assert.equal(await call(promises, 'writeFile', '/tmp/x', 'data'), 'promises.writeFile');
    assert.deepEqual(calls, ['writeFileSync(/tmp/x, data)', 'openSync(/tmp/x, w)', 'promises.writeFile(/tmp/x, data)']);
    assert.equal((fs['writeFileSync'] as { name: string }).name, 'writeFileSync');
  });
});
