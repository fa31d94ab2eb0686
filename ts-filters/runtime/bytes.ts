// Byte helpers shared by connection buffers and HTTP body views.

import type { BytesLike } from '../api/network-filter';
import { ArrayPrototypePush, MathMax, MathMin, TypedArrayPrototypeSet, TypedArrayPrototypeSubarray } from './primordials';

/** Bytes to hand to native: strings are sent as UTF-8. */
export function toBytes(data: BytesLike, what: string): Uint8Array {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (data instanceof Uint8Array) return data;
  throw new TypeError(`${what}: expected a Uint8Array or a string`);
}

/** Total length of a list of views. */
export function totalLength(views: readonly Uint8Array[]): number {
  let total = 0;
  for (let i = 0; i < views.length; i++) total += (views[i] as Uint8Array).length;
  return total;
}

/** The views covering bytes [from, to) of the concatenation of `views`, without copying. */
export function sliceViews(views: readonly Uint8Array[], from: number, to: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let offset = 0;
  for (let i = 0; i < views.length; i++) {
    const view = views[i] as Uint8Array;
    const lo = MathMax(from - offset, 0);
    const hi = MathMin(to - offset, view.length);
    if (lo < hi) ArrayPrototypePush(out, lo === 0 && hi === view.length ? view : TypedArrayPrototypeSubarray(view, lo, hi));
    offset += view.length;
    if (offset >= to) break;
  }
  return out;
}

/** One copy of the concatenation of `views`. */
export function concatViews(views: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(totalLength(views));
  let offset = 0;
  for (let i = 0; i < views.length; i++) {
    const view = views[i] as Uint8Array;
    TypedArrayPrototypeSet(out, view, offset);
    offset += view.length;
  }
  return out;
}

/** `bytes(start, end)` argument: an integer index, negative counting from the end, clamped. */
export function clampIndex(index: number, total: number): number {
  if (!Number.isInteger(index)) throw new RangeError(`bytes(): index must be an integer, got ${String(index)}`);
  return index < 0 ? Math.max(total + index, 0) : Math.min(index, total);
}

/** A copy of bytes [start, end) of the concatenation of `views` (bytes() of a buffer view). */
export function copyRange(views: readonly Uint8Array[], start = 0, end?: number): Uint8Array {
  const total = totalLength(views);
  const from = clampIndex(start, total);
  const to = end === undefined ? total : clampIndex(end, total);
  return concatViews(sliceViews(views, from, Math.max(from, to)));
}

/** A copy decoded as text. */
export function decodeText(bytes: Uint8Array, encoding: 'utf8' | 'latin1' = 'utf8'): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString(encoding);
}
