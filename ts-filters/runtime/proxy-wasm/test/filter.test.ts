// The proxy-wasm chain entry through the runtime, with modules built from test/fixtures/proxy-wasm
// by the build (asc and the AssemblyScript SDK), on the runtime's in-memory binding.
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';

import { defineHttpFilter } from '../../../api/http-filter';
import { HeaderMapKind, HookKind, HookOutcome } from '../../codes';
import { setup, withChain } from '../../test/fake-binding';
import { hostOf } from '../host';

const wasm = (name: string): string => resolve(`dist/test/fixtures/proxy-wasm/${name}.wasm`);
// The SDK (0.1.8) reads its configuration through a pointer it passes wrongly: with an empty one
// it reads outside its memory (as under Envoy). Every plugin here is given one.
const entry = (name: string, rootId: string, extra: Record<string, unknown> = {}) =>
  ({ name: 'proxy-wasm', config: { module: wasm(name), rootId, configuration: 'set', ...extra } });

describe('proxy-wasm: the SDK example (add_header)', () => {
  test('adds hello to the response, with the plugin configuration as its value', () => {
    for (const [configuration, expected] of [['set', 'set'], ['from the config', 'from the config']] as const) {
      const { binding } = withChain([], [entry('add-header', 'add_header', { configuration })]);
      const s = binding.openStream(1, { ':path': '/' });
      assert.equal(binding.hook(s, HookKind.RequestHeaders), HookOutcome.Continue);
      binding.setResponse(s, { ':status': '200' });
      assert.equal(binding.hook(s, HookKind.ResponseHeaders), HookOutcome.Continue);
      assert.equal(binding.header(s, HeaderMapKind.ResponseHeaders, 'hello'), expected);
      binding.hook(s, HookKind.StreamComplete);
    }
  });

  test('a TypeScript filter before it in the chain reads what it set (response hooks run in reverse)', () => {
    const reader = defineHttpFilter({
      name: 'reader',
      onResponseHeaders(headers) { headers.set('x-ts-saw', headers.get('hello') ?? 'nothing'); },
    });
    const { binding } = withChain([reader], [{ name: 'reader' }, entry('add-header', 'add_header')]);
    const s = binding.openStream(1);
    binding.hook(s, HookKind.RequestHeaders);
    binding.setResponse(s, { ':status': '200' });
    binding.hook(s, HookKind.ResponseHeaders);
    assert.equal(binding.header(s, HeaderMapKind.ResponseHeaders, 'x-ts-saw'), 'set');
  });

  test('labelled entries are told apart: in stats, in the log, and by a route that disables one of them', () => {
    const { binding, runtime } = withChain([], [
      { ...entry('add-header', 'add_header', { configuration: 'first' }), name: 'proxy-wasm.first' },
      { ...entry('auth', 'auth', { configuration: 'authz' }), name: 'proxy-wasm.auth' },
    ]);
    assert.ok(runtime.describeMetrics(1).includes('proxy-wasm.auth.auth_allowed'));
    assert.ok(runtime.describeMetrics(1).includes('envoy_ts.proxy-wasm.first.hook_invocations'));
    assert.equal(runtime.loadConfig(7, JSON.stringify({ bundle: '/fake/bundle.js',
                                                        filters: { 'proxy-wasm.auth': { disabled: true } } }), 2), undefined);
    const s = binding.openStream(1);
    assert.equal(binding.hook(s, HookKind.RequestHeaders, true, 7), HookOutcome.Continue, 'no auth call on this route');
    binding.setResponse(s, { ':status': '200' });
    binding.hook(s, HookKind.ResponseHeaders);
    assert.equal(binding.header(s, HeaderMapKind.ResponseHeaders, 'hello'), 'first');
    assert.match(runtime.loadConfig(8, JSON.stringify({ bundle: '/fake/bundle.js', chain: [{ name: 'proxy-wasm.bad label' }] }), 0) ?? '',
                 /HTTP filter 'proxy-wasm.bad label' is not exported/);
  });

  test('a route can disable it', () => {
    const { binding, runtime } = withChain([], [entry('add-header', 'add_header')]);
    assert.equal(runtime.loadConfig(7, JSON.stringify({ bundle: '/fake/bundle.js',
                                                        filters: { 'proxy-wasm': { disabled: true } } }), 2), undefined);
    const s = binding.openStream(1);
    binding.hook(s, HookKind.RequestHeaders, true, 7);
    binding.setResponse(s, { ':status': '200' });
    binding.hook(s, HookKind.ResponseHeaders);
    assert.equal(binding.header(s, HeaderMapKind.ResponseHeaders, 'hello'), undefined);
  });
});

describe('proxy-wasm: ABI 0.2.1 without an SDK', () => {
  test('memory comes from proxy_on_memory_allocate; proxy_get_log_level and NUL-separated property paths work', () => {
    const { binding } = withChain([], [{ name: 'proxy-wasm', config: { module: wasm('abi-0-2-1') } }]);
    binding.logLevel = 2;
    const s = binding.openStream(1, { ':path': '/p?q=1', ':method': 'GET', 'user-agent': 'test' });
    assert.equal(binding.hook(s, HookKind.RequestHeaders), HookOutcome.Continue);
    assert.equal(binding.header(s, HeaderMapKind.RequestHeaders, 'x-num-headers'), '3', 'the headers callback got the count');
    assert.equal(binding.header(s, HeaderMapKind.RequestHeaders, 'x-abi'), '0.2.1');
    assert.equal(binding.header(s, HeaderMapKind.RequestHeaders, 'x-log-level'), '2');
    assert.equal(binding.header(s, HeaderMapKind.RequestHeaders, 'x-property-path'), '/p?q=1');
  });
});

describe('proxy-wasm: an auth filter calling out through a cluster', () => {
  test('proxy_http_call becomes a callout; a 200 lets the request on with the user the check named', async () => {
    const { binding } = withChain([], [entry('auth', 'auth', { configuration: 'authz' })]);
    const s = binding.openStream(1, { ':path': '/orders', 'x-token': 'let-me-in' });
    assert.equal(binding.hook(s, HookKind.RequestHeaders, false), HookOutcome.Pending);
    const [callout] = binding.callouts;
    assert.equal(callout?.cluster, 'authz');
    assert.deepEqual(callout?.headers, [':method', 'GET', ':path', '/check', 'x-token', 'let-me-in', 'host', 'authz']);
    binding.answerCallout(s, 1, 0, { ':status': '200', 'x-user': 'alice' }, 'ok');
    await binding.untilResumeRequested(s);
    assert.equal(binding.resume(s), HookOutcome.Continue);
    assert.equal(binding.header(s, HeaderMapKind.RequestHeaders, 'x-auth-user'), 'alice');
  });

  test('anything else answers 403 with the module\'s body; both outcomes are counted in its metrics', async () => {
    const { binding, runtime } = withChain([], [entry('auth', 'auth', { configuration: 'authz' })]);
    const metrics = runtime.describeMetrics(1);
    const allowed = metrics.indexOf('proxy-wasm.auth_allowed') / 3;
    const denied = metrics.indexOf('proxy-wasm.auth_denied') / 3;
    assert.ok(allowed >= 0 && denied >= 0, `metrics defined at load: ${metrics.join(' ')}`);
    const s = binding.openStream(1, { ':path': '/orders' });
    binding.hook(s, HookKind.RequestHeaders, false);
    binding.answerCallout(s, 1, 0, { ':status': '401' }, '');
    await binding.untilResumeRequested(s);
    assert.equal(binding.resume(s), HookOutcome.Replied);
    assert.equal(binding.replyOf(s)?.status, 403);
    assert.match(binding.replyOf(s)?.body ?? '', /denied by the wasm auth filter \(check: 401\)/);
    assert.equal(binding.replyOf(s)?.details, 'wasm_auth_denied');
    assert.deepEqual(s.metrics.filter(([index]) => index === denied).map(([, , value]) => value), [1]);
  });

  test('a call that fails (no answer) reaches the module without headers: it refuses', async () => {
    const { binding } = withChain([], [entry('auth', 'auth', { configuration: 'authz' })]);
    const s = binding.openStream(1);
    binding.hook(s, HookKind.RequestHeaders, false);
    binding.answerCallout(s, 1, 1);
    await binding.untilResumeRequested(s);
    assert.equal(binding.resume(s), HookOutcome.Replied);
    assert.equal(binding.replyOf(s)?.status, 403);
  });

  test('its on_configure refusing (no cluster name configured) rejects the config', () => {
    const { runtime } = setup({ loadBundle: () => [] });
    const error = runtime.loadConfig(1, JSON.stringify({ bundle: '/fake/bundle.js',
                                                         chain: [entry('auth', 'auth', { configuration: 'not a cluster' })] }), 0);
    assert.match(error ?? '', /filter 'proxy-wasm': module .*auth\.wasm \(root id "auth"\): proxy_on_configure answered false/);
  });
});

describe('proxy-wasm: a body filter', () => {
  test('buffers the body to its end (each call sees it all), then rewrites it in place', () => {
    const { binding } = withChain([], [entry('body', 'body')]);
    const s = binding.openStream(1, { ':method': 'POST' });
    binding.hook(s, HookKind.RequestHeaders, false);
    assert.equal(binding.body(s, 0, 'hello ', false), HookOutcome.Continue);
    assert.equal(s.passed[0], '', 'the first chunk is held');
    assert.equal(binding.body(s, 0, 'wasm world', true), HookOutcome.Continue);
    assert.equal(s.passed[0], 'HELLO WASM WORLD');
    binding.setResponse(s, { ':status': '200' });
    binding.hook(s, HookKind.ResponseHeaders);
    assert.equal(binding.header(s, HeaderMapKind.ResponseHeaders, 'x-wasm-request-body-bytes'), '16');
  });

  test('a module that holds the headers (StopIteration) gets the whole body while they wait, as under Envoy', async () => {
    const { binding } = withChain([], [entry('body', 'body', { configuration: 'hold-headers' })]);
    const s = binding.openStream(1, { ':method': 'POST', 'content-length': '10' });
    assert.equal(binding.hook(s, HookKind.RequestHeaders, false), HookOutcome.Pending);
    assert.equal(binding.body(s, 0, 'hello ', false), HookOutcome.Pending);
    assert.equal(binding.body(s, 0, 'wasm', true), HookOutcome.Pending);
    await binding.untilResumeRequested(s);
    assert.equal(binding.resume(s), HookOutcome.Continue);
    binding.passOn(s, 0);
    assert.equal(s.passed[0], 'HELLO WASM');
    const refused = binding.openStream(1, { ':method': 'POST' });
    binding.hook(refused, HookKind.RequestHeaders, false);
    binding.body(refused, 0, 'forbidden', true);
    await binding.untilResumeRequested(refused);
    assert.equal(binding.resume(refused), HookOutcome.Replied);
    assert.equal(binding.replyOf(refused)?.status, 403);
  });

  test('refuses a body that says forbidden', () => {
    const { binding } = withChain([], [entry('body', 'body')]);
    const s = binding.openStream(1, { ':method': 'POST' });
    binding.hook(s, HookKind.RequestHeaders, false);
    binding.body(s, 0, 'this is forb', false);
    assert.equal(binding.body(s, 0, 'idden', true), HookOutcome.Replied);
    assert.equal(binding.replyOf(s)?.status, 403);
    assert.equal(s.passed[0], '');
  });
});

describe('proxy-wasm: ticks, shared data and a shared queue', () => {
  test('ticks count in shared data; each request is enqueued and counted by the queue reader', async () => {
    const { binding, runtime } = withChain([], [entry('ticks-shared', 'ticks')]);
    await sleep(150);
    const streams = [];
    for (let i = 1; i <= 3; i++) {
      const s = binding.openStream(1, { ':path': `/r${i}` });
      streams.push(s);
      binding.hook(s, HookKind.RequestHeaders);
      await Promise.resolve();  // the queue reader runs once the call into JavaScript is over
      binding.setResponse(s, { ':status': '200' });
      binding.hook(s, HookKind.ResponseHeaders);
      assert.equal(binding.header(s, HeaderMapKind.ResponseHeaders, 'x-hits'), String(i));
      assert.ok(Number(binding.header(s, HeaderMapKind.ResponseHeaders, 'x-ticks')) >= 2, 'ticked');
      binding.hook(s, HookKind.StreamComplete);
    }
    const ticksTotal = runtime.describeMetrics(1).indexOf('proxy-wasm.ticks_total') / 3;
    const recorded = streams.flatMap((s) => s.metrics).filter(([index]) => index === ticksTotal);
    assert.ok(recorded.length > 0 && recorded.reduce((n, [, , value]) => n + value, 0) >= 2,
              'ticks counted outside any stream reach Envoy with the next streams');
    const [value] = binding.sharedDataGet('hits') ?? [];
    assert.equal(Buffer.from(value ?? []).toString(), '3');
    runtime.unloadConfig(1);
    const ticks = binding.sharedDataGet('ticks')?.[1];
    await sleep(80);
    assert.equal(binding.sharedDataGet('ticks')?.[1], ticks, 'no tick after the config is gone');
    assert.equal(hostOf(binding).vmCount, 0);
  });
});

describe('proxy-wasm: containment', () => {
  const misbehaving = () => withChain([], [entry('misbehave', 'misbehave')]);

  for (const [path, error] of [['/wasm/trap', /RuntimeError: unreachable/], ['/wasm/oob', /RuntimeError: memory access out of bounds/],
                               ['/wasm/abort', /ProcExit: the module called proc_exit\(255\)/]] as const) {
    test(`${path}: the trap gets the failure policy, named in the log; a fresh instance serves the next request`, () => {
      const { binding } = misbehaving();
      const ok = binding.openStream(1, { ':path': '/' });
      binding.hook(ok, HookKind.RequestHeaders);
      assert.equal(binding.header(ok, HeaderMapKind.RequestHeaders, 'x-wasm-ok'), '1');
      const bad = binding.openStream(1, { ':path': path });
      assert.equal(binding.hook(bad, HookKind.RequestHeaders), HookOutcome.Replied);
      assert.equal(binding.replyOf(bad)?.status, 500);
      assert.ok(binding.errorLogs().some((line) => /\[filter=proxy-wasm\] onRequestHeaders threw: /.test(line) &&
                                                   error.test(line)), binding.errorLogs().join('\n'));
      const next = binding.openStream(1, { ':path': '/' });
      assert.equal(binding.hook(next, HookKind.RequestHeaders), HookOutcome.Continue);
      assert.equal(binding.header(next, HeaderMapKind.RequestHeaders, 'x-wasm-ok'), '1', 'a fresh instance counts from 1');
    });
  }

  test('the SDK\'s abort message reaches the log at critical level', () => {
    const { binding } = misbehaving();
    binding.hook(binding.openStream(1, { ':path': '/wasm/abort' }), HookKind.RequestHeaders);
    assert.ok(binding.logs.some(({ level, message }) => level === 5 && /\[root_id=misbehave\] asked to abort/.test(message)));
  });

  test('an unimplemented call answers UNIMPLEMENTED (12) and is logged once', () => {
    const { binding } = misbehaving();
    for (let i = 0; i < 2; i++) {
      const s = binding.openStream(1, { ':path': '/wasm/grpc' });
      binding.hook(s, HookKind.RequestHeaders);
      assert.equal(binding.header(s, HeaderMapKind.RequestHeaders, 'x-grpc-status'), '12');
    }
    assert.equal(binding.logs.filter(({ message }) => /proxy_grpc_call is not supported by envoy-ts/.test(message)).length, 1);
  });
});

describe('proxy-wasm: config', () => {
  test('the entry is checked when the config loads', () => {
    const { runtime } = setup({ loadBundle: () => [] });
    const load = (config: unknown) => runtime.loadConfig(1, JSON.stringify({
      bundle: '/fake/bundle.js', chain: [{ name: 'proxy-wasm', config }] }), 0);
    assert.match(load({}) ?? '', /config\.module is required/);
    assert.match(load({ module: wasm('add-header'), rootId: 'add_header' }) ?? '',
                 /memory access out of bounds/, 'the SDK with an empty configuration fails as under Envoy');
    assert.match(load({ module: wasm('add-header'), rootid: 'x' }) ?? '', /rootid/);
    assert.match(load({ module: '/nowhere/x.wasm' }) ?? '', /proxy-wasm module \/nowhere\/x\.wasm cannot be read/);
    assert.match(load({ module: '/fake/bundle.js' }) ?? '', /cannot be read|not a valid WebAssembly module/);
    assert.match(load({ module: wasm('add-header'), rootId: 'nobody' }) ?? '',
                 /Missing root context factory for root id: nobody|proc_exit/);
  });

  test('a bundle cannot export a filter of that name', () => {
    const mine = defineHttpFilter({ name: 'proxy-wasm' });
    const { runtime } = setup({ loadBundle: () => [mine] });
    assert.match(runtime.loadConfig(1, JSON.stringify({ bundle: '/fake/bundle.js', chain: [{ name: 'proxy-wasm' }] }), 0) ?? '',
                 /exports a filter named 'proxy-wasm': names 'proxy-wasm' and 'proxy-wasm.<label>' are reserved/);
  });

  test('plugins of one module share its VM; the last config gone releases it', () => {
    const { runtime, binding } = withChain([], [entry('add-header', 'add_header'), entry('add-header', 'add_header',
                                                                                       { configuration: 'second' })]);
    assert.equal(hostOf(binding).vmCount, 1);
    assert.equal(runtime.loadConfig(2, JSON.stringify({ bundle: '/fake/bundle.js', chain: [entry('add-header', 'add_header', { vmId: 'own' })] }), 0),
                 undefined);
    assert.equal(hostOf(binding).vmCount, 2);
    runtime.unloadConfig(1);
    runtime.unloadConfig(2);
    assert.equal(hostOf(binding).vmCount, 0);
    assert.equal(hostOf(binding).modules.size, 0);
  });
});
