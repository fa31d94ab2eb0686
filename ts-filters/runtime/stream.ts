// Per-stream state, keyed by (slot, gen). Created by the stream's first onHook; dropped when it
// completes or is destroyed, or (when nothing waited for its end) once its slot is used again.

import { InvalidStateError, StreamClosedError } from '../api/errors';
import { BodyFlow, HttpBodyView, type BodyChunkView, type WholeBodyTarget } from './body';
import { BufferKind, HeaderMapKind, HookKind, directionOf, isBodyHook } from './codes';
import type { ChainLink, HttpConfig, LoadedHttpFilter } from './config';
import { FilterContext } from './context';
import { flushHookStats, hookDone, pendingChanged, statsClock, type StatsTarget } from './hook-stats';
import { abandonFetches, type FetchTarget, type PendingFetch } from './fetch';
import { HeaderMapView, type HeaderTarget } from './header-map';
import type { FilterOverride } from './route-config';
import type { BufferKind as NativeBufferKind, HookKind as NativeHookKind, NativeBinding } from './native';
import { MapPrototypeGet, clearTimeout } from './primordials';

/** A hook that returned a promise; the chain resumes after `position` once it settled. */
export interface PendingHook {
  readonly hook: NativeHookKind;
  readonly link: ChainLink;
  /** Index of `link` in the hook's chain. */
  readonly position: number;
  /** The stats clock when the hook was called, and when its promise settled. */
  readonly startedAt: number;
  settledAt: number | undefined;
  settled: boolean;
  failed: boolean;
  error: unknown;
  /** Fails the hook when its promise is pending longer than its filter's asyncTimeoutMs. */
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** A local reply requested with ctx.respond() and not sent yet. */
export interface LocalReply {
  readonly status: number;
  /** Flat [name, value, ...] list, validated and lowercased. */
  readonly headers: string[];
  readonly body: string | Uint8Array;
  readonly details: string;
}

// The abort reason of every closed stream's signal: one frozen error, not a new one (and its
// captured stack) per stream.
const STREAM_CLOSED = Object.freeze(new StreamClosedError());

export class StreamState implements HeaderTarget, FetchTarget, WholeBodyTarget, StatsTarget {
  readonly binding: NativeBinding;
  readonly config: HttpConfig;
  readonly slot: number;
  readonly gen: number;
  /** onDestroy ran: nothing may reach the binding for this stream any more. */
  closed = false;
  /** A filter failed: later hooks do not run. */
  poisoned = false;
  /** An onHook or onResume of this stream is on the stack. */
  inHook = false;
  /** The latest hook kind entered; ResponseHeaders once the response phase started. */
  phase: NativeHookKind = HookKind.RequestHeaders;
  endOfStream = false;
  /** A local reply was sent for this stream. */
  replied = false;
  reply: LocalReply | undefined = undefined;
  /** Set with startPending, cleared with endPending (or when the stream closes). */
  pending: PendingHook | undefined = undefined;
  #fetches: Map<number, PendingFetch> | undefined = undefined;
  #fetchStreams: Map<number, PendingFetch> | undefined = undefined;
  readonly requestHeaders: HeaderMapView;
  #responseHeaders: HeaderMapView | undefined = undefined;
  #trailers: (HeaderMapView | undefined)[] | undefined = undefined;
  #abort: AbortController | undefined = undefined;
  #closeCallbacks: (() => void)[] | undefined = undefined;
  // The native side was asked to report the stream's end (wantStreamEnd).
  #endWanted = false;
  readonly #contexts: (FilterContext | undefined)[] = [];
  /** Per direction (BufferKind), made when a body shows up or is read. */
  #requestFlow: BodyFlow | undefined = undefined;
  #responseFlow: BodyFlow | undefined = undefined;
  #bodies: HttpBodyView[] | undefined = undefined;
  // Its headers ended the stream (a message without body), per direction.
  #requestHeadersEnded = false;
  #responseHeadersEnded = false;

  /** What the stream's route changes in the chain (per-route config), if anything. */
  readonly overrides: ReadonlyMap<string, FilterOverride> | undefined;

  constructor(binding: NativeBinding, config: HttpConfig, slot: number, gen: number,
              overrides?: ReadonlyMap<string, FilterOverride>) {
    this.binding = binding;
    this.config = config;
    this.slot = slot;
    this.gen = gen;
    this.overrides = overrides;
    this.requestHeaders = new HeaderMapView(binding, this, HeaderMapKind.RequestHeaders);
  }

  responseHeaderMap(): HeaderMapView {
    this.#responseHeaders ??= new HeaderMapView(this.binding, this, HeaderMapKind.ResponseHeaders);
    return this.#responseHeaders;
  }

  /** What a hook of `hook` gets: the body chunk, or the headers or trailers of its direction. */
  argumentFor(hook: NativeHookKind): HeaderMapView | BodyChunkView {
    if (isBodyHook(hook)) {
      const chunk = this.existingFlow(directionOf(hook))?.chunk;
      if (chunk === undefined) throw new Error(`no body chunk for hook ${hook}`);
      return chunk;
    }
    return this.headerMapFor(hook);
  }

  /** The map a hook of `hook` gets: headers or trailers of its direction. */
  headerMapFor(hook: NativeHookKind): HeaderMapView {
    switch (hook) {
      case HookKind.RequestHeaders:
        return this.requestHeaders;
      case HookKind.ResponseHeaders:
        return this.responseHeaderMap();
      default: {
        const kind = hook === HookKind.RequestTrailers ? HeaderMapKind.RequestTrailers : HeaderMapKind.ResponseTrailers;
        const trailers = (this.#trailers ??= []);
        let map = trailers[kind];
        if (map === undefined) {
          map = new HeaderMapView(this.binding, this, kind);
          trailers[kind] = map;
        }
        return map;
      }
    }
  }

  /** A hook's promise is now what the stream waits for. */
  startPending(pending: PendingHook): void {
    this.pending = pending;
    pendingChanged(this, pending.link.filter, 1);
  }

  /** The stream stops waiting for its pending hook (it settled, or something took over). */
  endPending(): void {
    const pending = this.pending;
    if (pending === undefined) return;
    this.pending = undefined;
    if (pending.timer !== undefined) clearTimeout(pending.timer);
    pendingChanged(this, pending.link.filter, -1);
    hookDone(this.contextFor(pending.link.filter), pending.startedAt,
             pending.settledAt ?? statsClock(this.binding)());
  }

  /** The stream's hook stats since the last flush go to the stats buffer (how many triples). */
  flushStats(): number {
    return flushHookStats(this.binding, this.#contexts, this.config.filters.length);
  }

  /** The headers of `direction` ended the stream (no body follows). */
  markHeadersEnded(direction: NativeBufferKind): void {
    if (direction === BufferKind.Read) this.#requestHeadersEnded = true;
    else this.#responseHeadersEnded = true;
  }

  /** The body state of a direction (made on first use). */
  flowOf(direction: NativeBufferKind): BodyFlow {
    let flow = this.existingFlow(direction);
    if (flow === undefined) {
      flow = new BodyFlow(direction);
      if (direction === BufferKind.Read) {
        flow.bodyEnded = this.#requestHeadersEnded;
        this.#requestFlow = flow;
      } else {
        flow.bodyEnded = this.#responseHeadersEnded;
        this.#responseFlow = flow;
      }
    }
    return flow;
  }

  /** The body state of a direction, if it has one yet. */
  existingFlow(direction: NativeBufferKind): BodyFlow | undefined {
    return direction === BufferKind.Read ? this.#requestFlow : this.#responseFlow;
  }

  bodyReadable(direction: NativeBufferKind): boolean {
    return direction === BufferKind.Read || this.inResponse;
  }

  /** ctx.requestBody / ctx.responseBody (shared by the stream's filters). */
  bodyView(direction: NativeBufferKind): HttpBodyView {
    this.#bodies ??= [new HttpBodyView(this, BufferKind.Read), new HttpBodyView(this, BufferKind.Write)];
    return this.#bodies[direction] as HttpBodyView;
  }

  /** A hook of the other direction took over (e.g. a local reply while the request was held). */
  supersedePending(): void {
    const pending = this.pending;
    if (pending === undefined) return;
    const flow = this.existingFlow(directionOf(pending.hook));
    if (flow === undefined) return;
    flow.retireChunk();
    if (flow.readingWhole) {
      flow.failWholeRead(new InvalidStateError(
        'the response started before the body was complete (e.g. Envoy answered 413: over the buffer limit)'));
    }
  }

  /** ctx.fetch() calls waiting for Envoy, by callout id (made on the first fetch). */
  pendingFetches(): Map<number, PendingFetch> {
    if (this.#fetches === undefined) {
      this.#fetches = new Map();
      this.#wantEnd();
    }
    return this.#fetches;
  }

  /** Streaming ctx.fetch() calls, by stream id (made on the first one). */
  fetchStreams(): Map<number, PendingFetch> {
    if (this.#fetchStreams === undefined) {
      this.#fetchStreams = new Map();
      this.#wantEnd();
    }
    return this.#fetchStreams;
  }

  // Something waits for the stream's end (its signal, fetches, close callbacks): the native side
  // reports it even when the chain has no onStreamComplete. A stream already gone there closes now.
  #wantEnd(): void {
    if (this.#endWanted || this.closed) return;
    this.#endWanted = true;
    try {
      this.binding.wantStreamEnd(this.slot, this.gen);
    } catch {
      this.close();
    }
  }

  /** Whether the stream's route disabled `filter`. */
  disabled(filter: LoadedHttpFilter): boolean {
    return this.overrides !== undefined && MapPrototypeGet(this.overrides, filter.name)?.disabled === true;
  }

  /** The filter's config for this stream: the route's override, else the chain's. */
  configOf(filter: LoadedHttpFilter): unknown {
    const override = this.overrides === undefined ? undefined : MapPrototypeGet(this.overrides, filter.name)?.config;
    return override === undefined ? filter.config : override.value;
  }

  /** Whether the response phase (headers or trailers) has started. */
  get inResponse(): boolean {
    return this.phase === HookKind.ResponseHeaders || this.phase === HookKind.ResponseBody ||
      this.phase === HookKind.ResponseTrailers;
  }

  /** The context of one filter for this stream (created on first use). */
  contextFor(filter: LoadedHttpFilter): FilterContext {
    let ctx = this.#contexts[filter.index];
    if (ctx === undefined) {
      ctx = new FilterContext(this, filter);
      this.#contexts[filter.index] = ctx;
    }
    return ctx;
  }

  /** Aborted when the stream closes. Created on first use: most streams never ask for it. */
  get signal(): AbortSignal {
    if (this.#abort === undefined) {
      this.#abort = new AbortController();
      if (this.closed) this.#abort.abort(STREAM_CLOSED);
      else this.#wantEnd();
    }
    return this.#abort.signal;
  }

  /** Run `callback` when the stream closes (after its complete hooks, or when it is destroyed
   *  without them): cheaper than a listener on `signal` for the runtime's own bookkeeping. */
  whenClosed(callback: () => void): void {
    (this.#closeCallbacks ??= []).push(callback);
    this.#wantEnd();
  }

  /** Abort the stream's signal (its work is no longer wanted) with `reason`. */
  abortSignal(reason: unknown): void {
    this.#abort ??= new AbortController();
    this.#abort.abort(reason);
  }

  /** The stream is gone: drop pending work and abort the signal. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.pending?.timer !== undefined) clearTimeout(this.pending.timer);
    this.pending = undefined;
    this.reply = undefined;
    if (this.#fetches !== undefined) abandonFetches(this.#fetches);
    if (this.#fetchStreams !== undefined) abandonFetches(this.#fetchStreams);
    this.#requestFlow?.retireChunk();
    this.#requestFlow?.failWholeRead(STREAM_CLOSED);
    this.#responseFlow?.retireChunk();
    this.#responseFlow?.failWholeRead(STREAM_CLOSED);
    this.#abort?.abort(STREAM_CLOSED);
    const callbacks = this.#closeCallbacks;
    this.#closeCallbacks = undefined;
    if (callbacks !== undefined) for (let i = 0; i < callbacks.length; i++) (callbacks[i] as () => void)();
  }
}
