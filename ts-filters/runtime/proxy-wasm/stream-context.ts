// A proxy-wasm stream context: one HTTP stream of one plugin, in its VM. It maps the module's
// answers onto envoy-ts's filter surface: a pause is a pending promise that proxy_continue_stream
// (or a local reply) settles; a body the module buffers (StopIterationAndBuffer) is held here and
// put back in front of the next chunk, so the module sees the whole body so far each time; the
// trailers a trailers hook got, and the body chunk a body hook got, are what the host calls reach.
//
// A headers callback that pauses (StopIteration) before the body, with no HTTP call of its own
// under way, waits for the body as under Envoy, where the body callbacks run while the headers are
// held: the body is read whole and shown to the module's body callback once, at its end.

import type { BodyChunk, HeaderMap, HttpFilterContext } from '../../api/types';
import { concatViews } from '../bytes';
import { kWhenStreamClosed, type FilterContext } from '../context';
import { DataAction, HeadersAction, MapType, StreamType } from './abi';
import { WholeBody } from './whole-body';
import type { Plugin } from './plugin';
import { failureText, type ContextRecord, type WasmVm } from './vm';

/** 0: request, 1: response (as proxy_stream_type_t's HTTP values). */
export type Direction = 0 | 1;

interface Pause {
  readonly direction: Direction;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

const EMPTY: readonly Uint8Array[] = [];

export class StreamContext {
  readonly plugin: Plugin;
  readonly vm: WasmVm;
  readonly ctx: HttpFilterContext<unknown>;
  readonly record: ContextRecord;
  /** The trailers of each direction, while its trailers hook runs (or is paused). */
  readonly trailers: [HeaderMap | undefined, HeaderMap | undefined] = [undefined, undefined];
  /** The body chunk of each direction, while its body hook runs (or is paused). */
  readonly bodies: [BodyChunk | undefined, BodyChunk | undefined] = [undefined, undefined];
  /** A local reply was asked for (proxy_send_local_response). */
  replied = false;
  // Body bytes the module buffered, per direction, not yet passed on.
  readonly #held: [readonly Uint8Array[], readonly Uint8Array[]] = [EMPTY, EMPTY];
  #pause: Pause | undefined = undefined;
  // proxy_continue_stream came during the callback now running, per direction.
  readonly #continued: [boolean, boolean] = [false, false];
  #ended = false;
  // HTTP calls of this stream under way.
  #calls = 0;
  // The module saw the direction's whole body while its headers were paused: its body hook passes.
  readonly #bodyShown: [boolean, boolean] = [false, false];

  constructor(plugin: Plugin, vm: WasmVm, ctx: HttpFilterContext<unknown>) {
    this.plugin = plugin;
    this.vm = vm;
    this.ctx = ctx;
    this.record = { id: vm.nextContextId(), plugin, stream: this };
    vm.contexts.set(this.record.id, this.record);
    plugin.streamStarted();
    try {
      vm.call(this.record, 'proxy_on_context_create', this.record.id, plugin.root.id);
    } catch (error) {
      this.#forget();
      throw error;
    }
    // The stream may end without its complete hook (a failure, a reset): its context goes then.
    (ctx as FilterContext)[kWhenStreamClosed](() => this.#abandon());
  }

  /** A headers or trailers callback answered `action` (`bodyFollows`: a headers callback whose
   *  message has a body): go on, or wait for proxy_continue_stream (and maybe the body). */
  afterHeaders(direction: Direction, action: number, bodyFollows = false): Promise<void> | undefined {
    if (this.#settled(direction) || action === HeadersAction.Continue || action === HeadersAction.ContinueAndEndStream) {
      return undefined;
    }
    const waiting = this.#waitForContinue(direction);
    if (bodyFollows && action === HeadersAction.StopIteration && this.#calls === 0) this.#readBody(direction);
    return waiting;
  }

  /** An HTTP call of this stream started / was answered. */
  callStarted(): void {
    this.#calls++;
  }

  callAnswered(): void {
    this.#calls--;
  }

  /** Whether the module already saw the direction's whole body (its body hook then passes). */
  bodyShown(direction: Direction): boolean {
    return this.#bodyShown[direction];
  }

  #readBody(direction: Direction): void {
    const body = direction === 0 ? this.ctx.requestBody : this.ctx.responseBody;
    body.bytes().then((bytes) => this.#showBody(direction, new WholeBody(body, bytes)),
                      // Continued (or closed) before the body was complete: nothing to show.
                      () => undefined);
  }

  // The whole body, to the body callback of a module still paused in its headers callback.
  #showBody(direction: Direction, body: WholeBody): void {
    if (this.#pause?.direction !== direction || this.#ended) return;
    this.#bodyShown[direction] = true;
    this.bodies[direction] = body;
    this.beginCallback(direction);
    try {
      const callback = direction === 0 ? 'proxy_on_request_body' : 'proxy_on_response_body';
      const action = this.vm.call(this.record, callback, this.record.id, body.length, 1);
      if (this.#settled(direction) || action === DataAction.Continue) this.continueStream(direction);
    } catch (error) {
      // The paused hook rejects with it: the failure policy logs and applies it.
      this.fail(error);
    }
  }

  /** Before a body callback: what the module buffered goes back in front of the new chunk. */
  beforeBody(direction: Direction, chunk: BodyChunk): void {
    this.bodies[direction] = chunk;
    const held = this.#held[direction];
    if (held.length === 0) return;
    this.#held[direction] = EMPTY;
    chunk.prepend(concatViews(held));
  }

  /** A body callback answered `action` for `chunk`: pass it on, hold it, drop it, or wait. */
  afterBody(direction: Direction, action: number, chunk: BodyChunk): Promise<void> | undefined {
    if (this.#settled(direction) || action === DataAction.Continue) {
      this.bodies[direction] = undefined;
      return undefined;
    }
    if (!chunk.endOfStream) {
      // StopIterationAndBuffer / AndWatermark keep the bytes for the next call; NoBuffer drops them.
      if (action !== DataAction.StopIterationNoBuffer) this.#held[direction] = [chunk.bytes()];
      chunk.drain(chunk.length);
      this.bodies[direction] = undefined;
      return undefined;
    }
    if (action === DataAction.StopIterationNoBuffer) chunk.drain(chunk.length);
    return this.#waitForContinue(direction);
  }

  /** Bytes the module holds of `direction` (trailers cannot follow them: envoy-ts has no way to put
   *  them back once the body hook is over). */
  heldBytes(direction: Direction): number {
    return this.#held[direction].reduce((n, view) => n + view.length, 0);
  }

  /** Before a callback: no continue came yet. */
  beginCallback(direction: Direction): void {
    this.#continued[direction] = false;
  }

  // The callback settled the direction itself: a continue or a local reply.
  #settled(direction: Direction): boolean {
    return this.replied || this.#continued[direction];
  }

  #waitForContinue(direction: Direction): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#pause = { direction, resolve, reject };
    });
  }

  /** proxy_continue_stream: false for a stream type that cannot be continued here. */
  continueStream(type: number): boolean {
    if (type !== StreamType.HttpRequest && type !== StreamType.HttpResponse) return false;
    const direction = type as Direction;
    this.#continued[direction] = true;
    const pause = this.#pause;
    if (pause !== undefined && pause.direction === direction) {
      this.#pause = undefined;
      this.bodies[direction] = undefined;
      this.trailers[direction] = undefined;
      pause.resolve();
    }
    return true;
  }

  /** A local reply was requested: a paused direction is over (the runtime sends the reply). */
  localReplySent(): void {
    this.replied = true;
    const pause = this.#pause;
    this.#pause = undefined;
    pause?.resolve();
  }

  /** A callback for this stream failed outside its hook (an HTTP call's answer): the paused hook
   *  fails with it, and the failure policy applies (and logs it). False when nothing was paused. */
  fail(error: unknown): boolean {
    const pause = this.#pause;
    this.#pause = undefined;
    pause?.reject(error);
    return pause !== undefined;
  }

  /** The header map `type` names for this stream, or undefined when there is none now. */
  headerMap(type: number): HeaderMap | undefined {
    switch (type) {
      case MapType.RequestHeaders:
        return this.ctx.requestHeaders;
      case MapType.RequestTrailers:
        return this.trailers[0];
      case MapType.ResponseHeaders:
        try {
          return this.ctx.responseHeaders;
        } catch {
          return undefined;  // not in the response phase yet
        }
      case MapType.ResponseTrailers:
        return this.trailers[1];
      default:
        return undefined;
    }
  }

  /** The stream context was deleted (its stream ended). */
  get ended(): boolean {
    return this.#ended;
  }

  /** The stream is complete: proxy_on_done, proxy_on_log, proxy_on_delete. */
  complete(): void {
    this.#end(true);
  }

  // The stream went away without completing (or after a failure): no access log.
  #abandon(): void {
    this.#end(false);
  }

  #end(log: boolean): void {
    if (this.#ended) return;
    this.#ended = true;
    const { vm, record } = this;
    try {
      if (!vm.failed) {
        vm.call(record, 'proxy_on_done', record.id);
        if (log) vm.call(record, 'proxy_on_log', record.id);
        vm.call(record, 'proxy_on_delete', record.id);
      }
    } catch (error) {
      this.plugin.log.error(`stream context ${record.id}: ending it failed: ${failureText(error)}`);
    } finally {
      this.#forget();
    }
  }

  #forget(): void {
    this.#ended = true;
    this.vm.contexts.delete(this.record.id);
    this.plugin.streamEnded();
  }
}
