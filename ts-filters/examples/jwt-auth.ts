// jwt-auth: accepts requests that carry a valid RS256 JWT bearer token. The issuer's keys come from
// its JWKS endpoint, fetched through an Envoy cluster (ctx.fetch) and cached per worker; the RSA
// signature check runs on the worker pool (ctx.offload), off the Envoy worker. Claims are checked
// before any crypto (cheap refusals first); chosen claims are passed upstream as headers.

import { defineHttpFilter, type HttpFilter, type HttpFilterContext } from 'envoy-ts';

import type { VerifyRs256Input } from './tasks/verify-rs256';

export interface JwtAuthConfig {
  /** The issuer's JWKS URL; its host names the Envoy cluster that serves it. */
  readonly jwksUrl: string;
  /** Required `iss` claim (unchecked when absent). */
  readonly issuer?: string;
  /** Accepted `aud` values: the token must name one of them (unchecked when absent). */
  readonly audiences?: readonly string[];
  /** How long fetched keys are trusted (seconds). */
  readonly cacheSeconds: number;
  /** Tolerance for `exp` and `nbf` (seconds). */
  readonly clockSkewSeconds: number;
  /** Claims passed upstream: claim name → request header. */
  readonly claimHeaders: Readonly<Record<string, string>>;
}

type Jwk = VerifyRs256Input['jwk'] & { kid?: string; kty?: string; use?: string };

interface KeySet {
  readonly keys: ReadonlyMap<string, Jwk>;
  readonly fetchedAt: number;
}

// A kid missing from fresh keys triggers a refetch (key rotation), at most this often.
const REFETCH_MIN_MS = 30_000;
const VERIFY_TASK = './tasks/verify-rs256.js';

// Per worker: module-level state lives in one Node environment.
const keySets = new Map<string, KeySet>();
// The JWKS fetch in flight per URL: requests that find the keys stale meanwhile wait for it
// instead of each asking the issuer again.
const keyFetches = new Map<string, Promise<KeySet>>();

class Refusal {
  constructor(readonly status: 401 | 503, readonly description: string) {}
}

function refuse(refusal: Refusal): Response {
  const headers: Record<string, string> = refusal.status === 401
    ? { 'www-authenticate': `Bearer realm="envoy-ts", error="invalid_token", error_description="${refusal.description}"` }
    : {};
  return new Response(refusal.status === 401 ? 'unauthorized' : 'authentication unavailable',
                      { status: refusal.status, headers });
}

function decodePart(part: string): Record<string, unknown> {
  const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new SyntaxError('not an object');
  return value as Record<string, unknown>;
}

function checkClaims(claims: Record<string, unknown>, config: JwtAuthConfig, nowSeconds: number): void {
  const { exp, nbf, iss, aud } = claims;
  if (typeof exp !== 'number') throw new Refusal(401, 'the token has no exp');
  if (nowSeconds > exp + config.clockSkewSeconds) throw new Refusal(401, 'the token expired');
  if (typeof nbf === 'number' && nowSeconds + config.clockSkewSeconds < nbf) {
    throw new Refusal(401, 'the token is not valid yet');
  }
  if (config.issuer !== undefined && iss !== config.issuer) throw new Refusal(401, 'wrong issuer');
  if (config.audiences !== undefined) {
    const named = Array.isArray(aud) ? aud : [aud];
    if (!named.some((value) => typeof value === 'string' && config.audiences?.includes(value))) {
      throw new Refusal(401, 'wrong audience');
    }
  }
}

async function fetchKeys(ctx: HttpFilterContext<JwtAuthConfig>): Promise<KeySet> {
  let response: Response;
  try {
    response = await ctx.fetch(ctx.config.jwksUrl, { timeoutMs: 2000 });
  } catch (error) {
    if (ctx.signal.aborted) throw error;  // the stream went away (and its fetch with it)
    ctx.log.warn('JWKS fetch failed: %s', error);
    throw new Refusal(503, 'jwks unavailable');
  }
  if (response.status !== 200) {
    ctx.log.warn('JWKS endpoint answered %d', response.status);
    throw new Refusal(503, 'jwks unavailable');
  }
  const body = (await response.json()) as { keys?: Jwk[] };
  const keys = new Map<string, Jwk>();
  for (const key of body.keys ?? []) {
    if (key.kty === 'RSA' && typeof key.kid === 'string' && (key.use === undefined || key.use === 'sig')) {
      keys.set(key.kid, key);
    }
  }
  const keySet = { keys, fetchedAt: Date.now() };
  keySets.set(ctx.config.jwksUrl, keySet);
  return keySet;
}

/** The keys from the fetch in flight for this URL, else from a new one this stream makes. */
async function fetchKeysShared(ctx: HttpFilterContext<JwtAuthConfig>): Promise<KeySet> {
  const url = ctx.config.jwksUrl;
  for (let pending = keyFetches.get(url); pending !== undefined; pending = keyFetches.get(url)) {
    try {
      return await pending;
    } catch (error) {
      // Anything but a refusal means the stream that fetched went away: fetch (or join) again.
      if (error instanceof Refusal) throw error;
    }
  }
  const fetching = fetchKeys(ctx);
  keyFetches.set(url, fetching);
  try {
    return await fetching;
  } finally {
    if (keyFetches.get(url) === fetching) keyFetches.delete(url);
  }
}

async function keyFor(ctx: HttpFilterContext<JwtAuthConfig>, kid: string): Promise<Jwk> {
  const cached = keySets.get(ctx.config.jwksUrl);
  const age = cached === undefined ? Infinity : Date.now() - cached.fetchedAt;
  const fresh = age < ctx.config.cacheSeconds * 1000;
  let key = fresh ? cached?.keys.get(kid) : undefined;
  if (key === undefined && (!fresh || age >= REFETCH_MIN_MS)) {
    key = (await fetchKeysShared(ctx)).keys.get(kid);
  }
  if (key === undefined) throw new Refusal(401, 'unknown signing key');
  return key;
}

async function authenticate(ctx: HttpFilterContext<JwtAuthConfig>, authorization: string | null):
    Promise<Record<string, unknown>> {
  const match = /^Bearer ([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/i.exec(authorization ?? '');
  if (match === null) throw new Refusal(401, 'a bearer token is required');
  const [, header64, payload64, signature] = match as unknown as [string, string, string, string];
  let header: Record<string, unknown>;
  let claims: Record<string, unknown>;
  try {
    header = decodePart(header64);
    claims = decodePart(payload64);
  } catch {
    throw new Refusal(401, 'malformed token');
  }
  if (header['alg'] !== 'RS256') throw new Refusal(401, 'only RS256 tokens are accepted');
  if (typeof header['kid'] !== 'string') throw new Refusal(401, 'the token names no key');
  checkClaims(claims, ctx.config, Date.now() / 1000);
  const jwk = await keyFor(ctx, header['kid']);
  const input: VerifyRs256Input = { signingInput: `${header64}.${payload64}`, signature, jwk };
  if (!(await ctx.offload<boolean>(VERIFY_TASK, input))) throw new Refusal(401, 'bad signature');
  return claims;
}

export const jwtAuth: HttpFilter<JwtAuthConfig> = defineHttpFilter<JwtAuthConfig>({
  name: 'jwt-auth',
  configSchema: {
    type: 'object',
    properties: {
      jwksUrl: { type: 'string', pattern: '^https?://[^/]+/' },
      issuer: { type: 'string', minLength: 1 },
      audiences: { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1 },
      cacheSeconds: { type: 'integer', minimum: 1, default: 300 },
      clockSkewSeconds: { type: 'integer', minimum: 0, default: 30 },
      claimHeaders: {
        type: 'object',
        additionalProperties: { type: 'string', pattern: '^[a-z0-9-]+$' },
        default: { sub: 'x-jwt-sub' },
      },
    },
    required: ['jwksUrl'],
    additionalProperties: false,
  },
  async onRequestHeaders(headers, ctx) {
    let claims: Record<string, unknown>;
    try {
      claims = await authenticate(ctx, headers.get('authorization'));
    } catch (error) {
      if (error instanceof Refusal) return refuse(error);
      throw error;
    }
    for (const [claim, header] of Object.entries(ctx.config.claimHeaders)) {
      const value = claims[claim];
      if (typeof value === 'string' || typeof value === 'number') headers.set(header, String(value));
      else headers.delete(header);  // a client must not supply what the filter vouches for
    }
    return undefined;
  },
});
