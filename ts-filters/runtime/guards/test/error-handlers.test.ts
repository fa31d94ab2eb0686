import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, test } from 'node:test';

import { installErrorHandlers } from '../error-handlers';

// A stand-in process (an EventEmitter): the test runner's own error handling stays as it is.
function setup() {
  const proc = new EventEmitter();
  const seen: string[] = [];
  installErrorHandlers(proc, {
    uncaughtException: (error) => seen.push(`runtime uncaught ${(error as Error).message}`),
    unhandledRejection: (reason) => seen.push(`runtime rejection ${String(reason)}`),
    listenerThrew: (event, error) => seen.push(`listener of ${event} threw ${(error as Error).message}`),
  });
  return { proc, seen };
}

describe('error handlers', () => {
  test('the runtime handles uncaught exceptions and rejections, and says they are handled', () => {
    const { proc, seen } = setup();
    assert.equal(proc.emit('uncaughtException', new Error('boom'), 'uncaughtException'), true);
    assert.equal(proc.emit('unhandledRejection', 'nope', Promise.resolve()), true);
    assert.equal(proc.emit('uncaughtExceptionMonitor', new Error('boom')), false);
    assert.deepEqual(seen, ['runtime uncaught boom', 'runtime rejection nope']);
  });

  test('removing listeners does not remove the runtime\'s handling', () => {
    const { proc, seen } = setup();
    proc.removeAllListeners('uncaughtException');
    proc.removeAllListeners();
    proc.off('unhandledRejection', () => {});
    assert.equal(proc.listenerCount('uncaughtException'), 0);
    assert.equal(proc.emit('uncaughtException', new Error('still')), true);
    assert.equal(proc.emit('unhandledRejection', 'still'), true);
    assert.deepEqual(seen, ['runtime uncaught still', 'runtime rejection still']);
  });

  test('bundle listeners run after the runtime; a throwing listener is reported and the rest still run', () => {
    const { proc, seen } = setup();
    proc.on('uncaughtException', (error: Error) => { throw error; });
    proc.on('uncaughtException', (error: Error) => seen.push(`second saw ${error.message}`));
    proc.once('unhandledRejection', () => { throw new Error('from a once listener'); });
    proc.on('uncaughtExceptionMonitor', () => { throw new Error('from a monitor'); });
    assert.equal(proc.emit('uncaughtExceptionMonitor', new Error('m')), true);
    assert.equal(proc.emit('uncaughtException', new Error('boom')), true);
    assert.equal(proc.emit('unhandledRejection', 'r'), true);
    assert.equal(proc.emit('unhandledRejection', 'r2'), true);
    assert.deepEqual(seen, [
      'listener of uncaughtExceptionMonitor threw from a monitor',
      'runtime uncaught boom', 'listener of uncaughtException threw boom', 'second saw boom',
      'runtime rejection r', 'listener of unhandledRejection threw from a once listener',
      'runtime rejection r2',
    ]);
  });

  test('other events are emitted as before', () => {
    const { proc } = setup();
    const got: unknown[] = [];
    proc.on('warning', (w) => got.push(w));
    assert.equal(proc.emit('warning', 'w'), true);
    assert.equal(proc.emit('nobody'), false);
    proc.on('bad', () => { throw new Error('plain events still throw'); });
    assert.throws(() => proc.emit('bad'), /plain events still throw/);
    assert.deepEqual(got, ['w']);
  });

  test('emit cannot be replaced', () => {
    const { proc } = setup();
    const emit = proc.emit;
    assert.equal(Reflect.set(proc, 'emit', () => false), false);
    assert.throws(() => Object.defineProperty(proc, 'emit', { value: () => false }), TypeError);
    assert.equal(proc.emit, emit);
  });
});
