import { randomBytes } from 'node:crypto';
import { decodeProtectedHeader, type importJWK, jwtVerify, SignJWT } from 'jose';
import { normalizeGuid } from '../engine/ids.js';
import { GraphError } from './envelope.js';

/** Graph application permissions the service understands (api.md "Tokens"). */
export const PERMISSIONS = [
  'Directory.Read.All',
  'Directory.ReadWrite.All',
  'User.Read.All',
  'User.ReadWrite.All',
  'Group.Read.All',
  'Group.ReadWrite.All',
  'Organization.Read.All',
  'LicenseAssignment.ReadWrite.All',
  'Device.ReadWrite.All',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

export const DEFAULT_ROLES: readonly Permission[] = [
  'Directory.ReadWrite.All',
  'LicenseAssignment.ReadWrite.All',
];
export const GRAPH_AUDIENCE = 'https://graph.microsoft.com';

export interface Caller {
  readonly tenantId: string;
  readonly roles: ReadonlySet<string>;
}

type KeyMaterial = Awaited<ReturnType<typeof importJWK>>;

/** The sign-in authority's RS256 key (application/signing-keys.ts), loaded when a token needs it. */
export type AuthorityKey = () => Promise<{ readonly kid: string; readonly publicKey: KeyMaterial }>;

/** Entra issues app tokens for ~60–90 minutes; ours last an hour. */
export const APPLICATION_TOKEN_SECONDS = 3599;

/**
 * An access token for Microsoft Graph as Entra issues it to an app signing in with client credentials (a v1.0
 * token: `iss` is sts.windows.net, `appid`, `idtyp: app`, `roles` only when the app holds any), RS256-signed with
 * the authority's key and named by its `kid`, so it verifies against the published JWKS.
 */
export async function mintApplicationToken(
  key: { readonly kid: string; readonly privateKey: KeyMaterial },
  app: {
    readonly tenantId: string;
    readonly appId: string;
    readonly id: string;
    readonly displayName: string;
    readonly roles: readonly string[];
  },
  now: Date,
  lifetimeSeconds = APPLICATION_TOKEN_SECONDS,
): Promise<string> {
  const issuer = `https://sts.windows.net/${app.tenantId}/`;
  const seconds = Math.floor(now.getTime() / 1000);
  return (
    new SignJWT({
      tid: app.tenantId,
      appid: app.appId,
      app_displayname: app.displayName,
      appidacr: '1',
      idp: issuer,
      idtyp: 'app',
      oid: app.id,
      sub: app.id,
      ver: '1.0',
      uti: randomBytes(16).toString('base64url'),
      ...(app.roles.length > 0 ? { roles: [...app.roles] } : {}),
    })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: key.kid })
      .setAudience(GRAPH_AUDIENCE)
      .setIssuer(issuer)
      // Entra back-dates iat and nbf by five minutes, for clients whose clocks run behind.
      .setIssuedAt(seconds - 300)
      .setNotBefore(seconds - 300)
      .setExpirationTime(seconds + lifetimeSeconds)
      .sign(key.privateKey)
  );
}

function key(secret: string): Uint8Array {
  return new TextEncoder().encode(secret);
}

/** Mints an HS256 access token for a tenant (the operator API's `POST /tenants/{tid}/tokens`). */
export async function mintToken(
  secret: string,
  tenantId: string,
  roles: readonly string[],
  expiresInSeconds: number,
  now: () => Date = () => new Date(),
): Promise<string> {
  const issuedAt = Math.floor(now().getTime() / 1000);
  return new SignJWT({ tid: tenantId, roles: [...roles] })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setAudience(GRAPH_AUDIENCE)
    .setIssuer(`https://sts.windows.net/${tenantId}/`)
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + expiresInSeconds)
    .sign(key(secret));
}

/**
 * Verifies `Authorization: Bearer <token>`: the signature (HS256 with the operator's secret for tokens minted by
 * the operator API, RS256 with the authority's key for tokens of app sign-ins), audience, expiry, issuer matching
 * the tenant. The tenant always comes from the token, never from the request.
 */
export async function authenticate(
  secret: string,
  authorization: string | null,
  options: { readonly authorityKey?: AuthorityKey; readonly now?: () => Date } = {},
): Promise<Caller> {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  if (!match?.[1]) throw new GraphError(401, 'InvalidAuthenticationToken', 'Access token is empty.');
  const token = match[1];
  const now = options.now?.() ?? new Date();
  const cached = verified.get(token);
  if (cached && cached.secret === secret && now.getTime() < cached.expiresAt) return cached.caller;
  const { caller, expiresAt } = await verify(secret, token, options.authorityKey, now);
  remember(token, { caller, secret, expiresAt }, now);
  return caller;
}

/**
 * Tokens already verified, until they expire: a client sends the same token on every request, and checking an
 * HS256 signature costs more than the rest of a point read. Bounded; only good tokens are kept.
 */
interface VerifiedToken {
  readonly caller: Caller;
  readonly secret: string;
  readonly expiresAt: number;
}
const verified = new Map<string, VerifiedToken>();
const VERIFIED_TOKENS_KEPT = 1000;

function remember(token: string, entry: VerifiedToken, now: Date): void {
  if (verified.size >= VERIFIED_TOKENS_KEPT) {
    for (const [t, e] of verified) if (e.expiresAt <= now.getTime()) verified.delete(t);
    // Still full: forget the oldest (a Map iterates in insertion order).
    const oldest = verified.keys().next();
    if (verified.size >= VERIFIED_TOKENS_KEPT && !oldest.done) verified.delete(oldest.value);
  }
  verified.set(token, entry);
}

async function verify(
  secret: string,
  token: string,
  authorityKey: AuthorityKey | undefined,
  now: Date,
): Promise<Omit<VerifiedToken, 'secret'>> {
  const invalid = () => new GraphError(401, 'InvalidAuthenticationToken', 'Access token validation failure.');
  let alg: string | undefined;
  let kid: string | undefined;
  try {
    ({ alg, kid } = decodeProtectedHeader(token));
  } catch {
    throw invalid();
  }
  // Outside the try: storage failing to give the key is not the caller's fault (500, not 401).
  const authority = alg === 'RS256' && authorityKey ? await authorityKey() : undefined;
  try {
    let verificationKey: KeyMaterial = key(secret);
    if (alg === 'RS256') {
      if (!authority || kid !== authority.kid) throw new Error('unknown signing key');
      verificationKey = authority.publicKey;
    }
    const { payload } = await jwtVerify(token, verificationKey, {
      algorithms: [alg === 'RS256' ? 'RS256' : 'HS256'],
      audience: GRAPH_AUDIENCE,
      currentDate: now,
    });
    const tid = payload.tid;
    // An app granted no permissions gets a token without a roles claim, as from Entra.
    const roles = payload.roles ?? [];
    if (
      typeof tid !== 'string' ||
      normalizeGuid(tid) !== tid ||
      payload.iss !== `https://sts.windows.net/${tid}/`
    ) {
      throw new Error('bad tenant claims');
    }
    if (!Array.isArray(roles) || !roles.every((r): r is string => typeof r === 'string'))
      throw new Error('bad roles');
    // jwtVerify has checked exp when present; a token without one is re-verified each minute.
    const expiresAt = typeof payload.exp === 'number' ? payload.exp * 1000 : now.getTime() + 60_000;
    return { caller: { tenantId: tid, roles: new Set(roles) }, expiresAt };
  } catch {
    throw new GraphError(401, 'InvalidAuthenticationToken', 'Access token validation failure.');
  }
}

/** Fails with 403 unless the caller holds one of the permissions. */
export function requireAny(caller: Caller, permissions: readonly Permission[]): void {
  if (!permissions.some((p) => caller.roles.has(p))) {
    throw new GraphError(
      403,
      'Authorization_RequestDenied',
      'Insufficient privileges to complete the operation.',
    );
  }
}

/** Who may do what (api.md's permission table); a ReadWrite permission includes its Read. */
export const ACCESS = {
  readUsers: ['User.Read.All', 'User.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'],
  writeUsers: ['User.ReadWrite.All', 'Directory.ReadWrite.All'],
  readGroups: ['Group.Read.All', 'Group.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'],
  writeGroups: ['Group.ReadWrite.All', 'Directory.ReadWrite.All'],
  readDevices: ['Device.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'],
  writeDevices: ['Device.ReadWrite.All', 'Directory.ReadWrite.All'],
  readOrganization: [
    'Organization.Read.All',
    'Directory.Read.All',
    'Directory.ReadWrite.All',
    'LicenseAssignment.ReadWrite.All',
  ],
  readDirectory: ['Directory.Read.All', 'Directory.ReadWrite.All'],
  assignUserLicenses: ['User.ReadWrite.All', 'LicenseAssignment.ReadWrite.All', 'Directory.ReadWrite.All'],
  assignGroupLicenses: ['Group.ReadWrite.All', 'LicenseAssignment.ReadWrite.All', 'Directory.ReadWrite.All'],
} as const satisfies Record<string, readonly Permission[]>;
