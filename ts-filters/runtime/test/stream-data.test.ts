import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';

import { defineHttpFilter } from '../../api/http-filter';
import { HeaderMapKind, HookKind, HookOutcome, MetricOp } from '../codes';
import { withChain } from './fake-binding';

// The built-in hook stats of a filter named `f`.
// The built-in failure counters of an HTTP config, labelled by filter: all failures, hooks the CPU
// watchdog stopped, promises that timed out.
const failureCounters = ['envoy_ts.filter_failures', 'counter', 'filter', 'envoy_ts.cpu_budget_exceeded', 'counter',
                         'filter', 'envoy_ts.async_timeouts', 'counter', 'filter'];
const builtinStats = (f: string) => [`envoy_ts.${f}.hook_invocations`, 'counter', '', `envoy_ts.${f}.hook_time_us`,
  'histogram', '', `envoy_ts.${f}.hooks_pending`, 'gauge', ''];

describe('HTTP stream data', () => {
  test('trailer hooks: request trailers in chain order, response trailers in reverse; writes land', () => {
    const order: string[] = [];
    const filters = ['a', 'b'].map((name) => defineHttpFilter({
      name,
      onRequestTrailers(trailers) {
        order.push(`req:${name}`);
        trailers.set(`x-${name}`, trailers.get('grpc-status') ?? 'none');
      },
      onResponseTrailers(trailers, ctx) {
        order.push(`res:${name}`);
        assert.equal(ctx.responseHeaders.get(':status'), '200');
        trailers.add('x-seen', name);
      },
    }));
    const { binding } = withChain(filters, [{ name: 'a' }, { name: 'b' }]);
    const s = binding.openStream(1);
    s.maps[HeaderMapKind.RequestTrailers]?.push(['grpc-status', '0']);
    assert.equal(binding.hook(s, HookKind.RequestHeaders, false), HookOutcome.Continue);
    assert.equal(binding.hook(s, HookKind.RequestTrailers), HookOutcome.Continue);
    binding.setResponse(s, { ':status': '200' });
    assert.equal(binding.hook(s, HookKind.ResponseHeaders, false), HookOutcome.Continue);
    assert.equal(binding.hook(s, HookKind.ResponseTrailers), HookOutcome.Continue);
    assert.deepEqual(order, ['req:a', 'req:b', 'res:b', 'res:a']);
    assert.equal(binding.header(s, HeaderMapKind.RequestTrailers, 'x-a'), '0');
    assert.deepEqual(binding.headers(s, HeaderMapKind.ResponseTrailers), [['x-seen', 'b'], ['x-seen', 'a']]);
  });

  test('onStreamComplete runs once per filter with headers still readable; a throw is logged', () => {
    const seen: string[] = [];
    const ok = defineHttpFilter({
      name: 'log',
      onStreamComplete(ctx) {
        seen.push(`${ctx.requestHeaders.get(':path') ?? '?'} ${ctx.responseHeaders.get(':status') ?? '?'}`);
      },
    });
    const bad = defineHttpFilter({ name: 'bad', onStreamComplete() { throw new Error('complete failed'); } });
    const { binding } = withChain([ok, bad], [{ name: 'log' }, { name: 'bad' }]);
    const s = binding.openStream(1, { ':path': '/x' });
    binding.hook(s, HookKind.RequestHeaders);
    binding.setResponse(s, { ':status': '204' });
    binding.hook(s, HookKind.ResponseHeaders);
    assert.equal(binding.hook(s, HookKind.StreamComplete), HookOutcome.Continue);
    assert.deepEqual(seen, ['/x 204']);
    assert.match(binding.errorLogs()[0] ?? '', /\[filter=bad\] onStreamComplete threw: Error: complete failed/);
  });

  test('StreamComplete also ends the stream: the signal aborts and the state is gone', () => {
    let signal: AbortSignal | undefined;
    const f = defineHttpFilter({ name: 'f', onRequestHeaders(_headers, ctx) { signal = ctx.signal; } });
    const { binding, runtime } = withChain([f], [{ name: 'f' }]);
    const s = binding.openStream(1);
    binding.hook(s, HookKind.RequestHeaders);
    assert.equal(runtime.streamCount(), 1);
    binding.hook(s, HookKind.StreamComplete);
    assert.equal(signal?.aborted, true);
    assert.equal(runtime.streamCount(), 0);
  });

  test('metrics with labels: values in declaration order, exactly the declared labels', () => {
    const f = defineHttpFilter({
      name: 'm',
      metrics: { requests: { kind: 'counter', labels: ['method', 'code'] }, inflight: 'gauge' },
      onRequestHeaders(headers, ctx) {
        ctx.metrics.increment('requests', 1, { code: '2xx', method: headers.get(':method') ?? '' });
        ctx.metrics.add('inflight', 1);
        // The types reject these calls; the runtime still checks them for JavaScript callers.
        // @ts-expect-error: a labelled counter takes its labels
        assert.throws(() => ctx.metrics.increment('requests'), /takes the labels \["method","code"\]/);
        // @ts-expect-error: every declared label
        assert.throws(() => ctx.metrics.increment('requests', 1, { method: 'GET' }), /takes the labels/);
        // @ts-expect-error: an unlabelled gauge takes none
        assert.throws(() => ctx.metrics.add('inflight', 1, { x: 'y' }), /takes the labels \[\]/);
      },
    });
    const { binding, runtime } = withChain([f], [{ name: 'm' }]);
    assert.deepEqual(runtime.describeMetrics(1), ['m.requests', 'counter', 'method,code', 'm.inflight', 'gauge', '',
                                                 ...failureCounters, ...builtinStats('m')]);
    const s = binding.openStream(1, { ':method': 'GET' });
    binding.hook(s, HookKind.RequestHeaders);
    assert.deepEqual(s.metrics, [[0, MetricOp.Increment, 1, ['GET', '2xx']], [1, MetricOp.Add, 1, []]]);
  });

  test('a failing filter is counted in envoy_ts.filter_failures, labelled with its name', () => {
    const ok = defineHttpFilter({ name: 'ok' });
    const bad = defineHttpFilter({ name: 'bad', onRequestHeaders() { throw new Error('boom'); } });
    const { binding, runtime } = withChain([ok, bad], [{ name: 'ok' }, { name: 'bad' }]);
    assert.deepEqual(runtime.describeMetrics(1), [...failureCounters, ...builtinStats('ok'), ...builtinStats('bad')]);
    const s = binding.openStream(1);
    assert.equal(binding.hook(s, HookKind.RequestHeaders), HookOutcome.Replied);
    assert.deepEqual(s.metrics, [[0, MetricOp.Increment, 1, ['bad']]]);
  });

  test('every filter\'s hooks are counted and timed per stream, sent once when the stream completes', async () => {
    const fast = defineHttpFilter({ name: 'fast', onRequestHeaders() {}, onResponseHeaders() {} });
    const slow = defineHttpFilter({ name: 'slow', async onRequestHeaders() { await sleep(20); } });
    const { binding, runtime } = withChain([fast, slow], [{ name: 'fast' }, { name: 'slow' }]);
    const names = runtime.describeMetrics(1).filter((_, i) => i % 3 === 0);
    const index = (name: string) => names.indexOf(name);
    const s = binding.openStream(1);
    assert.equal(binding.hook(s, HookKind.RequestHeaders), HookOutcome.Pending);
    // The pending gauge moves at once; counts and times wait for the stream to complete.
    assert.deepEqual(s.metrics, [[index('envoy_ts.slow.hooks_pending'), MetricOp.Add, 1, []]]);
    await binding.untilResumeRequested(s);
    binding.resume(s);
    assert.deepEqual(s.metrics.at(-1), [index('envoy_ts.slow.hooks_pending'), MetricOp.Add, -1, []]);
    binding.setResponse(s, { ':status': '200' });
    binding.hook(s, HookKind.ResponseHeaders);
    s.metrics.length = 0;
    binding.hook(s, HookKind.StreamComplete);
    const recorded = (name: string) => s.metrics.find(([i]) => i === index(name));
    assert.deepEqual(recorded('envoy_ts.fast.hook_invocations'), [index('envoy_ts.fast.hook_invocations'), MetricOp.Increment, 2, []]);
    assert.deepEqual(recorded('envoy_ts.slow.hook_invocations'), [index('envoy_ts.slow.hook_invocations'), MetricOp.Increment, 1, []]);
    const slowMicros = recorded('envoy_ts.slow.hook_time_us')?.[2] ?? 0;
    assert.ok(slowMicros >= 15_000, `an async hook's time runs until it settled: ${slowMicros} µs`);
    assert.equal(s.metrics.length, 4, 'one count and one time sample per filter per stream');
  });

  test('invalid labels reject the config', () => {
    const f = defineHttpFilter({ name: 'm', metrics: { r: { kind: 'counter', labels: ['a', 'a'] } } });
    assert.throws(() => withChain([f], [{ name: 'm' }]), /labels must be distinct names/);
    const g = defineHttpFilter({ name: 'g', metrics: { r: { kind: 'counter', labels: ['no-dash'] } } });
    assert.throws(() => withChain([g], [{ name: 'g' }]), /labels must be distinct names/);
  });

  test('dynamic metadata, filter state and attributes', () => {
    let read: unknown[] = [];
    const f = defineHttpFilter({
      name: 'data',
      onRequestHeaders(_headers, ctx) {
        ctx.setMetadata('envoy-ts', 'tenant', 'acme');
        ctx.setMetadata('envoy-ts', 'score', 0.5);
        ctx.setFilterState('session', 'abc');
        assert.throws(() => ctx.setMetadata('', 'k', 'v'), TypeError);
        assert.throws(() => ctx.setMetadata('n', 'k', Number.NaN), TypeError);
        assert.throws(() => ctx.getMetadata('n', 'k', 'nowhere' as never), /unknown source/);
        read = [
          ctx.getMetadata('envoy-ts', 'tenant'), ctx.getMetadata('envoy-ts', 'missing'),
          ctx.getMetadata('envoy-ts', 'tenant', 'route'), Buffer.from(ctx.getFilterState('session') ?? []).toString(),
          ctx.getFilterState('absent'), ctx.attributes.protocol, ctx.attributes.sourceAddress,
          ctx.attributes.sourcePort, ctx.attributes.mtls, ctx.attributes.routeName,
        ];
      },
    });
    const { binding } = withChain([f], [{ name: 'data' }]);
    const s = binding.openStream(1);
    binding.hook(s, HookKind.RequestHeaders);
    assert.deepEqual(read, ['acme', null, null, 'abc', null, 'HTTP/1.1', '10.0.0.1:40000', 40000, false, null]);
    assert.deepEqual([...s.metadata], [['envoy-ts.tenant', 'acme'], ['envoy-ts.score', 0.5]]);
  });

  test('changing what routing reads clears the route cache; other headers do not', () => {
    const f = defineHttpFilter({
      name: 'rewrite',
      onRequestHeaders(headers) {
        headers.set('x-other', '1');
        headers.set(':path', '/b');
        headers.delete('host');
      },
      onResponseHeaders(headers) {
        headers.set(':path', 'not-routing-in-a-response');
      },
    });
    const { binding } = withChain([f], [{ name: 'rewrite' }]);
    const s = binding.openStream(1, { ':path': '/a', host: 'x' });
    binding.hook(s, HookKind.RequestHeaders);
    assert.equal(s.routeCacheClears, 2);
    binding.setResponse(s, { ':status': '200' });
    binding.hook(s, HookKind.ResponseHeaders);
    assert.equal(s.routeCacheClears, 2);
  });
});
