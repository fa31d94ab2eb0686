/// <reference path="./webassembly.d.ts" />
// A module's linear memory as host calls see it: bounds-checked reads of what the module passes
// (a pointer and a size), writes of out-parameters, and values handed back in memory the module
// allocates itself (its `proxy_on_memory_allocate`, or `malloc` in modules built for v0.2.0).
// Integers are little-endian (the ABI's serialization rule).

/** A pointer or size outside the module's memory: the host call answers INVALID_MEMORY_ACCESS. */
export class MemoryAccessError extends Error {
  override readonly name = 'MemoryAccessError';
}

const latin1Decoder = new TextDecoder('latin1');
const utf8Decoder = new TextDecoder('utf-8');
const utf8Encoder = new TextEncoder();

export class ModuleMemory {
  readonly #memory: WebAssembly.Memory;
  readonly #allocate: (size: number) => number;
  // Views over the current buffer; growing the memory replaces the buffer.
  #buffer: ArrayBuffer;
  #bytes: Uint8Array;
  #view: DataView;

  constructor(memory: WebAssembly.Memory, allocate: (size: number) => number) {
    this.#memory = memory;
    this.#allocate = allocate;
    this.#buffer = memory.buffer;
    this.#bytes = new Uint8Array(this.#buffer);
    this.#view = new DataView(this.#buffer);
  }

  #fresh(): Uint8Array {
    if (this.#memory.buffer !== this.#buffer) {
      this.#buffer = this.#memory.buffer;
      this.#bytes = new Uint8Array(this.#buffer);
      this.#view = new DataView(this.#buffer);
    }
    return this.#bytes;
  }

  #check(pointer: number, size: number): number {
    const start = pointer >>> 0;
    const length = size >>> 0;
    if (start + length > this.#fresh().length) {
      throw new MemoryAccessError(`[${start}, ${start + length}) is outside the module's memory`);
    }
    return start;
  }

  /** A view of `size` bytes at `pointer` (valid until the module allocates: copy to keep). */
  view(pointer: number, size: number): Uint8Array {
    const start = this.#check(pointer, size);
    return this.#bytes.subarray(start, start + (size >>> 0));
  }

  /** A copy of `size` bytes at `pointer`. */
  copy(pointer: number, size: number): Uint8Array {
    return this.view(pointer, size).slice();
  }

  /** UTF-8 text (names, log lines, paths). */
  text(pointer: number, size: number): string {
    return utf8Decoder.decode(this.view(pointer, size));
  }

  /** Bytes as a latin1 string: how envoy-ts carries header names and values (one char a byte). */
  latin1(pointer: number, size: number): string {
    return latin1Decoder.decode(this.view(pointer, size));
  }

  readU32(pointer: number): number {
    this.#check(pointer, 4);
    return this.#view.getUint32(pointer >>> 0, true);
  }

  writeU32(pointer: number, value: number): void {
    this.#check(pointer, 4);
    this.#view.setUint32(pointer >>> 0, value >>> 0, true);
  }

  writeU64(pointer: number, value: bigint): void {
    this.#check(pointer, 8);
    this.#view.setBigUint64(pointer >>> 0, BigInt.asUintN(64, value), true);
  }

  writeBytes(pointer: number, data: Uint8Array): void {
    const start = this.#check(pointer, data.length);
    this.#bytes.set(data, start);
  }

  /**
   * Hand `data` to the module: copied into memory it allocates, its address written at
   * `pointerOut` and its size at `sizeOut`. Empty data allocates nothing (address 0, size 0).
   */
  give(data: Uint8Array, pointerOut: number, sizeOut: number): void {
    this.#check(pointerOut, 4);
    this.#check(sizeOut, 4);
    let address = 0;
    if (data.length > 0) {
      address = this.#allocate(data.length) >>> 0;
      if (address === 0) throw new MemoryAccessError(`the module could not allocate ${data.length} bytes`);
      this.writeBytes(address, data);
    }
    this.writeU32(pointerOut, address);
    this.writeU32(sizeOut, data.length);
  }

  /** Hand text to the module as UTF-8 (see give). */
  giveText(text: string, pointerOut: number, sizeOut: number): void {
    this.give(utf8Encoder.encode(text), pointerOut, sizeOut);
  }
}

/** A latin1 string's bytes (each char is one byte). */
export function latin1Bytes(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i) & 0xff;
  return bytes;
}

export { utf8Encoder };
