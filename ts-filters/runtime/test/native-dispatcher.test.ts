import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { defineHttpFilter } from '../../api/http-filter';
import { CrossingFrame, HookFlags, HookKind, HookOutcome } from '../codes';
import { createDispatcher } from '../dispatcher';
import { PLAIN_ENTRIES, nativeDispatcher } from '../native-dispatcher';
import { FakeBinding } from './fake-binding';

// A runtime on a fake binding, with the crossing frame it registered.
function framed(filters: unknown[], chain: unknown[]) {
  const binding = new FakeBinding();
  let frame: Uint32Array = new Uint32Array(0);
  const register = binding.setCrossingFrame.bind(binding);
  binding.setCrossingFrame = (registered) => {
    frame = registered;
    register(registered);
  };
  const runtime = createDispatcher(binding, { loadBundle: () => filters });
  const dispatcher = nativeDispatcher(runtime, binding, PLAIN_ENTRIES);
  binding.setDispatcher(dispatcher);
  assert.equal(runtime.loadConfig(1, JSON.stringify({ bundle: '/fake/bundle.js', chain }), 0), undefined);
  return { binding, dispatcher, frame };
}

function writeCall(frame: Uint32Array, slot: number, gen: number, hook: number, flags = 0): void {
  frame[CrossingFrame.ConfigId] = 1;
  frame[CrossingFrame.Slot] = slot;
  frame[CrossingFrame.Gen] = gen;
  frame[CrossingFrame.Hook] = hook;
  frame[CrossingFrame.Flags] = flags;
  frame[CrossingFrame.RouteConfigId] = 0;
  frame[CrossingFrame.StatsRecords] = 0;
}

describe('the Dispatcher native calls', () => {
  test('onHook() takes its arguments from the crossing frame and leaves the stats count there', () => {
    const ends: boolean[] = [];
    const f = defineHttpFilter({ name: 'f', onRequestHeaders(_h, ctx) { ends.push(ctx.endOfStream); } });
    const { binding, dispatcher, frame } = framed([f], [{ name: 'f' }]);
    const s = binding.openStream(1);
    writeCall(frame, s.slot, s.gen, HookKind.RequestHeaders, HookFlags.EndOfStream);
    assert.equal(dispatcher.onHook(), HookOutcome.Continue);
    assert.deepEqual(ends, [true]);
    // hook_invocations and hook_time_us of the one filter that ran.
    assert.equal(frame[CrossingFrame.StatsRecords], 2);
    writeCall(frame, s.slot, s.gen, HookKind.ResponseHeaders);
    binding.setResponse(s, { ':status': '200' });
    dispatcher.onHook();
    assert.equal(frame[CrossingFrame.StatsRecords], 0, 'no filter ran: nothing to hand over');
  });

  test('a call made from inside a hook does not disturb the outer call\'s arguments or stats', () => {
    let inner: (() => void) | undefined;
    const f = defineHttpFilter({
      name: 'f',
      onRequestHeaders() { inner?.(); },
      onResponseHeaders() {},
    });
    const { binding, dispatcher, frame } = framed([f], [{ name: 'f' }]);
    const outer = binding.openStream(1);
    const other = binding.openStream(1);
    binding.setResponse(other, { ':status': '200' });
    binding.hook(other, HookKind.RequestHeaders);
    // Like Envoy encoding another stream's response from inside a binding call of this hook.
    inner = () => {
      writeCall(frame, other.slot, other.gen, HookKind.ResponseHeaders);
      assert.equal(dispatcher.onHook(), HookOutcome.Continue);
    };
    writeCall(frame, outer.slot, outer.gen, HookKind.RequestHeaders);
    assert.equal(dispatcher.onHook(), HookOutcome.Continue);
    assert.equal(frame[CrossingFrame.StatsRecords], 2, 'the outer stream\'s own stats');
    assert.deepEqual(binding.callsFor(outer), []);
  });
});
