// HeaderMap views over the binding: nothing is copied, every call goes to Envoy. Names and values
// are validated, so header injection cannot happen through them: a name once, before it reaches
// native code (then it is kept, lowercased), a value on every write, by the binding as it copies
// the value's bytes (no regex on the hot path).

import { StreamClosedError } from '../api/errors';
import type { HeaderMap } from '../api/types';
import { HeaderMapKind } from './codes';
import type { HeaderMapKind as NativeHeaderMapKind, NativeBinding } from './native';
import { JSONStringify, MapPrototypeClear, MapPrototypeGet, MapPrototypeSet, RegExpPrototypeExec,
  SetPrototypeHas, StringPrototypeCharCodeAt, StringPrototypeToLowerCase } from './primordials';

// RFC 7230 token, optionally preceded by ':' (HTTP/2 pseudo-headers such as :path, :authority).
const HEADER_NAME = /^:?[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Field value: HTAB, SP, VCHAR and obs-text (0x80-0xFF). Anything else (CR, LF, NUL, other
// controls, DEL, and characters above U+00FF that a latin1 conversion would truncate — U+010A
// would become LF) is rejected. The binding applies the same rule, byte by byte, to the values a
// HeaderMapView writes (native/bridge/header_binding.cc; test/e2e/header-value-rule.test.mjs holds
// the two to the same answers).
const BAD_VALUE_CHAR = /[^\t\x20-\x7e\x80-\xff]/;

/** The index of the first char a header value may not hold, or -1. */
export function forbiddenValueChar(value: string): number {
  const bad = RegExpPrototypeExec(BAD_VALUE_CHAR, value);
  return bad === null ? -1 : bad.index;
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

function forbiddenValueError(name: string, value: string, index: number): TypeError {
  return new TypeError(
    `invalid value for header '${name}': forbidden character ` +
    `${describeChar(StringPrototypeCharCodeAt(value, index))} at index ${index} (CR, LF, NUL, control ` +
    'characters and characters above U+00FF are not allowed)');
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
  if (RegExpPrototypeExec(HEADER_NAME, name) === null) {
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
  if (bad !== -1) throw forbiddenValueError(name, value, bad);
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
    const stream = this.#openFor(key, value);
    const bad = this.#binding.setHeader(stream.slot, stream.gen, this.#kind, key, value);
    if (bad !== undefined) throw forbiddenValueError(key, value, bad);
    this.#routingChanged(stream, key);
  }

  add(name: string, value: string): void {
    const key = checkHeaderName(name);
    const stream = this.#openFor(key, value);
    const bad = this.#binding.addHeader(stream.slot, stream.gen, this.#kind, key, value);
    if (bad !== undefined) throw forbiddenValueError(key, value, bad);
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

  // The stream, for writing `value` under `key`. The binding checks a value's chars as it copies
  // them (and says which one it refused); what it cannot check is checked here: a value that is
  // not a string, or one for a closed stream (its TypeError comes before StreamClosedError).
  #openFor(key: string, value: unknown): HeaderTarget {
    if (typeof value !== 'string' || this.#stream.closed) checkHeaderValue(key, value);
    return this.#open();
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
