import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  ChunkedBytes,
  FrameDecoder,
  FrameError,
  delimited,
  frameLengths,
  lengthPrefixed,
  takeFrames,
  type Framing,
} from '../framing';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => Buffer.from(b).toString('latin1');
const cat = (...parts: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts));

/** Every way to cut `bytes` into pieces at the given cut points. */
function splitAt(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let last = 0;
  for (const cut of [...cuts, bytes.length]) {
    out.push(bytes.subarray(last, cut));
    last = cut;
  }
  return out;
}

/** A fake ConnectionBuffer over a list of slices, like Envoy's. */
class SliceBuffer {
  slices: Uint8Array[];
  constructor(slices: Uint8Array[]) {
    this.slices = slices.filter((s) => s.length > 0).map((s) => s.slice());
  }
  get length(): number {
    return this.slices.reduce((n, s) => n + s.length, 0);
  }
  chunks(): Uint8Array[] {
    return [...this.slices];
  }
  bytes(start = 0, end = this.length): Uint8Array {
    return cat(...this.slices).slice(start, end);
  }
  drain(n: number): void {
    const rest = cat(...this.slices).slice(n);
    this.slices = rest.length > 0 ? [rest] : [];
  }
  append(b: Uint8Array): void {
    this.slices.push(b.slice());
  }
}

/** Feed `pieces` to a FrameDecoder one by one; the frames that came out, as text. */
function decodeAll(framing: Framing, pieces: Uint8Array[]): string[] {
  const decoder = new FrameDecoder(framing);
  const out: string[] = [];
  for (const piece of pieces) {
    decoder.push(piece);
    for (const frame of decoder.frames()) out.push(dec(frame));
  }
  return out;
}

/** Same through takeFrames over a buffer that accumulates (Envoy's StopIteration semantics). */
function takeAll(framing: Framing, pieces: Uint8Array[]): { frames: string[]; tail: number } {
  const buffer = new SliceBuffer([]);
  const frames: string[] = [];
  for (const piece of pieces) {
    buffer.append(piece);
    for (const frame of takeFrames(buffer, framing)) frames.push(dec(frame));
  }
  return { frames, tail: buffer.length };
}

describe('ChunkedBytes', () => {
  const view = new ChunkedBytes([enc('ab'), new Uint8Array(0), enc('c'), enc('\r'), enc('\ndef\r\n')]);

  test('length, at, copy across chunks', () => {
    assert.equal(view.length, 10);
    assert.equal(String.fromCharCode(view.at(0), view.at(2), view.at(6)), 'ace');
    assert.equal(view.at(10), -1);
    assert.equal(view.at(-1), -1);
    assert.equal(view.at(1.5), -1);
    assert.equal(dec(view.copy(1, 7)), 'bc\r\nde');
    assert.equal(dec(view.copy()), 'abc\r\ndef\r\n');
    assert.equal(dec(view.copy(8, 100)), '\r\n');
    assert.equal(view.copy(5, 2).length, 0);
  });

  test('indexOf finds bytes and sequences spanning chunks, within bounds', () => {
    assert.equal(view.indexOf(enc('\r\n')), 3);
    assert.equal(view.indexOf(enc('\r\n'), 4), 8);
    assert.equal(view.indexOf(enc('\r\n'), 0, 4), -1);
    assert.equal(view.indexOf(enc('\r\n'), 0, 5), 3);
    assert.equal(view.indexOf(0x64), 5);
    assert.equal(view.indexOf(enc('c\r\nd')), 2);
    assert.equal(view.indexOf(enc('xyz')), -1);
    assert.equal(view.indexOf(enc('\r\n'), 9), -1);
    assert.equal(new ChunkedBytes([]).indexOf(enc('a')), -1);
    // A partial match right before a real one.
    assert.equal(new ChunkedBytes([enc('a\r'), enc('\r'), enc('\n')]).indexOf(enc('\r\n')), 2);
  });

  test('readUint reads both byte orders across chunks, unsigned', () => {
    const v = new ChunkedBytes([Uint8Array.of(0xff), Uint8Array.of(0x00, 0x01), Uint8Array.of(0x02)]);
    assert.equal(v.readUint(0, 4, 'big'), 0xff000102);
    assert.equal(v.readUint(0, 4, 'little'), 0x020100ff);
    assert.equal(v.readUint(1, 2), 0x0001);
    assert.equal(v.readUint(0, 1), 0xff);
    assert.equal(v.readUint(1, 4), undefined);
    assert.equal(v.readUint(-1, 1), undefined);
  });
});

describe('lengthPrefixed', () => {
  test('validates its options', () => {
    assert.throws(() => lengthPrefixed({ lengthFieldSize: 3 as 4 }), /lengthFieldSize must be 1, 2 or 4/);
    assert.throws(() => lengthPrefixed({ byteOrder: 'middle' as 'big' }), /byteOrder/);
    assert.throws(() => lengthPrefixed({ maxFrameSize: 0 }), /maxFrameSize must be an integer >= 4/);
    assert.throws(() => lengthPrefixed({ maxFrameSize: 1.5 }), RangeError);
    assert.equal(lengthPrefixed().maxFrameSize, 1 << 20);
    assert.equal(lengthPrefixed().headerSize, 4);
  });

  test('encode writes the length in the configured size and order', () => {
    assert.deepEqual([...lengthPrefixed().encode('hi')], [0, 0, 0, 2, 0x68, 0x69]);
    assert.deepEqual([...lengthPrefixed({ lengthFieldSize: 2, byteOrder: 'little' }).encode('hi')],
                     [2, 0, 0x68, 0x69]);
    assert.deepEqual([...lengthPrefixed({ lengthFieldSize: 1, lengthIncludesHeader: true }).encode('hi')],
                     [3, 0x68, 0x69]);
    assert.deepEqual([...lengthPrefixed({ lengthFieldSize: 4, byteOrder: 'little', lengthIncludesHeader: true })
      .encode(new Uint8Array(0x100))].slice(0, 4), [0x04, 0x01, 0, 0]);
    const f = lengthPrefixed({ lengthFieldSize: 1 });
    assert.equal(f.encode(new Uint8Array(255)).length, 256);
    assert.throws(() => f.encode(new Uint8Array(256)), (e: unknown) => e instanceof FrameError && e.reason === 'too-large');
    assert.throws(() => lengthPrefixed({ maxFrameSize: 8 }).encode('12345'), FrameError);
    assert.equal(dec(f.payload(f.encode('abc'))), 'abc');
  });

  for (const options of [
    { lengthFieldSize: 1 as const },
    { lengthFieldSize: 2 as const },
    { lengthFieldSize: 2 as const, byteOrder: 'little' as const },
    { lengthFieldSize: 4 as const },
    { lengthFieldSize: 4 as const, byteOrder: 'little' as const, lengthIncludesHeader: true },
    { lengthFieldSize: 1 as const, lengthIncludesHeader: true },
  ]) {
    const framing = lengthPrefixed(options);
    const messages = ['one', '', 'three33', 'x'.repeat(200)];
    const stream = cat(...messages.map((m) => framing.encode(m)));
    const expected = messages.map((m) => dec(framing.encode(m)));

    test(`${JSON.stringify(options)}: every byte-by-byte split, one read, and every single cut`, () => {
      const bytewise = [...stream].map((b) => Uint8Array.of(b));
      assert.deepEqual(decodeAll(framing, bytewise), expected);
      assert.deepEqual(takeAll(framing, bytewise), { frames: expected, tail: 0 });
      assert.deepEqual(decodeAll(framing, [stream]), expected);
      assert.deepEqual(takeAll(framing, [stream]), { frames: expected, tail: 0 });
      // Every cut position, including inside a length field.
      for (let cut = 0; cut <= stream.length; cut++) {
        assert.deepEqual(decodeAll(framing, splitAt(stream, [cut])), expected, `cut ${cut}`);
        assert.deepEqual(takeAll(framing, splitAt(stream, [cut])).frames, expected, `cut ${cut}`);
      }
    });

    test(`${JSON.stringify(options)}: frameLength is known once the length field is complete`, () => {
      const frame = framing.encode('hello');
      for (let have = 0; have < framing.headerSize; have++) {
        assert.equal(framing.frameLength(new ChunkedBytes([frame.subarray(0, have)]), 0), undefined);
      }
      // Split inside the length field: still read correctly.
      const split = splitAt(frame, [1]);
      assert.equal(framing.frameLength(new ChunkedBytes(split), 0), frame.length);
      assert.equal(framing.frameLength(new ChunkedBytes([frame.subarray(0, framing.headerSize)]), 0), frame.length);
    });
  }

  test('a frame over maxFrameSize is an error as soon as its length field is read', () => {
    const framing = lengthPrefixed({ lengthFieldSize: 2, maxFrameSize: 10 });
    assert.equal(framing.frameLength(new ChunkedBytes([Uint8Array.of(0, 8)]), 0), 10);
    assert.throws(() => framing.frameLength(new ChunkedBytes([Uint8Array.of(0, 9)]), 0),
                  (e: unknown) => e instanceof FrameError && e.reason === 'too-large' && e.code === 'ETS_ERR_FRAME');
    const decoder = new FrameDecoder(framing);
    decoder.push(Uint8Array.of(0, 2, 0x61, 0x62, 0xff));
    assert.equal(dec(decoder.next() ?? new Uint8Array()), '\x00\x02ab');
    decoder.push(Uint8Array.of(0xff));
    assert.throws(() => decoder.next(), /exceeds maxFrameSize 10/);
    assert.throws(() => decoder.next(), FrameError);  // sticky
    // takeFrames leaves the buffer untouched when the head is bad.
    const buffer = new SliceBuffer([Uint8Array.of(0xff, 0xff, 1)]);
    assert.throws(() => takeFrames(buffer, framing), FrameError);
    assert.equal(buffer.length, 3);
  });

  test('a length smaller than the header it includes is invalid', () => {
    const framing = lengthPrefixed({ lengthFieldSize: 2, lengthIncludesHeader: true });
    assert.throws(() => framing.frameLength(new ChunkedBytes([Uint8Array.of(0, 1)]), 0),
                  (e: unknown) => e instanceof FrameError && e.reason === 'invalid');
    assert.equal(framing.frameLength(new ChunkedBytes([Uint8Array.of(0, 2)]), 0), 2);
  });

  test('4-byte lengths above 2^31 stay unsigned (and are too large)', () => {
    const framing = lengthPrefixed({ maxFrameSize: 2 ** 40 });
    assert.equal(framing.frameLength(new ChunkedBytes([Uint8Array.of(0x80, 0, 0, 0)]), 0), 2 ** 31 + 4);
  });
});

describe('delimited', () => {
  const crlf = delimited({ delimiter: '\r\n', maxFrameSize: 16 });

  test('validates its options; encode/payload', () => {
    assert.throws(() => delimited({ delimiter: '' }), /must not be empty/);
    assert.throws(() => delimited({ delimiter: '\r\n', maxFrameSize: 1 }), /maxFrameSize must be an integer >= 2/);
    assert.equal(delimited({ delimiter: '\n' }).maxFrameSize, 64 * 1024);
    assert.equal(dec(crlf.encode('PING')), 'PING\r\n');
    assert.equal(dec(crlf.payload(crlf.encode('PING'))), 'PING');
    assert.equal(crlf.encode('x'.repeat(14)).length, 16);
    assert.throws(() => crlf.encode('x'.repeat(15)), FrameError);
  });

  test('byte-by-byte, one read, and every cut (including inside the delimiter)', () => {
    const stream = enc('PING\r\n\r\nSET a 1\r\nGET a\r\n');
    const expected = ['PING\r\n', '\r\n', 'SET a 1\r\n', 'GET a\r\n'];
    assert.deepEqual(decodeAll(crlf, [...stream].map((b) => Uint8Array.of(b))), expected);
    assert.deepEqual(takeAll(crlf, [...stream].map((b) => Uint8Array.of(b))), { frames: expected, tail: 0 });
    assert.deepEqual(decodeAll(crlf, [stream]), expected);
    for (let a = 0; a <= stream.length; a++) {
      for (let b = a; b <= stream.length; b += 3) {
        assert.deepEqual(decodeAll(crlf, splitAt(stream, [a, b])), expected, `cuts ${a},${b}`);
        assert.deepEqual(takeAll(crlf, splitAt(stream, [a, b])).frames, expected, `cuts ${a},${b}`);
      }
    }
  });

  test('a lone CR or LF is not a delimiter; the tail is held', () => {
    const { frames, tail } = takeAll(crlf, [enc('a\rb\nc\r'), enc('\r\nrest')]);
    assert.deepEqual(frames, ['a\rb\nc\r\r\n']);
    assert.equal(tail, 4);
  });

  test('maxFrameSize: exactly max is fine; one more, or no delimiter within max, is an error', () => {
    assert.deepEqual(decodeAll(crlf, [enc(`${'x'.repeat(14)}\r\n`)]), [`${'x'.repeat(14)}\r\n`]);
    assert.throws(() => decodeAll(crlf, [enc(`${'x'.repeat(15)}\r\n`)]),
                  (e: unknown) => e instanceof FrameError && e.reason === 'too-large');
    // No delimiter yet, but fewer than max bytes: wait.
    assert.deepEqual(decodeAll(crlf, [enc('x'.repeat(15))]), []);
    // max bytes and no delimiter ending within them: it can only be too large.
    assert.throws(() => decodeAll(crlf, [enc('x'.repeat(16))]), FrameError);
    assert.throws(() => decodeAll(crlf, [enc('x'.repeat(15)), enc('\r')]), FrameError);
    // Byte by byte, the error comes as soon as max bytes are held.
    const decoder = new FrameDecoder(crlf);
    for (let i = 0; i < 15; i++) {
      decoder.push(enc('y'));
      assert.equal(decoder.next(), undefined);
    }
    decoder.push(enc('y'));
    assert.throws(() => decoder.next(), FrameError);
  });

  test('multi-byte delimiters other than CRLF', () => {
    const framing = delimited({ delimiter: Uint8Array.of(0, 0, 0xff) });
    const stream = Uint8Array.of(1, 0, 0, 0, 0xff, 2, 0, 0xff, 0, 0, 0xff);
    assert.deepEqual(decodeAll(framing, [...stream].map((b) => Uint8Array.of(b))).map((s) => s.length), [5, 6]);
  });
});

describe('frameLengths / takeFrames / FrameDecoder', () => {
  const framing = lengthPrefixed({ lengthFieldSize: 1 });

  test('frameLengths lists the complete frames at the head and honours a limit', () => {
    const stream = cat(framing.encode('a'), framing.encode('bc'), Uint8Array.of(5, 1));
    assert.deepEqual(frameLengths([stream], framing), [2, 3]);
    assert.deepEqual(frameLengths(splitAt(stream, [1, 4]), framing), [2, 3]);
    assert.deepEqual(frameLengths([stream], framing, 1), [2]);
    assert.deepEqual(frameLengths([], framing), []);
  });

  test('many frames in one read: takeFrames copies once and drains once, leaving the tail', () => {
    const frames = Array.from({ length: 500 }, (_, i) => framing.encode(`m${i}`));
    const buffer = new SliceBuffer([cat(...frames, Uint8Array.of(9, 1, 2))]);
    let drains = 0;
    const drain = buffer.drain.bind(buffer);
    buffer.drain = (n: number) => { drains++; drain(n); };
    const taken = takeFrames(buffer, framing);
    assert.equal(taken.length, 500);
    assert.equal(dec(framing.payload(taken[499] as Uint8Array)), 'm499');
    assert.equal(drains, 1);
    assert.deepEqual([...buffer.bytes()], [9, 1, 2]);
    assert.deepEqual(takeFrames(buffer, framing), []);
    assert.equal(drains, 1);
    // limit
    const b2 = new SliceBuffer([cat(...frames.slice(0, 3))]);
    assert.equal(takeFrames(b2, framing, 2).length, 2);
    assert.equal(b2.length, frames[2]?.length);
  });

  test('FrameDecoder: buffered, frames(), takeAll(), views within one chunk', () => {
    const decoder = new FrameDecoder(framing);
    const chunk = cat(framing.encode('abc'), framing.encode('d'), Uint8Array.of(3, 0x78));
    decoder.push(chunk);
    assert.equal(decoder.buffered, chunk.length);
    const first = decoder.next();
    assert.equal(first?.buffer, chunk.buffer);  // a view, not a copy
    assert.deepEqual(decoder.frames().map(dec), ['\x01d']);
    assert.equal(decoder.next(), undefined);
    assert.equal(decoder.buffered, 2);
    decoder.push(enc('y'));
    assert.equal(decoder.next(), undefined);  // needs 4, has 3: not rescanned
    decoder.push(enc('zW'));
    assert.equal(dec(decoder.next() ?? new Uint8Array()), '\x03xyz');
    assert.equal(dec(decoder.takeAll()), 'W');
    assert.equal(decoder.buffered, 0);
    assert.equal(decoder.next(), undefined);
    decoder.push(new Uint8Array(0));
    assert.equal(decoder.buffered, 0);
    assert.throws(() => decoder.push('x' as unknown as Uint8Array), TypeError);
  });

  test('FrameDecoder joins many small chunks and still frames correctly', () => {
    const big = lengthPrefixed({ lengthFieldSize: 2 });
    const frame = big.encode('z'.repeat(1000));
    const decoder = new FrameDecoder(big);
    for (let i = 0; i < frame.length - 1; i++) {
      decoder.push(frame.subarray(i, i + 1));
      assert.equal(decoder.next(), undefined);
    }
    decoder.push(frame.subarray(frame.length - 1));
    assert.deepEqual(decoder.next(), frame);
  });

  test('valid frames before an invalid one come first; the next call throws', () => {
    const small = lengthPrefixed({ lengthFieldSize: 1, maxFrameSize: 4 });
    const stream = cat(small.encode('a'), small.encode('bc'), Uint8Array.of(200, 1, 2));
    assert.deepEqual(frameLengths([stream], small), [2, 3]);
    const buffer = new SliceBuffer([stream]);
    assert.deepEqual(takeFrames(buffer, small).map(dec), ['\x01a', '\x02bc']);
    assert.throws(() => takeFrames(buffer, small), FrameError);
    assert.equal(buffer.length, 3);
    const decoder = new FrameDecoder(small);
    decoder.push(stream);
    assert.equal(decoder.frames().length, 2);
    assert.throws(() => decoder.frames(), FrameError);
  });

  test('a custom Framing returning a bad length is a TypeError', () => {
    const bad: Framing = { maxFrameSize: 10, frameLength: () => 0 };
    assert.throws(() => frameLengths([enc('abc')], bad), /expected a positive integer/);
    const decoder = new FrameDecoder(bad);
    decoder.push(enc('abc'));
    assert.throws(() => decoder.next(), TypeError);
  });
});
