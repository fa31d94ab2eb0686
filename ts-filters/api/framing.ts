// Framing: finding message boundaries in a byte stream, for network (L4) filters.
//
// A network filter sees the connection as a stream of reads that split and merge messages at
// random. The pieces here answer one question — "how long is the frame at the head of these
// bytes?" — over Envoy's buffer slices without copying them, and build the two usual patterns on
// it:
//
//   - hold the incomplete tail in Envoy: `takeFrames(data, framing)` copies and drains the complete
//     frames at the head of the read buffer and leaves the rest there; return StopIteration, and
//     the next onData sees the tail followed by the new bytes;
//   - own the bytes: `new FrameDecoder(framing)`, `push(data.bytes())`, `data.drain(data.length)`,
//     then take complete frames with `next()` as they become available.
//
// Either way, frames the filter lets through go on with `ctx.injectRead(frame)`.

import type { ConnectionBuffer } from './network-filter';

/** Why a stream of bytes cannot be framed. */
export type FrameErrorReason =
  /** A frame is (or would be) longer than the framing's `maxFrameSize`. */
  | 'too-large'
  /** The bytes are not a valid frame (e.g. a length smaller than the header it includes). */
  | 'invalid';

/**
 * The bytes at the head of a stream cannot be framed. The stream cannot be resynchronised: a
 * filter usually closes the connection.
 */
export class FrameError extends Error {
  override readonly name = 'FrameError';
  /** Stable, machine-readable code. */
  readonly code = 'ETS_ERR_FRAME';
  /** What is wrong with the frame. */
  readonly reason: FrameErrorReason;
  constructor(reason: FrameErrorReason, message: string, options?: ErrorOptions) {
    super(message, options);
    this.reason = reason;
  }
}

/**
 * A read-only view of bytes held in several chunks (e.g. a `ConnectionBuffer`'s `chunks()`), read
 * without copying them. Offsets are positions in the concatenation of the chunks. The chunks must
 * not change while the view is used (a ConnectionBuffer's chunks are valid until the buffer is
 * changed or the hook returns).
 */
export class ChunkedBytes {
  readonly #chunks: readonly Uint8Array[];
  /** starts[i]: offset of chunks[i]; starts[chunks.length]: the total length. */
  readonly #starts: number[];
  /** Index of the chunk the last lookup found (reads are mostly sequential). */
  #hint = 0;

  constructor(chunks: readonly Uint8Array[]) {
    const nonEmpty = chunks.filter((chunk) => chunk.length > 0);
    this.#chunks = nonEmpty;
    this.#starts = [0];
    let total = 0;
    for (const chunk of nonEmpty) {
      total += chunk.length;
      this.#starts.push(total);
    }
  }

  /** Total number of bytes. */
  get length(): number {
    return this.#starts[this.#chunks.length] ?? 0;
  }

  /** The byte at `offset`, or -1 when `offset` is outside [0, length). */
  at(offset: number): number {
    const i = this.#chunkIndex(offset);
    if (i < 0) return -1;
    return (this.#chunks[i] as Uint8Array)[offset - (this.#starts[i] as number)] as number;
  }

  /**
   * The offset of the first occurrence of `needle` (a byte or a byte sequence) that starts at or
   * after `from` and ends at or before `to` (default: the end), or -1.
   */
  indexOf(needle: number | Uint8Array, from = 0, to = this.length): number {
    const pattern = typeof needle === 'number' ? Uint8Array.of(needle) : needle;
    const end = Math.min(to, this.length);
    if (pattern.length === 0) return from <= end ? from : -1;
    let start = Math.max(from, 0);
    const first = pattern[0] as number;
    while (start + pattern.length <= end) {
      const i = this.#chunkIndex(start);
      const chunk = this.#chunks[i] as Uint8Array;
      const base = this.#starts[i] as number;
      // Look for the first byte inside this chunk (native speed), then check the rest across chunks.
      const stop = Math.min(chunk.length, end - base);
      const found = chunk.subarray(0, stop).indexOf(first, start - base);
      if (found < 0) {
        start = base + stop;
        continue;
      }
      const at = base + found;
      if (at + pattern.length > end) return -1;
      if (this.#matches(pattern, at)) return at;
      start = at + 1;
    }
    return -1;
  }

  /**
   * The unsigned integer of `size` bytes at `offset` (`order`: byte order, default big endian), or
   * undefined when the bytes are not all there yet.
   */
  readUint(offset: number, size: 1 | 2 | 4, order: 'big' | 'little' = 'big'): number | undefined {
    if (offset < 0 || offset + size > this.length) return undefined;
    let value = 0;
    for (let k = 0; k < size; k++) {
      const byte = this.at(order === 'big' ? offset + k : offset + size - 1 - k);
      value = value * 256 + byte;  // not `<<`: a 4-byte value must stay unsigned
    }
    return value;
  }

  /** A copy of the bytes in [start, end) (default: to the end). */
  copy(start = 0, end = this.length): Uint8Array {
    const from = Math.max(0, Math.min(start, this.length));
    const to = Math.max(from, Math.min(end, this.length));
    const out = new Uint8Array(to - from);
    for (let i = 0; i < this.#chunks.length; i++) {
      const base = this.#starts[i] as number;
      const chunk = this.#chunks[i] as Uint8Array;
      const lo = Math.max(from - base, 0);
      const hi = Math.min(to - base, chunk.length);
      if (lo < hi) out.set(chunk.subarray(lo, hi), base + lo - from);
    }
    return out;
  }

  #matches(pattern: Uint8Array, at: number): boolean {
    for (let k = 1; k < pattern.length; k++) {
      if (this.at(at + k) !== pattern[k]) return false;
    }
    return true;
  }

  #chunkIndex(offset: number): number {
    if (!Number.isInteger(offset) || offset < 0 || offset >= this.length) return -1;
    const starts = this.#starts;
    let i = this.#hint;
    if (offset < (starts[i] as number) || offset >= (starts[i + 1] as number)) {
      // Binary search for the last start <= offset.
      let lo = 0;
      let hi = this.#chunks.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if ((starts[mid] as number) <= offset) lo = mid;
        else hi = mid - 1;
      }
      i = lo;
      this.#hint = i;
    }
    return i;
  }
}

/**
 * How to find frame boundaries in a byte stream. `lengthPrefixed()` and `delimited()` make one;
 * implement it yourself for other protocols (e.g. Redis' RESP) and use it with `takeFrames`,
 * `frameLengths` and `FrameDecoder`.
 */
export interface Framing {
  /** Largest frame accepted, in bytes (header and delimiter included). */
  readonly maxFrameSize: number;
  /**
   * The total length of the frame starting at `start` in `bytes`, as soon as it can be known: it
   * may be more than the bytes available (wait until that many are there). `undefined` while it
   * cannot be known yet (e.g. the length field or the delimiter has not arrived). Throws a
   * `FrameError` when the frame is invalid or longer than `maxFrameSize`.
   */
  frameLength(bytes: ChunkedBytes, start: number): number | undefined;
}

/** Options of `lengthPrefixed()`. */
export interface LengthPrefixedOptions {
  /** Size of the length field in bytes (default 4). It is the first thing in each frame. */
  readonly lengthFieldSize?: 1 | 2 | 4;
  /** Byte order of the length field (default 'big', network order). */
  readonly byteOrder?: 'big' | 'little';
  /**
   * Whether the length counts the length field itself (default false: it counts only what
   * follows the field).
   */
  readonly lengthIncludesHeader?: boolean;
  /** Largest frame accepted, length field included (default 1 MiB). */
  readonly maxFrameSize?: number;
}

/** A length-prefixed framing, as made by `lengthPrefixed()`. */
export interface LengthPrefixedFraming extends Framing {
  /** Size of the length field: a frame's payload starts at this offset. */
  readonly headerSize: 1 | 2 | 4;
  /** A frame carrying `payload` (strings as UTF-8). Throws a `FrameError` if it is too large. */
  encode(payload: Uint8Array | string): Uint8Array;
  /** The payload of a complete frame (a view, not a copy). */
  payload(frame: Uint8Array): Uint8Array;
}

/** Options of `delimited()`. */
export interface DelimitedOptions {
  /** What ends each frame, e.g. '\r\n' or '\0' (strings as UTF-8; non-empty). */
  readonly delimiter: Uint8Array | string;
  /** Largest frame accepted, delimiter included (default 64 KiB). */
  readonly maxFrameSize?: number;
}

/** A delimiter-based framing, as made by `delimited()`. Frames include their delimiter. */
export interface DelimitedFraming extends Framing {
  /** The delimiter's bytes. */
  readonly delimiter: Uint8Array;
  /** `body` followed by the delimiter. Throws a `FrameError` if it is too large. */
  encode(body: Uint8Array | string): Uint8Array;
  /** The body of a complete frame, without its delimiter (a view, not a copy). */
  payload(frame: Uint8Array): Uint8Array;
}

const textEncoder = new TextEncoder();

function toBytes(data: Uint8Array | string, what: string): Uint8Array {
  if (typeof data === 'string') return textEncoder.encode(data);
  if (data instanceof Uint8Array) return data;
  throw new TypeError(`${what}: expected a Uint8Array or a string`);
}

function checkMaxFrameSize(value: unknown, fallback: number, min: number, what: string): number {
  const max = value ?? fallback;
  if (typeof max !== 'number' || !Number.isSafeInteger(max) || max < min) {
    throw new RangeError(`${what}: maxFrameSize must be an integer >= ${min}, got ${String(value)}`);
  }
  return max;
}

/**
 * Frames made of a length field and what it counts, e.g. `lengthPrefixed({ lengthFieldSize: 4 })`
 * for a 4-byte big-endian length followed by that many bytes.
 */
export function lengthPrefixed(options: LengthPrefixedOptions = {}): LengthPrefixedFraming {
  const size = options.lengthFieldSize ?? 4;
  if (size !== 1 && size !== 2 && size !== 4) {
    throw new RangeError(`lengthPrefixed(): lengthFieldSize must be 1, 2 or 4, got ${String(size)}`);
  }
  const order = options.byteOrder ?? 'big';
  if (order !== 'big' && order !== 'little') {
    throw new RangeError(`lengthPrefixed(): byteOrder must be 'big' or 'little', got ${String(order)}`);
  }
  const includesHeader = options.lengthIncludesHeader ?? false;
  const maxFrameSize = checkMaxFrameSize(options.maxFrameSize, 1 << 20, size, 'lengthPrefixed()');
  const fieldMax = 2 ** (8 * size) - 1;

  return Object.freeze({
    maxFrameSize,
    headerSize: size,
    frameLength(bytes: ChunkedBytes, start: number): number | undefined {
      const value = bytes.readUint(start, size, order);
      if (value === undefined) return undefined;
      if (includesHeader && value < size) {
        throw new FrameError('invalid', `frame length ${value} is smaller than its ${size}-byte length field`);
      }
      const total = includesHeader ? value : size + value;
      if (total > maxFrameSize) {
        throw new FrameError('too-large', `frame of ${total} bytes exceeds maxFrameSize ${maxFrameSize}`);
      }
      return total;
    },
    encode(payload: Uint8Array | string): Uint8Array {
      const body = toBytes(payload, 'encode()');
      const total = size + body.length;
      const value = includesHeader ? total : body.length;
      if (total > maxFrameSize || value > fieldMax) {
        throw new FrameError('too-large', `frame of ${total} bytes exceeds maxFrameSize ${maxFrameSize}`);
      }
      const frame = new Uint8Array(total);
      let rest = value;
      for (let k = 0; k < size; k++) {
        frame[order === 'big' ? size - 1 - k : k] = rest % 256;
        rest = Math.floor(rest / 256);
      }
      frame.set(body, size);
      return frame;
    },
    payload(frame: Uint8Array): Uint8Array {
      return frame.subarray(size);
    },
  });
}

/** Frames ended by a delimiter, e.g. `delimited({ delimiter: '\r\n' })` for CRLF-terminated lines. */
export function delimited(options: DelimitedOptions): DelimitedFraming {
  const delimiter = toBytes(options.delimiter, 'delimited(): delimiter').slice();
  if (delimiter.length === 0) throw new RangeError('delimited(): delimiter must not be empty');
  const maxFrameSize = checkMaxFrameSize(options.maxFrameSize, 64 * 1024, delimiter.length, 'delimited()');

  return Object.freeze({
    maxFrameSize,
    delimiter,
    frameLength(bytes: ChunkedBytes, start: number): number | undefined {
      // Only the first maxFrameSize bytes can hold a valid frame's delimiter.
      const at = bytes.indexOf(delimiter, start, start + maxFrameSize);
      if (at >= 0) return at - start + delimiter.length;
      if (bytes.length - start >= maxFrameSize) {
        throw new FrameError('too-large', `no delimiter within maxFrameSize ${maxFrameSize} bytes`);
      }
      return undefined;
    },
    encode(body: Uint8Array | string): Uint8Array {
      const bytes = toBytes(body, 'encode()');
      const total = bytes.length + delimiter.length;
      if (total > maxFrameSize) {
        throw new FrameError('too-large', `frame of ${total} bytes exceeds maxFrameSize ${maxFrameSize}`);
      }
      const frame = new Uint8Array(total);
      frame.set(bytes);
      frame.set(delimiter, bytes.length);
      return frame;
    },
    payload(frame: Uint8Array): Uint8Array {
      return frame.subarray(0, Math.max(0, frame.length - delimiter.length));
    },
  });
}

/**
 * The lengths of the complete frames at the head of `bytes`, in order, without copying anything
 * (at most `limit` of them). Their sum is where the rest (an incomplete or invalid frame, if any)
 * starts. Stops before an invalid frame that follows valid ones; throws a `FrameError` only when
 * the first frame is invalid, so a caller handles the good frames first and meets the error on
 * its next call.
 */
export function frameLengths(bytes: ChunkedBytes | readonly Uint8Array[], framing: Framing,
                             limit = Infinity): number[] {
  const view = bytes instanceof ChunkedBytes ? bytes : new ChunkedBytes(bytes);
  const lengths: number[] = [];
  let offset = 0;
  while (lengths.length < limit && offset < view.length) {
    let length: number | undefined;
    try {
      length = framing.frameLength(view, offset);
    } catch (error) {
      if (lengths.length > 0 && error instanceof FrameError) break;  // reported by the next call
      throw error;
    }
    if (length === undefined || offset + length > view.length) break;
    if (!Number.isInteger(length) || length <= 0) {
      throw new TypeError(`Framing.frameLength() returned ${String(length)}: expected a positive integer`);
    }
    lengths.push(length);
    offset += length;
  }
  return lengths;
}

/** What `takeFrames` needs of a buffer (a `ConnectionBuffer` has it). */
export type DrainableBuffer = Pick<ConnectionBuffer, 'chunks' | 'bytes' | 'drain'>;

/**
 * Remove the complete frames at the head of `buffer` (at most `limit`) and return copies of them,
 * in order; an incomplete frame stays in the buffer. The frames are copied once and drained at
 * once. In `onData`, hand on the frames you allow with `ctx.injectRead()` and return
 * `NetworkStatus.StopIteration`: the next `onData` sees the held tail followed by the new bytes.
 *
 * Throws a `FrameError` (leaving the buffer untouched) when the head of the buffer cannot be
 * framed. Valid frames before an invalid one are returned first, and the next call throws; so
 * call it until it returns no frame:
 *
 * ```ts
 * for (let frames = takeFrames(data, framing); frames.length > 0; frames = takeFrames(data, framing)) {
 *   for (const frame of frames) ctx.injectRead(frame);
 * }
 * return NetworkStatus.StopIteration;
 * ```
 */
export function takeFrames(buffer: DrainableBuffer, framing: Framing, limit = Infinity): Uint8Array[] {
  const lengths = frameLengths(buffer.chunks(), framing, limit);
  if (lengths.length === 0) return [];
  let total = 0;
  for (const length of lengths) total += length;
  const copy = buffer.bytes(0, total);
  buffer.drain(total);
  const frames: Uint8Array[] = [];
  let offset = 0;
  for (const length of lengths) {
    frames.push(copy.subarray(offset, offset + length));
    offset += length;
  }
  return frames;
}

/** Above this many held chunks, FrameDecoder joins them (bounds the cost of each scan). */
const MAX_HELD_CHUNKS = 16;

/**
 * A decoder that owns the bytes it is given: push what arrives, take frames as they complete.
 * Use it when the filter drains the read buffer itself (`push(data.bytes())`,
 * `data.drain(data.length)`) or for bytes that do not come from Envoy's buffer. A frame whose
 * length is known is not rescanned until enough bytes arrived. `push` keeps a reference to the
 * array it is given: do not modify it afterwards.
 */
export class FrameDecoder {
  /** The framing this decoder applies. */
  readonly framing: Framing;
  #chunks: Uint8Array[] = [];
  #buffered = 0;
  /** No frame can complete before this many bytes are held (0: unknown). */
  #needed = 0;
  #failed: FrameError | undefined = undefined;

  constructor(framing: Framing) {
    this.framing = framing;
  }

  /** Bytes held: the incomplete frame at the head, and any complete frames not taken yet. */
  get buffered(): number {
    return this.#buffered;
  }

  /** Add bytes at the end of the stream. */
  push(bytes: Uint8Array): void {
    if (!(bytes instanceof Uint8Array)) throw new TypeError('push(): expected a Uint8Array');
    if (bytes.length === 0) return;
    this.#chunks.push(bytes);
    this.#buffered += bytes.length;
    if (this.#chunks.length > MAX_HELD_CHUNKS) this.#chunks = [concat(this.#chunks, this.#buffered)];
  }

  /**
   * Remove and return the next complete frame, or undefined until one is complete. Throws a
   * `FrameError` when the stream cannot be framed (and again on every later call).
   */
  next(): Uint8Array | undefined {
    if (this.#failed !== undefined) throw this.#failed;
    if (this.#buffered === 0 || this.#buffered < this.#needed) return undefined;
    let length: number | undefined;
    try {
      length = this.framing.frameLength(new ChunkedBytes(this.#chunks), 0);
    } catch (error) {
      if (error instanceof FrameError) this.#failed = error;
      throw error;
    }
    if (length === undefined || length > this.#buffered) {
      this.#needed = length ?? 0;
      return undefined;
    }
    if (!Number.isInteger(length) || length <= 0) {
      throw new TypeError(`Framing.frameLength() returned ${String(length)}: expected a positive integer`);
    }
    this.#needed = 0;
    return this.#take(length);
  }

  /**
   * Remove and return every complete frame held. When the stream cannot be framed, the frames
   * before the bad one are returned, and the next call throws the `FrameError`.
   */
  frames(): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (;;) {
      let frame: Uint8Array | undefined;
      try {
        frame = this.next();
      } catch (error) {
        if (out.length > 0 && error instanceof FrameError) return out;
        throw error;
      }
      if (frame === undefined) return out;
      out.push(frame);
    }
  }

  /**
   * Remove and return every byte held, framed or not (e.g. to pass the rest of the stream on
   * unparsed once a decision is made), and reset the decoder.
   */
  takeAll(): Uint8Array {
    const all = this.#chunks.length === 1 ? this.#chunks[0] as Uint8Array : concat(this.#chunks, this.#buffered);
    this.#chunks = [];
    this.#buffered = 0;
    this.#needed = 0;
    this.#failed = undefined;
    return all;
  }

  #take(length: number): Uint8Array {
    const first = this.#chunks[0] as Uint8Array;
    let frame: Uint8Array;
    if (first.length >= length) {
      // Within the first chunk: a view, no copy.
      frame = first.subarray(0, length);
      if (first.length === length) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(length);
    } else {
      frame = new ChunkedBytes(this.#chunks).copy(0, length);
      let left = length;
      while (left > 0) {
        const chunk = this.#chunks[0] as Uint8Array;
        if (chunk.length <= left) {
          this.#chunks.shift();
          left -= chunk.length;
        } else {
          this.#chunks[0] = chunk.subarray(left);
          left = 0;
        }
      }
    }
    this.#buffered -= length;
    return frame;
  }
}

function concat(chunks: readonly Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}
