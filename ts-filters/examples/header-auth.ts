// header-auth: accept a request only if a header carries one of the configured tokens.

import { createHash, timingSafeEqual } from 'node:crypto';

import { defineHttpFilter, type HttpFilter } from 'envoy-ts';

/** header-auth's config, as written in the chain entry. */
export interface HeaderAuthConfig {
  /** Header holding the credential (default "authorization"). */
  readonly header?: string;
  /** Accepted tokens (non-empty list of non-empty strings). */
  readonly tokens: readonly string[];
  /** Scheme prefix in front of the token, e.g. "Bearer " (compared case-insensitively). */
  readonly prefix?: string;
}

interface ParsedConfig {
  readonly header: string;
  readonly prefix: string;
  /** SHA-256 of each token: equal-length buffers for timingSafeEqual, whatever the token length. */
  readonly digests: readonly Buffer[];
  readonly challenge: string;
}

const KEYS = new Set(['header', 'tokens', 'prefix']);
const TOKEN_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'latin1').digest();
}

function parseConfig(raw: unknown): ParsedConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new TypeError('config must be an object like {"tokens": ["..."]}');
  }
  const config = raw as Record<string, unknown>;
  const unknownKeys = Object.keys(config).filter((key) => !KEYS.has(key));
  if (unknownKeys.length > 0) throw new TypeError(`unknown config key(s): ${unknownKeys.join(', ')}`);

  const header = config['header'] ?? 'authorization';
  if (typeof header !== 'string' || !TOKEN_NAME.test(header)) {
    throw new TypeError('"header" must be a valid header name');
  }
  const prefix = config['prefix'] ?? '';
  if (typeof prefix !== 'string') throw new TypeError('"prefix" must be a string');
  const tokens = config['tokens'];
  if (!Array.isArray(tokens) || tokens.length === 0 ||
      !tokens.every((token): token is string => typeof token === 'string' && token.length > 0)) {
    throw new TypeError('"tokens" must be a non-empty array of non-empty strings');
  }
  const scheme = prefix.trim() === '' ? 'Token' : prefix.trim();
  return {
    header: header.toLowerCase(),
    prefix,
    digests: tokens.map(digest),
    challenge: `${scheme} realm="envoy-ts"`,
  };
}

/** Whether `presented` equals one of the tokens. Constant time: every token is compared. */
function matches(presented: string, digests: readonly Buffer[]): boolean {
  const candidate = digest(presented);
  let ok = false;
  for (const expected of digests) {
    // No early exit: the loop does the same work whichever token (if any) matches.
    ok = timingSafeEqual(candidate, expected) || ok;
  }
  return ok;
}

function credential(value: string | null, prefix: string): string | null {
  if (value === null) return null;
  if (prefix === '') return value;
  if (value.length <= prefix.length || value.slice(0, prefix.length).toLowerCase() !== prefix.toLowerCase()) {
    return null;
  }
  return value.slice(prefix.length);
}

/** Rejects requests without a valid token with 401 (config: HeaderAuthConfig). */
export const headerAuth: HttpFilter<ParsedConfig> = defineHttpFilter({
  name: 'header-auth',
  parseConfig,
  onRequestHeaders(headers, ctx) {
    const { header, prefix, digests, challenge } = ctx.config;
    // More than one value is ambiguous (which one would the upstream read?): reject it.
    const values = headers.getAll(header);
    const token = values.length === 1 ? credential(values[0] ?? null, prefix) : null;
    if (token !== null && matches(token, digests)) return;
    ctx.respond(401, {
      headers: { 'www-authenticate': challenge },
      body: 'unauthorized',
      details: 'envoy_ts_header_auth_denied',
    });
  },
});
