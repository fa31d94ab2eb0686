// Offload task of jwt-auth: verifies an RS256 signature on a pool thread (ctx.offload), so the
// RSA work never runs on an Envoy worker.

import { createPublicKey, verify, type JsonWebKey } from 'node:crypto';

export interface VerifyRs256Input {
  /** `<base64url header>.<base64url payload>`: what the signature covers. */
  readonly signingInput: string;
  /** The token's signature, base64url. */
  readonly signature: string;
  /** The issuer's public key as a JWK (kty RSA). */
  readonly jwk: JsonWebKey;
}

export default function verifyRs256({ signingInput, signature, jwk }: VerifyRs256Input): boolean {
  const key = createPublicKey({ key: jwk, format: 'jwk' });
  return verify('RSA-SHA256', Buffer.from(signingInput), key, Buffer.from(signature, 'base64url'));
}
