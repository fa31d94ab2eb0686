// Bodies as a test writes them: text, bytes or chunks.

import type { BodyInit } from './types';

/** The chunks of a body (none for an absent or empty one); throws a TypeError for anything else. */
export function bodyChunks(body: BodyInit | undefined, what: string): Uint8Array[] {
  if (body === undefined) return [];
  const parts = typeof body === 'string' || body instanceof Uint8Array ? [body] : body;
  if (!Array.isArray(parts)) {
    throw new TypeError(`envoy-ts/testing: ${what} must be a string, a Uint8Array or a list of them`);
  }
  return parts.map((part: unknown, i) => {
    if (typeof part === 'string') return Buffer.from(part);
    if (part instanceof Uint8Array) return part;
    throw new TypeError(`envoy-ts/testing: ${what}[${i}] must be a string or a Uint8Array`);
  }).filter((chunk) => chunk.length > 0);
}
