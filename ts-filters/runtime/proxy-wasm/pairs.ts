// The ABI's serialization of header maps (and gRPC metadata): a u32 count, then the u32 sizes of
// each key and value, then each key and value followed by a NUL byte. An empty map is zero bytes
// or a single NUL. Names and values are bytes, carried as latin1 strings.

import { latin1Bytes } from './memory';

export type Pairs = readonly (readonly [string, string])[];

/** Thrown for bytes that are not a serialized map: the host call answers BAD_ARGUMENT. */
export class PairsFormatError extends Error {
  override readonly name = 'PairsFormatError';
}

const latin1 = new TextDecoder('latin1');

export function encodePairs(pairs: Pairs): Uint8Array {
  const encoded = pairs.map(([name, value]) => [latin1Bytes(name), latin1Bytes(value)] as const);
  let size = 4 + 8 * encoded.length;
  for (const [name, value] of encoded) size += name.length + value.length + 2;
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, encoded.length, true);
  let data = 4 + 8 * encoded.length;
  encoded.forEach(([name, value], i) => {
    view.setUint32(4 + 8 * i, name.length, true);
    view.setUint32(8 + 8 * i, value.length, true);
    bytes.set(name, data);
    data += name.length + 1;
    bytes.set(value, data);
    data += value.length + 1;
  });
  return bytes;
}

export function decodePairs(bytes: Uint8Array): [string, string][] {
  if (bytes.length === 0 || (bytes.length === 1 && bytes[0] === 0)) return [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 4) throw new PairsFormatError('a serialized map is shorter than its count');
  const count = view.getUint32(0, true);
  let data = 4 + 8 * count;
  if (data > bytes.length) throw new PairsFormatError(`a serialized map of ${count} pairs is cut short`);
  const pairs: [string, string][] = [];
  for (let i = 0; i < count; i++) {
    const nameSize = view.getUint32(4 + 8 * i, true);
    const valueSize = view.getUint32(8 + 8 * i, true);
    if (data + nameSize + valueSize + 2 > bytes.length) {
      throw new PairsFormatError(`pair ${i} of a serialized map runs past its end`);
    }
    const name = latin1.decode(bytes.subarray(data, data + nameSize));
    data += nameSize + 1;
    const value = latin1.decode(bytes.subarray(data, data + valueSize));
    data += valueSize + 1;
    pairs.push([name, value]);
  }
  return pairs;
}
