import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';

import { NetworkStatus, defineNetworkFilter } from '../../api/network-filter';
import { CloseType, MetricOp, NetworkEvent, NetworkHookKind, NetworkOutcome } from '../codes';
import { withChain } from './fake-binding';

const NETWORK = 1;

function network(filters: unknown, chain: unknown[], policy: 'closed' | 'open' = 'closed') {
  return withChain(filters, chain, policy, NETWORK);
}

describe('network chain', () => {
  test('onNewConnection and onData run in chain order, onWrite in reverse, onClose for all', () => {
    const order: string[] = [];
    const filters = ['a', 'b'].map((name) => defineNetworkFilter({
      name,
      onNewConnection() { order.push(`connect:${name}`); },
      onData(data, endStream) { order.push(`data:${name}:${data.text()}:${endStream}`); },
      onWrite(data) { order.push(`write:${name}:${data.text()}`); },
      onClose(event) { order.push(`close:${name}:${event}`); },
    }));
    const { binding } = network(filters, [{ name: 'a' }, { name: 'b' }]);
    const c = binding.openConnection(1);
    assert.equal(binding.networkHook(c, NetworkHookKind.NewConnection), NetworkOutcome.Continue);
    assert.equal(binding.receive(c, 'ping', true), NetworkOutcome.Continue);
    assert.equal(binding.upstreamWrites(c, 'pong'), NetworkOutcome.Continue);
    binding.closeEvent(c, NetworkEvent.RemoteClose);
    assert.deepEqual(order, ['connect:a', 'connect:b', 'data:a:ping:true', 'data:b:ping:true',
                             'write:b:pong', 'write:a:pong', 'close:a:remote', 'close:b:remote']);
    assert.deepEqual(c.written, ['pong']);
  });

  test('StopIteration holds the data and stops the chain; the next onData sees all of it', () => {
    const seen: string[] = [];
    const framer = defineNetworkFilter({
      name: 'framer',
      onData(data) {
        seen.push(data.text());
        return data.text().endsWith('\n') ? NetworkStatus.Continue : NetworkStatus.StopIteration;
      },
    });
    const after: string[] = [];
    const next = defineNetworkFilter({ name: 'next', onData(data) { after.push(data.text()); } });
    const { binding } = network([framer, next], [{ name: 'framer' }, { name: 'next' }]);
    const c = binding.openConnection(1);
    assert.equal(binding.receive(c, 'hel'), NetworkOutcome.Stop);
    assert.equal(binding.receive(c, 'lo\n'), NetworkOutcome.Continue);
    assert.deepEqual(seen, ['hel', 'hello\n']);
    assert.deepEqual(after, ['hello\n']);
  });

  test('buffer edits: drain, prepend, append, replace, bytes ranges across slices', () => {
    const f = defineNetworkFilter({
      name: 'edit',
      onData(data) {
        assert.equal(data.length, 6);
        assert.equal(data.chunks().length, 2);
        assert.equal(Buffer.from(data.bytes(2, 5)).toString(), 'cde');
        assert.equal(Buffer.from(data.bytes(-2)).toString(), 'ef');
        data.drain(1);
        data.prepend('<');
        data.append(new Uint8Array([0x3e]));
        assert.equal(data.text(), '<bcdef>');
        return NetworkStatus.StopIteration;
      },
      onWrite(data) {
        data.replace('rewritten');
      },
    });
    const { binding } = network([f], [{ name: 'edit' }]);
    const c = binding.openConnection(1);
    c.buffers[0].push(Buffer.from('abc'));
    assert.equal(binding.receive(c, 'def'), NetworkOutcome.Stop);
    assert.equal(binding.readBufferText(c), '<bcdef>');
    binding.upstreamWrites(c, 'original');
    assert.deepEqual(c.written, ['rewritten']);
  });

  test('a promise holds reading; on resume the chain goes on after that filter', async () => {
    const order: string[] = [];
    const slow = defineNetworkFilter({
      name: 'slow',
      async onNewConnection(ctx) {
        await sleep(5);
        order.push('slow');
        ctx.setFilterState('envoy.tcp_proxy.cluster', 'blue', { typed: true });
      },
    });
    const next = defineNetworkFilter({ name: 'next', onNewConnection() { order.push('next'); } });
    const { binding } = network([slow, next], [{ name: 'slow' }, { name: 'next' }]);
    const c = binding.openConnection(1);
    assert.equal(binding.networkHook(c, NetworkHookKind.NewConnection), NetworkOutcome.Pending);
    await binding.untilResumeRequested(c);
    assert.equal(binding.resumeConnection(c), NetworkOutcome.Continue);
    assert.deepEqual(order, ['slow', 'next']);
    assert.equal(Buffer.from(c.filterState.get('envoy.tcp_proxy.cluster') ?? []).toString(), 'blue');
  });

  test('a promise resolving to StopIteration keeps the data held', async () => {
    const f = defineNetworkFilter({
      name: 'f',
      async onData() {
        await sleep(1);
        return NetworkStatus.StopIteration;
      },
    });
    const { binding } = network([f], [{ name: 'f' }]);
    const c = binding.openConnection(1);
    assert.equal(binding.receive(c, 'x'), NetworkOutcome.Pending);
    await binding.untilResumeRequested(c);
    assert.equal(binding.resumeConnection(c), NetworkOutcome.Stop);
  });

  test('"closed": a throwing onData closes the connection without flushing and logs the stack', () => {
    const f = defineNetworkFilter({ name: 'bad', onData() { throw new Error('boom'); } });
    const { binding } = network([f], [{ name: 'bad' }]);
    const c = binding.openConnection(1);
    assert.equal(binding.receive(c, 'x'), NetworkOutcome.Stop);
    assert.equal(c.closedWith, CloseType.NoFlush);
    assert.match(binding.errorLogs()[0] ?? '', /\[filter=bad\] onData threw: Error: boom\n\s+at /);
    // envoy_ts.bad.failures, the config's only metric.
    assert.deepEqual(c.metrics, [[0, MetricOp.Increment, 1, []]]);
  });

  test('"open": a rejecting onData lets data pass, and the connection is passed through from then on', async () => {
    let calls = 0;
    const f = defineNetworkFilter({
      name: 'bad',
      async onData() {
        calls++;
        await sleep(1);
        throw new Error('later');
      },
    });
    const { binding } = network([f], [{ name: 'bad' }], 'open');
    const c = binding.openConnection(1);
    assert.equal(binding.receive(c, 'x'), NetworkOutcome.Pending);
    await binding.untilResumeRequested(c);
    assert.equal(binding.resumeConnection(c), NetworkOutcome.Continue);
    assert.equal(c.closedWith, undefined);
    assert.equal(binding.receive(c, 'y'), NetworkOutcome.Continue);
    assert.equal(calls, 1);
  });

  test('onWrite must be synchronous: a promise is a failure', () => {
    const f = defineNetworkFilter({ name: 'w', onWrite: (async () => undefined) as never });
    const { binding } = network([f], [{ name: 'w' }]);
    const c = binding.openConnection(1);
    assert.equal(binding.upstreamWrites(c, 'data'), NetworkOutcome.Stop);
    assert.match(binding.errorLogs()[0] ?? '', /onWrite must be synchronous/);
  });

  test('an invalid return value is a failure naming what is allowed', () => {
    const f = defineNetworkFilter({ name: 'f', onData: () => 'stop' as never });
    const { binding } = network([f], [{ name: 'f' }]);
    const c = binding.openConnection(1);
    assert.equal(binding.receive(c, 'x'), NetworkOutcome.Stop);
    assert.match(binding.errorLogs()[0] ?? '', /must return nothing, 'Continue' or 'StopIteration'/);
  });

  test('write, injectRead, continueReading, close modes, readDisable, metadata reach the binding', () => {
    const f = defineNetworkFilter({
      name: 'ops',
      onData(_data, _end, ctx) {
        ctx.write('hello', false);
        ctx.injectRead(new Uint8Array([0x41]), true);
        ctx.continueReading();
        ctx.readDisable(true);
        ctx.setMetadata('ns', 'n', 3);
        ctx.setMetadata('ns', 's', 'v');
        assert.throws(() => ctx.close('sideways' as never), TypeError);
        assert.throws(() => ctx.setFilterState('no.factory', 'v', { typed: true }), { code: 'ETS_ERR_FILTER_STATE' });
        ctx.close('reset');
        assert.equal(ctx.connection.remoteAddress, '10.0.0.1');
        assert.equal(ctx.connection.serverName, null);
        return NetworkStatus.StopIteration;
      },
    });
    const { binding } = network([f], [{ name: 'ops' }]);
    const c = binding.openConnection(1);
    binding.receive(c, 'x');
    assert.deepEqual(c.written, ['hello']);
    assert.deepEqual(c.injected, ['A<EOF>']);
    assert.equal(c.continued, 1);
    assert.equal(c.readDisabled, 1);
    assert.equal(c.closedWith, CloseType.AbortReset);
    assert.deepEqual([...c.metadata], [['ns.n', 3], ['ns.s', 'v']]);
  });

  test('declared metrics get indexes, kinds are enforced, a config function may declare them', () => {
    const f = defineNetworkFilter<{ commands: string[] }>({
      name: 'm',
      parseConfig: (raw) => raw as { commands: string[] },
      metrics: (config) => Object.fromEntries([...config.commands.map((c) => [`cmd.${c}`, 'counter' as const]),
                                               ['open', 'gauge' as const]]),
      onData(_d, _e, ctx) {
        ctx.metrics.increment('cmd.get');
        ctx.metrics.increment('cmd.set', 2);
        ctx.metrics.add('open', -1);
        assert.throws(() => ctx.metrics.increment('open'), /is a gauge, not a counter/);
        assert.throws(() => ctx.metrics.increment('nope'), /declared no metric 'nope'/);
        assert.throws(() => ctx.metrics.increment('cmd.get', -1), /non-negative integer/);
      },
    });
    const { binding, runtime } = network([f], [{ name: 'm', config: { commands: ['get', 'set'] } }]);
    assert.deepEqual(runtime.describeMetrics(1), ['m.cmd.get', 'counter', '', 'm.cmd.set', 'counter', '', 'm.open', 'gauge', '',
                                                 'envoy_ts.m.failures', 'counter', '', 'envoy_ts.m.cpu_budget_exceeded',
                                                 'counter', '', 'envoy_ts.m.async_timeouts', 'counter', '']);
    const c = binding.openConnection(1);
    binding.receive(c, 'x');
    assert.deepEqual(c.metrics, [[0, MetricOp.Increment, 1, []], [1, MetricOp.Increment, 2, []], [2, MetricOp.Add, -1, []]]);
  });

  test('invalid metric declarations reject the config, naming the filter', () => {
    const f = defineNetworkFilter({ name: 'm', metrics: { 'bad name': 'counter' } });
    assert.throws(() => network([f], [{ name: 'm' }]), /filter 'm': invalid metric name 'bad name'/);
    const g = defineNetworkFilter({ name: 'g', metrics: { x: 'meter' as never } });
    assert.throws(() => network([g], [{ name: 'g' }]), /metric 'x' must be 'counter', 'gauge' or 'histogram'/);
    // @ts-expect-error: the types reject labels too; the runtime checks them for JavaScript callers
    const h = defineNetworkFilter({ name: 'h', metrics: { x: { kind: 'counter', labels: ['a'] } } });
    assert.throws(() => network([h], [{ name: 'h' }]), /network filter metrics cannot have labels/);
  });

  test('network and HTTP configs only name filters of their kind', () => {
    const f = defineNetworkFilter({ name: 'tcp-only' });
    assert.throws(() => withChain([f], [{ name: 'tcp-only' }]), /HTTP filter 'tcp-only' is not exported/);
  });

  test('shared counters are one process-wide map', () => {
    let value = 0;
    const f = defineNetworkFilter({
      name: 's',
      onNewConnection(ctx) {
        value = ctx.shared.add('ip:1', 1);
      },
      onClose(_e, ctx) {
        ctx.shared.add('ip:1', -1);
      },
    });
    const { binding } = network([f], [{ name: 's' }]);
    const a = binding.openConnection(1);
    const b = binding.openConnection(1);
    binding.networkHook(a, NetworkHookKind.NewConnection);
    binding.networkHook(b, NetworkHookKind.NewConnection);
    assert.equal(value, 2);
    binding.closeEvent(a, NetworkEvent.LocalClose);
    assert.equal(binding.sharedCounterGet('ip:1'), 1);
  });

  test('destroy while pending: the signal aborts, the settlement never reaches the binding', async () => {
    let signal: AbortSignal | undefined;
    const f = defineNetworkFilter({
      name: 'slow',
      async onData(data, _end, ctx) {
        signal = ctx.signal;
        await sleep(5);
        data.drain(1);
      },
    });
    const { binding } = network([f], [{ name: 'slow' }]);
    const c = binding.openConnection(1);
    assert.equal(binding.receive(c, 'x'), NetworkOutcome.Pending);
    binding.destroyConnection(c);
    assert.equal(signal?.aborted, true);
    await sleep(20);
    assert.equal(binding.resumeRequests.length, 0);
    assert.ok(!binding.calls.some((call) => call.method === 'drainBuffer' && call.slot === c.slot));
  });
});
