// ConnectionBuffer views over the binding: the bytes stay in Envoy; chunks() are zero-copy views
// the native side detaches before control returns to Envoy. Edits go straight to Envoy.

import { InvalidStateError, StreamClosedError } from '../api/errors';
import type { BytesLike, ConnectionBuffer } from '../api/network-filter';
import { copyRange, decodeText, toBytes } from './bytes';
import { BufferKind } from './codes';
import type { BufferKind as NativeBufferKind, NativeBinding } from './native';

/** What a buffer view needs from its connection. */
export interface BufferTarget {
  readonly slot: number;
  readonly gen: number;
  readonly closed: boolean;
  /** An onWrite hook of this connection is running (the write buffer only exists then). */
  readonly inWriteHook: boolean;
}

/** One direction of a connection. One instance per connection and buffer kind. */
export class ConnectionBufferView implements ConnectionBuffer {
  readonly #binding: NativeBinding;
  readonly #target: BufferTarget;
  readonly #kind: NativeBufferKind;

  constructor(binding: NativeBinding, target: BufferTarget, kind: NativeBufferKind) {
    this.#binding = binding;
    this.#target = target;
    this.#kind = kind;
  }

  get length(): number {
    const target = this.#usable();
    return this.#binding.bufferLength(target.slot, target.gen, this.#kind);
  }

  chunks(): Uint8Array[] {
    const target = this.#usable();
    return this.#binding.bufferChunks(target.slot, target.gen, this.#kind);
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
    this.#binding.drainBuffer(target.slot, target.gen, this.#kind, length);
  }

  prepend(data: BytesLike): void {
    const bytes = toBytes(data, 'prepend()');
    const target = this.#usable();
    this.#binding.prependBuffer(target.slot, target.gen, this.#kind, bytes);
  }

  append(data: BytesLike): void {
    const bytes = toBytes(data, 'append()');
    const target = this.#usable();
    this.#binding.appendBuffer(target.slot, target.gen, this.#kind, bytes);
  }

  replace(data: BytesLike): void {
    const bytes = toBytes(data, 'replace()');
    const target = this.#usable();
    this.#binding.drainBuffer(target.slot, target.gen, this.#kind, this.length);
    this.#binding.appendBuffer(target.slot, target.gen, this.#kind, bytes);
  }

  #usable(): BufferTarget {
    const target = this.#target;
    if (target.closed) throw new StreamClosedError('the connection is closed');
    if (this.#kind === BufferKind.Write && !target.inWriteHook) {
      throw new InvalidStateError('the write buffer only exists while onWrite runs');
    }
    return target;
  }
}
