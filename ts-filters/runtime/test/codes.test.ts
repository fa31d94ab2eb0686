// The numeric codes the runtime shares with the native side have one source, native/bridge/codes.h:
// every `as const` object of codes.ts with a C++ twin must hold exactly the twin's values.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, test } from 'node:test';

import * as codes from '../codes';

const source = (path: string): string => readFileSync(resolve(__dirname, '../../..', path), 'utf8');
const header = source('native/bridge/codes.h');

/** `enum class <name> : ... { A = 0, B = 1 }` of codes.h, as { A: 0, B: 1 }. */
function cppEnum(name: string): Record<string, number> {
  const body = new RegExp(`enum class ${name}\\b[^{]*\\{([^}]*)\\}`).exec(header)?.[1];
  assert.ok(body !== undefined, `codes.h has no enum class ${name}`);
  return Object.fromEntries([...body.matchAll(/(\w+)\s*=\s*(\d+)/g)].map((m) => [m[1], Number(m[2])]));
}

/** `struct <name> { static constexpr uint32_t kFooBar = 1; ... }` of a header, as { FooBar: 1 }. */
function cppConstants(name: string, text = header): Record<string, number> {
  const body = new RegExp(`struct ${name}\\s*\\{([^}]*)\\}`).exec(text)?.[1];
  assert.ok(body !== undefined, `no struct ${name}`);
  return Object.fromEntries([...body.matchAll(/static constexpr \w+ k(\w+)\s*=\s*(\d+)/g)]
    .map((m) => [m[1], Number(m[2])]));
}

describe('codes shared with native/bridge/codes.h', () => {
  const enums = ['HookKind', 'AttributeType', 'HeaderMapKind', 'ConfigKind', 'NetworkHookKind', 'NetworkEvent',
                 'BufferKind', 'FetchStreamEvent', 'WholeBodyState', 'CloseType', 'MetricOp'] as const;
  for (const name of enums) {
    test(`${name} has the values of its C++ enum`, () => {
      assert.deepEqual({ ...codes[name] }, cppEnum(name));
    });
  }

  test('HookOutcome has the values of its C++ enum but the native-only Failed', () => {
    const { Failed, ...shared } = cppEnum('HookOutcome');
    assert.equal(Failed, 3);
    assert.deepEqual({ ...codes.HookOutcome }, shared);
  });

  test('HookFlags, the crossing frame and the wait report have the values of their C++ constants', () => {
    assert.deepEqual({ ...codes.HookFlags }, cppConstants('HookFlags'));
    assert.deepEqual({ ...codes.CrossingFrame }, cppConstants('CrossingFrame'));
    assert.deepEqual({ ...codes.WaitReport }, cppConstants('WaitReport'));
  });

  test('the watch slots have the values of native/runtime/cpu_watchdog.h', () => {
    assert.deepEqual({ ...codes.WatchSlot }, cppConstants('WatchSlot', source('native/runtime/cpu_watchdog.h')));
  });

  test('a headers or trailers hook has the value of the map it gets', () => {
    for (const name of ['RequestHeaders', 'RequestTrailers', 'ResponseHeaders', 'ResponseTrailers'] as const) {
      assert.equal(codes.HookKind[name], codes.HeaderMapKind[name]);
    }
  });
});
