// The key the sign-in authority signs access tokens with (RS256, as Entra does), shared by every instance through
// storage: the first instance to need it creates it, the others adopt the stored one. Its public half is published
// at the authority's jwks_uri, so anyone can verify a token without a shared secret.
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import type { AppContext } from './context.js';

type KeyMaterial = Awaited<ReturnType<typeof importJWK>>;

export interface SigningKey {
  readonly kid: string;
  readonly privateKey: KeyMaterial;
  readonly publicKey: KeyMaterial;
  /** What the JWKS document lists. */
  readonly publicJwk: JWK & { kid: string; use: 'sig'; alg: 'RS256' };
}

const cached = new WeakMap<AppContext, Promise<SigningKey>>();

export function signingKey(ctx: AppContext): Promise<SigningKey> {
  let key = cached.get(ctx);
  if (!key) {
    key = loadOrCreate(ctx);
    cached.set(ctx, key);
    // A failure (storage down) is not remembered: the next request tries again.
    key.catch(() => cached.delete(ctx));
  }
  return key;
}

async function loadOrCreate(ctx: AppContext): Promise<SigningKey> {
  const stored =
    (await ctx.identity.readSigningKey()) ??
    (await ctx.identity.createSigningKey(await newKeyRecord(ctx.now().toISOString())));
  const privateJwk: JWK = { ...stored.privateJwk };
  const { kty, n, e } = privateJwk;
  if (kty !== 'RSA' || typeof n !== 'string' || typeof e !== 'string')
    throw new Error('The stored signing key is not an RSA key.');
  const publicJwk = { kty, n, e, kid: stored.kid, use: 'sig' as const, alg: 'RS256' as const };
  return {
    kid: stored.kid,
    privateKey: await importJWK(privateJwk, 'RS256'),
    publicKey: await importJWK(publicJwk, 'RS256'),
    publicJwk,
  };
}

async function newKeyRecord(createdDateTime: string) {
  const { privateKey, publicKey } = await generateKeyPair('RS256', {
    modulusLength: 2048,
    extractable: true,
  });
  const publicJwk = await exportJWK(publicKey);
  return {
    kid: await calculateJwkThumbprint(publicJwk),
    privateJwk: { ...(await exportJWK(privateKey)) },
    createdDateTime,
  };
}
