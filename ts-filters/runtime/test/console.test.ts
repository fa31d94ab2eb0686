import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { routeConsole } from '../console';
import { FakeBinding } from './fake-binding';

describe('console', () => {
  test("each method writes at its level, with the running filter's prefix or the runtime's", () => {
    const binding = new FakeBinding(false);
    const target: Record<string, unknown> = {};
    let running: string | undefined = 'auth';
    routeConsole(target, binding, () => running);
    const call = (method: string, ...args: unknown[]): void => (target[method] as (...a: unknown[]) => void)(...args);
    call('log', 'user %s', 'ada');
    call('error', { code: 7 });
    running = undefined;
    call('warn', 'late', 2);
    assert.deepEqual(binding.logs.slice(-3), [
      { level: 2, message: '[envoy-ts][filter=auth] user ada' },
      { level: 4, message: '[envoy-ts][filter=auth] { code: 7 }' },
      { level: 3, message: '[envoy-ts] late 2' },
    ]);
  });
});
