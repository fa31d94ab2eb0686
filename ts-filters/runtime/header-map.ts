// HeaderMap views over the binding: nothing is copied, every call goes to Envoy. Names and values
// are validated before they reach native code, so header injection cannot happen through them.

import { StreamClosedError } from '../api/errors';
import type { HeaderMap } from '../api/types';
import { HeaderMapKind } from './codes';
import type { HeaderMapKind as NativeHeaderMapKind, NativeBinding } from './native';
import { RegExpPrototypeExec, SetPrototypeHas, StringPrototypeCharCodeAt,
  StringPrototypeToLowerCase } from './primordials';

// RFC 7230 token, optionally preceded by ':' (HTTP/2 pseudo-headers such as :path, :authority).
const HEADER_NAME = /^:?[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Field value: HTAB, SP, VCHAR and obs-text (0x80-0xFF). Anything else (CR, LF, NUL, other
// controls, DEL, and characters above U+00FF that a latin1 conversion would truncate — U+010A
// would become LF) is rejected.
const BAD_VALUE_CHAR = /[^\t\x20-\x7e\x80-\xff]/;

function describeChar(char: string): string {
  const code = StringPrototypeCharCodeAt(char, 0);
  const hex = `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  switch (code) {
    case 0x0d: return `CR (${hex})`;
    case 0x0a: return `LF (${hex})`;
    case 0x00: return `NUL (${hex})`;
    default: return hex;
  }
}

/** Request headers route matching reads. */
const ROUTING_HEADERS: ReadonlySet<string> = new Set([':path', ':authority', ':method', 'host']);

/** Validate a header name and return it lowercased. Throws TypeError when invalid. */
export function checkHeaderName(name: unknown): string {
  if (typeof name !== 'string') {
    throw new TypeError(`header name must be a string, got ${typeof name}`);
  }
  if (RegExpPrototypeExec(HEADER_NAME, name) === null) {
    throw new TypeError(
      `invalid header name ${JSON.stringify(name)}: must be an RFC 7230 token or a ':' pseudo-header`);
  }
  return StringPrototypeToLowerCase(name);
}

/** Validate a header value. Throws TypeError when invalid. */
export function checkHeaderValue(name: string, value: unknown): string {
  if (typeof value !== 'string') {
    throw new TypeError(`value of header '${name}' must be a string, got ${typeof value}`);
  }
  const bad = RegExpPrototypeExec(BAD_VALUE_CHAR, value);
  if (bad !== null) {
    throw new TypeError(
      `invalid value for header '${name}': forbidden character ${describeChar(bad[0])} at index ` +
      `${bad.index} (CR, LF, NUL, control characters and characters above U+00FF are not allowed)`);
  }
  return value;
}

/** What a view needs from its stream. */
export interface HeaderTarget {
  readonly slot: number;
  readonly gen: number;
  readonly closed: boolean;
}

/** `map[kHeaderCount]()`: how many entries the map has, without copying them (the runtime's own
 *  proxy-wasm filters pass it to headers callbacks). Not part of the public API. */
export const kHeaderCount = Symbol('envoy-ts.headerCount');

/** A live view of one header map of one stream. One instance per stream and map kind. */
export class HeaderMapView implements HeaderMap {
  readonly #binding: NativeBinding;
  readonly #stream: HeaderTarget;
  readonly #kind: NativeHeaderMapKind;

  constructor(binding: NativeBinding, stream: HeaderTarget, kind: NativeHeaderMapKind) {
    this.#binding = binding;
    this.#stream = stream;
    this.#kind = kind;
  }

  get(name: string): string | null {
    const key = checkHeaderName(name);
    const stream = this.#open();
    const value = this.#binding.getHeader(stream.slot, stream.gen, this.#kind, key);
    return value === undefined ? null : value;
  }

  getAll(name: string): string[] {
    const key = checkHeaderName(name);
    const stream = this.#open();
    return this.#binding.getHeaderValues(stream.slot, stream.gen, this.#kind, key);
  }

  has(name: string): boolean {
    const key = checkHeaderName(name);
    const stream = this.#open();
    return this.#binding.getHeader(stream.slot, stream.gen, this.#kind, key) !== undefined;
  }

  set(name: string, value: string): void {
    const key = checkHeaderName(name);
    checkHeaderValue(key, value);
    const stream = this.#open();
    this.#binding.setHeader(stream.slot, stream.gen, this.#kind, key, value);
    this.#routingChanged(stream, key);
  }

  add(name: string, value: string): void {
    const key = checkHeaderName(name);
    checkHeaderValue(key, value);
    const stream = this.#open();
    this.#binding.addHeader(stream.slot, stream.gen, this.#kind, key, value);
    this.#routingChanged(stream, key);
  }

  delete(name: string): void {
    const key = checkHeaderName(name);
    const stream = this.#open();
    this.#binding.removeHeader(stream.slot, stream.gen, this.#kind, key);
    this.#routingChanged(stream, key);
  }

  // Envoy picks the route from the request headers once; a change to what routes read makes it
  // pick again (a no-op in Envoy once the request went upstream).
  #routingChanged(stream: HeaderTarget, key: string): void {
    if (this.#kind === HeaderMapKind.RequestHeaders && SetPrototypeHas(ROUTING_HEADERS, key)) {
      this.#binding.clearRouteCache(stream.slot, stream.gen);
    }
  }

  entries(): IterableIterator<[string, string]> {
    const stream = this.#open();
    return pairs(this.#binding.getHeaders(stream.slot, stream.gen, this.#kind));
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }

  [kHeaderCount](): number {
    const stream = this.#open();
    return this.#binding.headerCount(stream.slot, stream.gen, this.#kind);
  }

  #open(): HeaderTarget {
    const stream = this.#stream;
    if (stream.closed) {
      throw new StreamClosedError('the stream is closed: its header maps can no longer be used');
    }
    return stream;
  }
}

function* pairs(flat: readonly string[]): IterableIterator<[string, string]> {
  for (let i = 0; i + 1 < flat.length; i += 2) {
    yield [flat[i] as string, flat[i + 1] as string];
  }
}
