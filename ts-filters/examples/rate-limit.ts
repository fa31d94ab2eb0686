// rate-limit: a token bucket per client key, shared by every Envoy worker; over the limit the
// request gets 429 with retry-after and never reaches the upstream.
//
// The key is the client's IP (default) or a request header (e.g. an API key); requests without
// the header share the key "-". The buckets live in the module (ctx.shared.take), so the limit
// holds for the whole Envoy process, whichever worker a connection lands on.

import { defineHttpFilter, type ConfigFromSchema, type HttpFilter } from 'envoy-ts';

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

// Checked when the config loads: Envoy rejects a bad one naming the field (e.g.
// `filter 'rate-limit': config.ratePerSecond must be > 0`).
const configSchema = {
  type: 'object',
  properties: {
    ratePerSecond: { type: 'number', exclusiveMinimum: 0 },
    burst: { type: 'number', minimum: 1 },
    key: { type: 'string', pattern: "^(ip|header:[!#$%&'*+\\-.^_`|~0-9A-Za-z]+)$", default: 'ip' },
  },
  required: ['ratePerSecond'],
  additionalProperties: false,
} as const;

// `config` is schema-checked, its key defaulted.
function parseConfig(config: ConfigFromSchema<typeof configSchema>): ParsedConfig {
  const { ratePerSecond, burst = ratePerSecond, key } = config;
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
  configSchema,
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
