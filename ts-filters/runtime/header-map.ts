// HeaderMap views over the binding: nothing is copied, every call goes to Envoy. Names and values
// are validated before they reach native code, so header injection cannot happen through them: a
// name once (then it is cached), a value on every write, by a loop over its char codes.

import { StreamClosedError } from '../api/errors';
import type { HeaderMap } from '../api/types';
import { HeaderMapKind } from './codes';
import type { HeaderMapKind as NativeHeaderMapKind, NativeBinding } from './native';
import { JSONStringify, MapPrototypeClear, MapPrototypeGet, MapPrototypeSet, SetPrototypeHas,
  StringPrototypeCharCodeAt, StringPrototypeToLowerCase } from './primordials';

// RFC 7230 token chars, by char code (below 128; nothing above is one).
const TOKEN_CHARS = new Uint8Array(128);
for (const char of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") {
  TOKEN_CHARS[StringPrototypeCharCodeAt(char, 0)] = 1;
}
const COLON = 0x3a;

/** A token, optionally preceded by ':' (HTTP/2 pseudo-headers such as :path, :authority). */
function isHeaderName(name: string): boolean {
  const length = name.length;
  let i = length > 0 && StringPrototypeCharCodeAt(name, 0) === COLON ? 1 : 0;
  if (i === length) return false;
  for (; i < length; i++) {
    const code = StringPrototypeCharCodeAt(name, i);
    if (code >= 128 || TOKEN_CHARS[code] === 0) return false;
  }
  return true;
}

/**
 * The index of the first char a field value may not hold, or -1. Allowed: HTAB, SP, VCHAR and
 * obs-text (0x80-0xFF). Anything else (CR, LF, NUL, other controls, DEL, and characters above
 * U+00FF that a latin1 conversion would truncate — U+010A would become LF) is not.
 */
function forbiddenValueChar(value: string): number {
  for (let i = 0; i < value.length; i++) {
    const code = StringPrototypeCharCodeAt(value, i);
    if (code < 0x20 ? code !== 0x09 : code === 0x7f || code > 0xff) return i;
  }
  return -1;
}

function describeChar(code: number): string {
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

// Names that passed checkHeaderName, as given → lowercased. Filters use a handful of names, most
// of them literals, so a hit is the common case; past NAME_CACHE_SIZE distinct names (names built
// from request data) it starts over rather than grow.
export const NAME_CACHE_SIZE = 256;
const validatedNames = new Map<string, string>();
let validatedCount = 0;

/** Validate a header name and return it lowercased. Throws TypeError when invalid. */
export function checkHeaderName(name: unknown): string {
  const cached = typeof name === 'string' ? MapPrototypeGet(validatedNames, name) : undefined;
  if (cached !== undefined) return cached;
  if (typeof name !== 'string') {
    throw new TypeError(`header name must be a string, got ${typeof name}`);
  }
  if (!isHeaderName(name)) {
    throw new TypeError(
      `invalid header name ${JSONStringify(name)}: must be an RFC 7230 token or a ':' pseudo-header`);
  }
  const key = StringPrototypeToLowerCase(name);
  if (validatedCount === NAME_CACHE_SIZE) {
    MapPrototypeClear(validatedNames);
    validatedCount = 0;
  }
  MapPrototypeSet(validatedNames, name, key);
  validatedCount++;
  return key;
}

/** How many names checkHeaderName holds validated (tests). */
export function validatedNameCount(): number {
  return validatedCount;
}

/** Validate a header value. Throws TypeError when invalid. */
export function checkHeaderValue(name: string, value: unknown): string {
  if (typeof value !== 'string') {
    throw new TypeError(`value of header '${name}' must be a string, got ${typeof value}`);
  }
  const bad = forbiddenValueChar(value);
  if (bad !== -1) {
    throw new TypeError(
      `invalid value for header '${name}': forbidden character ` +
      `${describeChar(StringPrototypeCharCodeAt(value, bad))} at index ${bad} (CR, LF, NUL, control ` +
      'characters and characters above U+00FF are not allowed)');
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
    return this.#binding.hasHeader(stream.slot, stream.gen, this.#kind, key);
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
