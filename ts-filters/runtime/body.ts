// HTTP bodies: where each direction of a stream is (what the body hooks have seen, what arrived
// while a hook was pending), the chunk a body hook gets, and whole-body reads (ctx.requestBody).
//
// The bytes always stay in Envoy. What a filter "holds" of a direction is what Envoy hands on when
// it continues: the buffered body while iteration is stopped at this filter, plus the received
// chunk during a body hook (the native side joins them; see native.d.ts, bufferChunks).

import { InvalidStateError, StreamClosedError } from '../api/errors';
import type { BytesLike } from '../api/network-filter';
import type { BodyChunk, HttpBody } from '../api/types';
import { concatViews, copyRange, decodeText, sliceViews, toBytes } from './bytes';
import { BufferKind, HeaderMapKind, WholeBodyState } from './codes';
import type { BufferKind as NativeBufferKind, NativeBinding } from './native';

/** What body views need from their stream. */
export interface BodyTarget {
  readonly binding: NativeBinding;
  readonly slot: number;
  readonly gen: number;
  readonly closed: boolean;
}

interface WholeRead {
  readonly promise: Promise<Uint8Array>;
  readonly resolve: (bytes: Uint8Array) => void;
  readonly reject: (error: Error) => void;
}

/** One direction of a stream, as far as its body goes. */
export class BodyFlow {
  readonly direction: NativeBufferKind;
  /** A body hook of this direction was called. */
  sawBody = false;
  /** The body ended (end of stream on its headers or a body chunk). */
  bodyEnded = false;
  /** Trailers arrived (the message is complete). */
  trailersArrived = false;
  /** Body data arrived while a hook of this direction was pending: the body hooks owe it a look. */
  dataHeld = false;
  /** Trailers arrived while a hook of this direction was pending: their hooks run afterwards. */
  trailersHeld = false;
  /** The body hooks were shown the end of the body. */
  endDelivered = false;
  /** Bytes at the front of what the filter holds that every body hook has seen. */
  processed = 0;
  /** The chunk the body hooks are working on (kept across an await in one of them). */
  chunk: BodyChunkView | undefined = undefined;
  /** Envoy has the headers of this direction (the filter continued at least once). */
  headersPassed = false;
  /** Body bytes went on: the whole body can no longer be read or replaced. */
  bodyFlowed = false;
  /** The whole body was read and is still held: replace() may change it. */
  wholeHeld = false;
  #wholeRead: WholeRead | undefined = undefined;

  constructor(direction: NativeBufferKind) {
    this.direction = direction;
  }

  /** The message of this direction is complete. */
  get ended(): boolean {
    return this.bodyEnded || this.trailersArrived;
  }

  /** The filter continued this direction: what it held went on. */
  passOn(): void {
    this.headersPassed = true;
    if (this.sawBody) this.bodyFlowed = true;
    this.processed = 0;
    this.dataHeld = false;
    this.wholeHeld = false;
    this.retireChunk();
    if (this.#wholeRead !== undefined) {
      this.failWholeRead(new InvalidStateError(
        'the body was passed on before it was complete: await the body read in the hook that started it'));
    }
  }

  /** A whole-body read waits for the end of the body. */
  get readingWhole(): boolean {
    return this.#wholeRead !== undefined;
  }

  retireChunk(): void {
    this.chunk?.retire();
    this.chunk = undefined;
  }

  /** Start (or join) a whole-body read. */
  readWhole(target: BodyTarget): Promise<Uint8Array> {
    if (this.bodyFlowed) {
      return Promise.reject(new InvalidStateError(
        'the body already started flowing on: read the whole body from the headers hook'));
    }
    if (this.#wholeRead !== undefined) return this.#wholeRead.promise;
    if (this.ended) {
      this.wholeHeld = true;
      return Promise.resolve(copyHeld(target, this.direction));
    }
    switch (target.binding.bufferWholeBody(target.slot, target.gen, this.direction)) {
      case WholeBodyState.OverLimit:
        return Promise.reject(new InvalidStateError(
          'the body exceeded the buffer limit before it was read (per_connection_buffer_limit_bytes)'));
      case WholeBodyState.Flowed:
        this.bodyFlowed = true;
        return Promise.reject(new InvalidStateError(
          'the body already started flowing on: read the whole body from the headers hook'));
      default:
        break;
    }
    let resolve!: (bytes: Uint8Array) => void;
    let reject!: (error: Error) => void;
    const promise = new Promise<Uint8Array>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    this.#wholeRead = { promise, resolve, reject };
    return promise;
  }

  /** The message is complete: a waiting whole-body read gets its copy. */
  completeWholeRead(target: BodyTarget): void {
    const read = this.#wholeRead;
    if (read === undefined || !this.ended) return;
    this.#wholeRead = undefined;
    this.wholeHeld = true;
    read.resolve(copyHeld(target, this.direction));
  }

  failWholeRead(error: Error): void {
    const read = this.#wholeRead;
    if (read === undefined) return;
    this.#wholeRead = undefined;
    read.reject(error);
  }
}

function copyHeld(target: BodyTarget, direction: NativeBufferKind): Uint8Array {
  return concatViews(target.binding.bufferChunks(target.slot, target.gen, direction));
}

/**
 * The bytes [start, end) of what the filter holds of a direction: usually all of it; only the
 * bytes that arrived after an earlier chunk when a body hook awaited. Edits of a chunk that is not
 * all of the held bytes are made by rewriting the held bytes (a copy; Envoy bodies can only be
 * drained at the front and appended to).
 */
export class BodyChunkView implements BodyChunk {
  readonly #target: BodyTarget;
  readonly #direction: NativeBufferKind;
  readonly #start: number;
  #end: number;
  readonly endOfStream: boolean;
  #live = true;

  constructor(target: BodyTarget, direction: NativeBufferKind, start: number, end: number, endOfStream: boolean) {
    this.#target = target;
    this.#direction = direction;
    this.#start = start;
    this.#end = end;
    this.endOfStream = endOfStream;
  }

  /** Where the chunk ends in the held bytes (after edits). */
  get end(): number {
    return this.#end;
  }

  get length(): number {
    this.#usable();
    return this.#end - this.#start;
  }

  chunks(): Uint8Array[] {
    const target = this.#usable();
    return sliceViews(target.binding.bufferChunks(target.slot, target.gen, this.#direction), this.#start, this.#end);
  }

  bytes(start = 0, end?: number): Uint8Array {
    return copyRange(this.chunks(), start, end);
  }

  text(encoding: 'utf8' | 'latin1' = 'utf8'): string {
    return decodeText(this.bytes(), encoding);
  }

  drain(length: number): void {
    if (!Number.isInteger(length) || length < 0) {
      throw new RangeError(`drain(): length must be a non-negative integer, got ${String(length)}`);
    }
    const target = this.#usable();
    const count = Math.min(length, this.#end - this.#start);
    if (count === 0) return;
    if (this.#start === 0) {
      target.binding.drainBuffer(target.slot, target.gen, this.#direction, count);
      this.#end -= count;
    } else {
      this.#rewrite(this.bytes(count));
    }
  }

  prepend(data: BytesLike): void {
    const bytes = toBytes(data, 'prepend()');
    const target = this.#usable();
    if (this.#start === 0) {
      target.binding.prependBuffer(target.slot, target.gen, this.#direction, bytes);
      this.#end += bytes.length;
    } else {
      this.#rewrite(concatViews([bytes, this.bytes()]));
    }
  }

  append(data: BytesLike): void {
    const bytes = toBytes(data, 'append()');
    const target = this.#usable();
    if (this.#end === target.binding.bufferLength(target.slot, target.gen, this.#direction)) {
      target.binding.appendBuffer(target.slot, target.gen, this.#direction, bytes);
      this.#end += bytes.length;
    } else {
      this.#rewrite(concatViews([this.bytes(), bytes]));
    }
  }

  replace(data: BytesLike): void {
    const bytes = toBytes(data, 'replace()');
    const target = this.#usable();
    const held = target.binding.bufferLength(target.slot, target.gen, this.#direction);
    if (this.#start === 0 && this.#end === held) {
      target.binding.drainBuffer(target.slot, target.gen, this.#direction, held);
      target.binding.appendBuffer(target.slot, target.gen, this.#direction, bytes);
      this.#end = bytes.length;
    } else {
      this.#rewrite(bytes);
    }
  }

  /** The hooks that got this chunk are done with it. */
  retire(): void {
    this.#live = false;
  }

  // The held bytes become [0, start) + middle + [end, held).
  #rewrite(middle: Uint8Array): void {
    const target = this.#target;
    const { binding, slot, gen } = target;
    const all = concatViews(binding.bufferChunks(slot, gen, this.#direction));
    const next = concatViews([all.subarray(0, this.#start), middle, all.subarray(this.#end)]);
    binding.drainBuffer(slot, gen, this.#direction, all.length);
    binding.appendBuffer(slot, gen, this.#direction, next);
    this.#end = this.#start + middle.length;
  }

  #usable(): BodyTarget {
    const target = this.#target;
    if (target.closed) throw new StreamClosedError('the stream is closed');
    if (!this.#live) throw new InvalidStateError('a body chunk is only usable during the hook it was given to');
    return target;
  }
}

/** What ctx.requestBody / ctx.responseBody need from their stream. */
export interface WholeBodyTarget extends BodyTarget {
  /** This direction's body state (made on first use). */
  flowOf(direction: NativeBufferKind): BodyFlow;
  /** Whether the message of `direction` can be read now (the response only in its phase). */
  bodyReadable(direction: NativeBufferKind): boolean;
}

/** ctx.requestBody / ctx.responseBody. */
export class HttpBodyView implements HttpBody {
  readonly #target: WholeBodyTarget;
  readonly #direction: NativeBufferKind;

  constructor(target: WholeBodyTarget, direction: NativeBufferKind) {
    this.#target = target;
    this.#direction = direction;
  }

  bytes(): Promise<Uint8Array> {
    const target = this.#target;
    if (target.closed) return Promise.reject(new StreamClosedError('the stream is closed'));
    if (!target.bodyReadable(this.#direction)) {
      return Promise.reject(new InvalidStateError('responseBody is only available in the response phase'));
    }
    return target.flowOf(this.#direction).readWhole(target);
  }

  async text(): Promise<string> {
    return decodeText(await this.bytes());
  }

  async json<T = unknown>(): Promise<T> {
    return JSON.parse(await this.text()) as T;
  }

  replace(data: BytesLike): void {
    const bytes = toBytes(data, 'replace()');
    const target = this.#target;
    if (target.closed) throw new StreamClosedError('the stream is closed');
    const flow = target.flowOf(this.#direction);
    if (!flow.wholeHeld) {
      throw new InvalidStateError('replace(): the whole body must have been read (await bytes()) and still be held');
    }
    const { binding, slot, gen } = target;
    const lengthMap = this.#direction === BufferKind.Read ? HeaderMapKind.RequestHeaders : HeaderMapKind.ResponseHeaders;
    const hasLength = binding.getHeader(slot, gen, lengthMap, 'content-length') !== undefined;
    if (hasLength && flow.headersPassed) {
      throw new InvalidStateError(
        'replace(): the headers (with content-length) were already passed on; read the body from the headers hook');
    }
    const held = binding.bufferLength(slot, gen, this.#direction);
    binding.drainBuffer(slot, gen, this.#direction, held);
    binding.appendBuffer(slot, gen, this.#direction, bytes);
    if (hasLength) binding.setHeader(slot, gen, lengthMap, 'content-length', String(bytes.length));
  }

  replaceJson(value: unknown): void {
    const text = JSON.stringify(value);
    if (text === undefined) throw new TypeError('replaceJson(): the value has no JSON form');
    this.replace(text);
  }
}
