import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { defineHttpFilter } from '../../api/http-filter';
import { HookKind, HookOutcome, MetricOp } from '../codes';
import { withChain } from './fake-binding';

/** A clock the test moves: hooks "take" time by advancing it; every read is counted. */
function scriptedClock() {
  const clock = { now: 1_000_000, reads: 0, read: () => { clock.reads++; return clock.now; } };
  return clock;
}

/** A chain of `filters` whose stats clock is `clock`; the completed stream's records by metric name. */
function timedChain(filters: { readonly name: string }[], clock: ReturnType<typeof scriptedClock>,
                    failurePolicy: 'closed' | 'open' = 'closed') {
  const { binding, runtime } = withChain(filters, filters.map((f) => ({ name: f.name })), failurePolicy);
  binding.stampClock = () => {
    (binding.clockCell as Float64Array)[0] = clock.read();
  };
  const names = runtime.describeMetrics(1).filter((_, i) => i % 3 === 0);
  const complete = (s: ReturnType<typeof binding.openStream>) => {
    s.metrics.length = 0;
    binding.hook(s, HookKind.StreamComplete);
    return new Map(s.metrics.map(([index, op, value]) => [names[index] as string, [op, value]]));
  };
  return { binding, complete };
}

describe('built-in hook stats', () => {
  test('one clock read per hook edge: a hook ends where the next filter\'s starts', () => {
    const clock = scriptedClock();
    const a = defineHttpFilter({ name: 'a', onRequestHeaders() { clock.now += 100; }, onResponseHeaders() { clock.now += 7; } });
    const b = defineHttpFilter({ name: 'b', onRequestHeaders() { clock.now += 250; } });
    const { binding, complete } = timedChain([a, b], clock);
    const s = binding.openStream(1);
    assert.equal(binding.hook(s, HookKind.RequestHeaders), HookOutcome.Continue);
    assert.equal(clock.reads, 3, 'before a, between a and b, after b');
    binding.setResponse(s, { ':status': '200' });
    binding.hook(s, HookKind.ResponseHeaders);
    assert.equal(clock.reads, 5, 'one filter: before and after its hook');
    const records = complete(s);
    assert.equal(clock.reads, 5, 'completing reads no clock');
    assert.deepEqual(records.get('envoy_ts.a.hook_invocations'), [MetricOp.Increment, 2]);
    assert.deepEqual(records.get('envoy_ts.a.hook_time_us'), [MetricOp.Record, 107]);
    assert.deepEqual(records.get('envoy_ts.b.hook_invocations'), [MetricOp.Increment, 1]);
    assert.deepEqual(records.get('envoy_ts.b.hook_time_us'), [MetricOp.Record, 250]);
  });

  test('what the failure policy does after a throw is no filter\'s time', () => {
    const clock = scriptedClock();
    const a = defineHttpFilter({ name: 'a', onRequestHeaders() { clock.now += 40; throw new Error('boom'); } });
    const b = defineHttpFilter({ name: 'b', onRequestHeaders() { clock.now += 10; } });
    const { binding, complete } = timedChain([a, b], clock, 'open');
    // The policy logs the failure, which "takes" 1000 µs here.
    const log = binding.log.bind(binding);
    binding.log = (level, message) => {
      clock.now += 1000;
      log(level, message);
    };
    const s = binding.openStream(1);
    assert.equal(binding.hook(s, HookKind.RequestHeaders), HookOutcome.Continue, 'fail open: b ran');
    assert.equal(clock.reads, 4, 'b\'s start is read again after the policy');
    const records = complete(s);
    assert.deepEqual(records.get('envoy_ts.a.hook_time_us'), [MetricOp.Record, 40]);
    assert.deepEqual(records.get('envoy_ts.b.hook_time_us'), [MetricOp.Record, 10]);
  });

  test('an async hook is timed from its call until its promise settled; the chain goes on from a new edge', async () => {
    const clock = scriptedClock();
    let release = (): void => {};
    const slow = defineHttpFilter({
      name: 'slow',
      async onRequestHeaders() {
        clock.now += 5;
        await new Promise<void>((resolve) => { release = resolve; });
      },
    });
    const next = defineHttpFilter({ name: 'next', onRequestHeaders() { clock.now += 3; } });
    const { binding, complete } = timedChain([slow, next], clock);
    const s = binding.openStream(1);
    assert.equal(binding.hook(s, HookKind.RequestHeaders), HookOutcome.Pending);
    clock.now += 20_000;
    release();
    await binding.untilResumeRequested(s);
    clock.now += 500;  // the resume comes later: not the hook's time
    binding.resume(s);
    const records = complete(s);
    assert.deepEqual(records.get('envoy_ts.slow.hook_time_us'), [MetricOp.Record, 20_005]);
    assert.deepEqual(records.get('envoy_ts.next.hook_time_us'), [MetricOp.Record, 3]);
  });

  test('a stream whose filters ran no hook records nothing', () => {
    const clock = scriptedClock();
    const quiet = defineHttpFilter({ name: 'quiet', onResponseHeaders() {} });
    const { binding, complete } = timedChain([quiet], clock);
    const s = binding.openStream(1);
    binding.hook(s, HookKind.RequestHeaders);
    assert.equal(complete(s).size, 0);
    assert.equal(clock.reads, 0);
  });
});
