// The body of a direction read whole (ctx.requestBody / ctx.responseBody), shown to a module as its
// body buffer: a module that paused in its headers callback waits for the body there, as under
// Envoy, where the body callbacks run while the headers are held. Edits replace the whole body
// (HttpBody.replace, which also fixes content-length).

import type { BytesLike } from '../../api/network-filter';
import type { BodyChunk, HttpBody } from '../../api/types';
import { concatViews, copyRange, decodeText, toBytes } from '../bytes';

export class WholeBody implements BodyChunk {
  readonly endOfStream = true;
  readonly #body: HttpBody;
  #bytes: Uint8Array;

  constructor(body: HttpBody, bytes: Uint8Array) {
    this.#body = body;
    this.#bytes = bytes;
  }

  get length(): number {
    return this.#bytes.length;
  }

  chunks(): Uint8Array[] {
    return [this.#bytes];
  }

  bytes(start?: number, end?: number): Uint8Array {
    return copyRange([this.#bytes], start, end);
  }

  text(encoding?: 'utf8' | 'latin1'): string {
    return decodeText(this.#bytes, encoding);
  }

  drain(length: number): void {
    this.#set(this.#bytes.subarray(Math.min(Math.max(0, length), this.#bytes.length)));
  }

  prepend(data: BytesLike): void {
    this.#set(concatViews([toBytes(data, 'prepend()'), this.#bytes]));
  }

  append(data: BytesLike): void {
    this.#set(concatViews([this.#bytes, toBytes(data, 'append()')]));
  }

  replace(data: BytesLike): void {
    this.#set(toBytes(data, 'replace()'));
  }

  #set(next: Uint8Array): void {
    this.#body.replace(next);
    this.#bytes = next.slice();
  }
}
