// Read-only headers as a test reads them: lowercase names, every value kept in order.

import type { HeadersInit } from './types';

/** Headers of a response, an upstream request or trailers. Names are case-insensitive. */
export class TestHeaders {
  readonly #entries: readonly (readonly [string, string])[];

  constructor(entries: readonly (readonly [string, string])[]) {
    this.#entries = entries.map(([name, value]) => [name.toLowerCase(), value] as const);
  }

  /** The first value of `name`, or null. */
  get(name: string): string | null {
    const lower = name.toLowerCase();
    return this.#entries.find(([n]) => n === lower)?.[1] ?? null;
  }

  /** Every value of `name`, in order. */
  getAll(name: string): string[] {
    const lower = name.toLowerCase();
    return this.#entries.filter(([n]) => n === lower).map(([, value]) => value);
  }

  has(name: string): boolean {
    return this.get(name) !== null;
  }

  /** [name, value] pairs, in order. */
  entries(): [string, string][] {
    return this.#entries.map(([name, value]) => [name, value]);
  }

  /** The headers as a record (a repeated name keeps its first value). */
  toObject(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [name, value] of this.#entries) out[name] ??= value;
    return out;
  }
}

/** [lowercase name, value] pairs of headers a test wrote; throws a TypeError naming a bad entry. */
export function headerPairs(init: HeadersInit | undefined, what: string): [string, string][] {
  if (init === undefined) return [];
  const list: readonly (readonly [unknown, unknown])[] = Array.isArray(init)
    ? init as readonly (readonly [unknown, unknown])[]
    : typeof init === 'object' && init !== null ? Object.entries(init) : [];
  if (!Array.isArray(init) && (typeof init !== 'object' || init === null)) {
    throw new TypeError(`envoy-ts/testing: ${what} must be a record or a list of [name, value] pairs`);
  }
  return list.map((entry) => {
    if (!Array.isArray(entry) || typeof entry[0] !== 'string' || entry[0] === '' || typeof entry[1] !== 'string') {
      throw new TypeError(`envoy-ts/testing: ${what}: ${JSON.stringify(entry)} is not a [name, value] pair of strings`);
    }
    return [entry[0].toLowerCase(), entry[1]];
  });
}
