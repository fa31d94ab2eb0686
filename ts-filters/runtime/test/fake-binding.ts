// An in-memory NativeBinding: a test double of our own native layer (native/bridge), with the
// same rules: streams addressed by (slot, gen), ETS_ERR_STREAM_CLOSED once gone, sendLocalReply
// only while the stream's onHook/onResume is on the stack.

import { setImmediate as nextMacrotask } from 'node:timers/promises';

import { createDispatcher, type DispatcherOptions, type Runtime } from '../dispatcher';
import type { Dispatcher, HeaderMapKind, HookKind, HookOutcome, NativeBinding,
  NativeLogLevel } from '../native';

export interface FakeStream {
  readonly slot: number;
  readonly gen: number;
  readonly configId: number;
  /** Header maps by HeaderMapKind, as [lowercase name, value] lists. */
  readonly maps: [string, string][][];
  alive: boolean;
  localReply: { status: number; headers: string[]; body: string; details: string } | undefined;
}

export interface BindingCall {
  readonly method: string;
  readonly slot: number;
  readonly gen: number;
}

function codedError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

export class FakeBinding implements NativeBinding {
  readonly isMainThread: boolean;
  dispatcher: Dispatcher | undefined;
  /** Stream-addressed binding calls, in order. */
  readonly calls: BindingCall[] = [];
  readonly logs: { level: NativeLogLevel; message: string }[] = [];
  /** Lowest enabled level. */
  logLevel: NativeLogLevel = 0;
  readonly resumeRequests: { slot: number; gen: number }[] = [];
  readonly #streams = new Map<number, FakeStream>();
  #nextSlot = 0;
  #nextGen = 1;
  #activeSlot: number | undefined;

  constructor(isMainThread = false) {
    this.isMainThread = isMainThread;
  }

  // ---- driving it, like native/bridge does ----

  openStream(configId: number, requestHeaders: Record<string, string> | [string, string][] = {}): FakeStream {
    const list = Array.isArray(requestHeaders) ? requestHeaders : Object.entries(requestHeaders);
    const stream: FakeStream = {
      slot: this.#nextSlot++,
      gen: this.#nextGen++,
      configId,
      maps: [list.map(([n, v]) => [n.toLowerCase(), v]), [], [], []],
      alive: true,
      localReply: undefined,
    };
    this.#streams.set(stream.slot, stream);
    return stream;
  }

  /** Set the response headers (as the upstream or a local reply would). */
  setResponse(stream: FakeStream, headers: Record<string, string>): void {
    stream.maps[2] = Object.entries(headers).map(([n, v]) => [n.toLowerCase(), v]);
  }

  hook(stream: FakeStream, hook: HookKind, endOfStream = true): HookOutcome {
    return this.#enter(stream, () => this.#dispatcher().onHook(stream.configId, stream.slot, stream.gen, hook,
                                                               endOfStream));
  }

  resume(stream: FakeStream): HookOutcome {
    return this.#enter(stream, () => this.#dispatcher().onResume(stream.slot, stream.gen));
  }

  destroy(stream: FakeStream): void {
    stream.alive = false;
    this.#streams.delete(stream.slot);
    this.#dispatcher().onDestroy(stream.slot, stream.gen);
  }

  /** Wait until the runtime asked to resume `stream` (timers and microtasks run meanwhile). */
  async untilResumeRequested(stream: FakeStream, timeoutMs = 2000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.resumeRequests.findIndex((r) => r.slot === stream.slot && r.gen === stream.gen);
      if (index >= 0) {
        this.resumeRequests.splice(index, 1);
        return;
      }
      if (Date.now() > deadline) throw new Error(`no requestResume for stream ${stream.slot}`);
      await nextMacrotask();
    }
  }

  /** Header values of a map, as [name, value] pairs. */
  headers(stream: FakeStream, map: HeaderMapKind): [string, string][] {
    return stream.maps[map] ?? [];
  }

  header(stream: FakeStream, map: HeaderMapKind, name: string): string | undefined {
    return stream.maps[map]?.find(([n]) => n === name)?.[1];
  }

  /** The local reply sent for a stream (a call, so TypeScript does not narrow it across awaits). */
  replyOf(stream: FakeStream): FakeStream['localReply'] {
    return stream.localReply;
  }

  callsFor(stream: FakeStream): string[] {
    return this.calls.filter((c) => c.slot === stream.slot && c.gen === stream.gen).map((c) => c.method);
  }

  errorLogs(): string[] {
    return this.logs.filter((l) => l.level >= 4).map((l) => l.message);
  }

  #dispatcher(): Dispatcher {
    if (this.dispatcher === undefined) throw new Error('setDispatcher was not called');
    return this.dispatcher;
  }

  #enter(stream: FakeStream, call: () => HookOutcome): HookOutcome {
    const previous = this.#activeSlot;
    this.#activeSlot = stream.slot;
    try {
      return call();
    } finally {
      this.#activeSlot = previous;
    }
  }

  #stream(method: string, slot: number, gen: number): FakeStream {
    this.calls.push({ method, slot, gen });
    const stream = this.#streams.get(slot);
    if (stream === undefined || stream.gen !== gen || !stream.alive) {
      throw codedError('ETS_ERR_STREAM_CLOSED', `stream ${slot}/${gen} is closed`);
    }
    return stream;
  }

  #map(method: string, slot: number, gen: number, map: HeaderMapKind): [string, string][] {
    const list = this.#stream(method, slot, gen).maps[map];
    if (list === undefined) throw new Error(`bad map ${map}`);
    return list;
  }

  // ---- NativeBinding ----

  setDispatcher(dispatcher: Dispatcher): void {
    this.dispatcher = dispatcher;
  }

  getHeader(slot: number, gen: number, map: HeaderMapKind, name: string): string | undefined {
    return this.#map('getHeader', slot, gen, map).find(([n]) => n === name)?.[1];
  }

  getHeaderValues(slot: number, gen: number, map: HeaderMapKind, name: string): string[] {
    return this.#map('getHeaderValues', slot, gen, map).filter(([n]) => n === name).map(([, v]) => v);
  }

  getHeaders(slot: number, gen: number, map: HeaderMapKind): string[] {
    return this.#map('getHeaders', slot, gen, map).flat();
  }

  setHeader(slot: number, gen: number, map: HeaderMapKind, name: string, value: string): void {
    const list = this.#map('setHeader', slot, gen, map);
    const kept = list.filter(([n]) => n !== name);
    list.length = 0;
    list.push(...kept, [name, value]);
  }

  addHeader(slot: number, gen: number, map: HeaderMapKind, name: string, value: string): void {
    this.#map('addHeader', slot, gen, map).push([name, value]);
  }

  removeHeader(slot: number, gen: number, map: HeaderMapKind, name: string): void {
    const list = this.#map('removeHeader', slot, gen, map);
    const kept = list.filter(([n]) => n !== name);
    list.length = 0;
    list.push(...kept);
  }

  sendLocalReply(slot: number, gen: number, status: number, headers: string[], body: string,
                 details: string): void {
    const stream = this.#stream('sendLocalReply', slot, gen);
    if (this.#activeSlot !== slot) {
      throw codedError('ETS_ERR_NOT_IN_HOOK', 'sendLocalReply outside the stream\'s hook');
    }
    if (stream.localReply !== undefined) throw new Error('second local reply');
    stream.localReply = { status, headers: [...headers], body, details };
    // What Envoy then encodes: the reply's headers become the response headers.
    const response: [string, string][] = [[':status', String(status)]];
    for (let i = 0; i + 1 < headers.length; i += 2) response.push([headers[i] as string, headers[i + 1] as string]);
    stream.maps[2] = response;
  }

  requestResume(slot: number, gen: number): void {
    this.#stream('requestResume', slot, gen);
    this.resumeRequests.push({ slot, gen });
  }

  log(level: NativeLogLevel, message: string): void {
    this.logs.push({ level, message });
    if (process.env['ETS_TEST_LOG'] !== undefined) process.stderr.write(`[${level}] ${message}\n`);
  }

  logEnabled(level: NativeLogLevel): boolean {
    return level >= this.logLevel;
  }
}

/** A fake binding with a dispatcher registered on it. */
export function setup(options: DispatcherOptions = {}, isMainThread = false): { binding: FakeBinding; runtime: Runtime } {
  const binding = new FakeBinding(isMainThread);
  const runtime = createDispatcher(binding, options);
  binding.setDispatcher(runtime);
  return { binding, runtime };
}

/**
 * A fake binding whose bundle loader serves `exports` for the path '/fake/bundle.js', with config 1
 * loaded from `chain` (throws if the config is rejected).
 */
export function withChain(moduleExports: unknown, chain: unknown[],
                          failurePolicy: 'closed' | 'open' = 'closed'): { binding: FakeBinding; runtime: Runtime } {
  const context = setup({ loadBundle: () => moduleExports });
  const error = context.runtime.loadConfig(1, JSON.stringify({ bundle: '/fake/bundle.js', chain, failurePolicy }));
  if (error !== undefined) throw new Error(`config rejected: ${error}`);
  return context;
}
