// async-delay: wait, then mark the request. Shows the async path: the stream is held while the
// hook's promise is pending and resumes with the next filter once it settles.

import { setTimeout as sleep } from 'node:timers/promises';

import { defineHttpFilter, type HttpFilter } from 'envoy-ts';

/** async-delay's config. */
export interface AsyncDelayConfig {
  /** Milliseconds to wait, 0–10000 (default 10). */
  readonly ms: number;
}

function parseConfig(raw: unknown): AsyncDelayConfig {
  if (raw === undefined) return { ms: 10 };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new TypeError('config must be an object like {"ms": 10}');
  }
  const unknownKeys = Object.keys(raw).filter((key) => key !== 'ms');
  if (unknownKeys.length > 0) throw new TypeError(`unknown config key(s): ${unknownKeys.join(', ')}`);
  const ms = (raw as { ms?: unknown }).ms ?? 10;
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0 || ms > 10_000) {
    throw new RangeError('"ms" must be a number from 0 to 10000');
  }
  return { ms };
}

/** Waits config.ms, then sets x-async-delay-ms on the request. */
export const asyncDelay: HttpFilter<AsyncDelayConfig> = defineHttpFilter({
  name: 'async-delay',
  parseConfig,
  async onRequestHeaders(headers, ctx) {
    // The signal stops the timer if the client goes away; the runtime drops the rejection then.
    await sleep(ctx.config.ms, undefined, { signal: ctx.signal });
    headers.set('x-async-delay-ms', String(ctx.config.ms));
  },
});
