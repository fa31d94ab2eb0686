// rate-limit: a token bucket per client key, shared by every Envoy worker; over the limit the
// request gets 429 with retry-after and never reaches the upstream.
//
// The key is the client's IP (default) or a request header (e.g. an API key); requests without
// the header share the key "-". The buckets live in the module (ctx.shared.take), so the limit
// holds for the whole Envoy process, whichever worker a connection lands on.

import { defineHttpFilter, type HttpFilter } from 'envoy-ts';

/** rate-limit's config, as written in the chain entry. */
export interface RateLimitConfig {
  /** Sustained requests per second allowed per key (> 0). */
  readonly ratePerSecond: number;
  /** Requests allowed at once when the bucket is full (>= 1; default ratePerSecond). */
  readonly burst?: number;
  /** "ip" (default) or "header:<name>". */
  readonly key?: string;
}

interface ParsedConfig {
  readonly ratePerSecond: number;
  readonly burst: number;
  /** The header holding the key, or null for the client IP. */
  readonly header: string | null;
  /** Prefix of the bucket names, so two differently configured limits never share buckets. */
  readonly scope: string;
}

const KEYS = new Set(['ratePerSecond', 'burst', 'key']);

function parseConfig(raw: unknown): ParsedConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new TypeError('config must be an object like {"ratePerSecond": 10, "burst": 20}');
  }
  const config = raw as Record<string, unknown>;
  const unknownKeys = Object.keys(config).filter((key) => !KEYS.has(key));
  if (unknownKeys.length > 0) throw new TypeError(`unknown config key(s): ${unknownKeys.join(', ')}`);
  const { ratePerSecond, burst = ratePerSecond, key = 'ip' } = config;
  if (typeof ratePerSecond !== 'number' || !(ratePerSecond > 0) || !Number.isFinite(ratePerSecond)) {
    throw new TypeError('"ratePerSecond" must be a positive number');
  }
  if (typeof burst !== 'number' || !(burst >= 1) || !Number.isFinite(burst)) {
    throw new TypeError('"burst" must be a number >= 1');
  }
  if (typeof key !== 'string' || (key !== 'ip' && !/^header:[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(key))) {
    throw new TypeError('"key" must be "ip" or "header:<name>"');
  }
  const header = key === 'ip' ? null : key.slice('header:'.length).toLowerCase();
  return { ratePerSecond, burst, header, scope: `rate-limit/${key}/${ratePerSecond}/${burst}/` };
}

/** The client IP of a "ip:port" / "[ip]:port" source address. */
function ipOf(address: string | null): string {
  if (address === null) return '-';
  const bracket = address.startsWith('[') ? address.indexOf(']') : -1;
  if (bracket > 0) return address.slice(1, bracket);
  const colon = address.lastIndexOf(':');
  return colon > 0 ? address.slice(0, colon) : address;
}

/** Limits requests per client key with a shared token bucket (config: RateLimitConfig). */
export const rateLimit: HttpFilter<ParsedConfig> = defineHttpFilter({
  name: 'rate-limit',
  parseConfig,
  metrics: { allowed: 'counter', limited: 'counter' },
  onRequestHeaders(headers, ctx) {
    const { ratePerSecond, burst, header, scope } = ctx.config;
    const key = header === null ? ipOf(ctx.attributes.sourceAddress) : headers.get(header) ?? '-';
    const { allowed, retryAfterMs } = ctx.shared.take(scope + key, { ratePerSecond, burst });
    if (allowed) {
      ctx.metrics.increment('allowed');
      return;
    }
    ctx.metrics.increment('limited');
    ctx.respond(429, {
      headers: { 'retry-after': String(Math.max(1, Math.ceil(retryAfterMs / 1000))) },
      body: 'too many requests',
      details: 'envoy_ts_rate_limited',
    });
  },
});
