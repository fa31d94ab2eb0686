import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { ProcessGuardError } from '../../api/errors';
import { defineHttpFilter } from '../../api/http-filter';
import { HookKind } from '../codes';
import { describeError } from '../log';
import { withChain } from './fake-binding';

describe('ctx.log', () => {
  test('prefixes lines with the filter name and formats arguments', () => {
    const f = defineHttpFilter({
      name: 'f',
      onRequestHeaders(_h, ctx) {
        ctx.log.info('hello %s %d', 'world', 42);
        const { warn } = ctx.log;
        warn('plain 100%');
      },
    });
    const { binding } = withChain([f], [{ name: 'f' }]);
    binding.hook(binding.openStream(1), HookKind.RequestHeaders);
    assert.deepEqual(binding.logs, [
      { level: 2, message: '[envoy-ts][filter=f] hello world 42' },
      { level: 3, message: '[envoy-ts][filter=f] plain 100%' },
    ]);
  });

  test('a disabled level formats nothing', () => {
    let formatted = 0;
    const costly = { toString() { formatted++; return 'x'; }, [Symbol.for('nodejs.util.inspect.custom')]() { formatted++; return 'x'; } };
    const f = defineHttpFilter({
      name: 'f',
      onRequestHeaders(_h, ctx) {
        ctx.log.debug('value %s %o', costly, costly);
        ctx.log.trace('value %s', costly);
      },
    });
    const { binding } = withChain([f], [{ name: 'f' }]);
    binding.logLevel = 2;
    binding.hook(binding.openStream(1), HookKind.RequestHeaders);
    assert.equal(formatted, 0);
    assert.deepEqual(binding.logs, []);
  });
});

describe('describeError', () => {
  test('the stack, with a code after the name as Node writes its own', () => {
    const coded = new ProcessGuardError('process.exit() is not available to filters: no');
    assert.match(describeError(coded),
                 /^ProcessGuardError \[ETS_ERR_PROCESS_GUARD\]: process\.exit\(\) is not available to filters: no\n\s+at /);
    assert.match(describeError(new Error('plain')), /^Error: plain\n\s+at /);
    assert.equal(describeError('text'), "'text'");
  });
});
