// RS256 keys and JSON Web Tokens, for the tests and the bench that drive jwt-auth.
import { generateKeyPairSync, sign } from 'node:crypto';

/** A new RSA key: its private half signs, `jwk` is the public half as a JWKS lists it. */
export function newRsaKey(kid) {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { kid, privateKey, jwk: { ...publicKey.export({ format: 'jwk' }), kid, use: 'sig', alg: 'RS256' } };
}

/** A compact JWT of `claims` signed with `key` (the header may name another kid or alg). */
export function signJwt(key, claims, { kid = key.kid, alg = 'RS256' } = {}) {
  const part = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const signingInput = `${part({ alg, kid, typ: 'JWT' })}.${part(claims)}`;
  return `${signingInput}.${sign('RSA-SHA256', Buffer.from(signingInput), key.privateKey).toString('base64url')}`;
}
