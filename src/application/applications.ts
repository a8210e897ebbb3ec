// App registrations and client-credentials sign-in, as Entra ID has them: an app registered in a tenant, granted
// application permissions (roles), holding secrets; a script signs in with the app's id and a secret and gets a
// token for Microsoft Graph carrying those roles (docs/api.md, "Sign-in").
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { AppContext } from './context.js';
import { NotFoundError, RefusedError } from './errors.js';
import type { ApplicationRecord, PasswordCredentialRecord } from './records.js';
import { getTenant } from './tenants.js';

/** What the app-registration use cases need: the identity store, the tenants and a clock. */
export type ApplicationPorts = Pick<AppContext, 'identity' | 'tenants' | 'now'>;

/** Entra lets an app hold a few secrets at once, to rotate without downtime. */
export const MAX_SECRETS_PER_APPLICATION = 10;
/** Graph's addPassword default: two years. */
const DEFAULT_SECRET_LIFETIME_MS = 2 * 365 * 86_400_000;

/** A secret as created: the only time its text exists outside the caller. */
export interface NewPasswordCredential extends Omit<PasswordCredentialRecord, 'secretHash'> {
  readonly secretText: string;
}

export interface NewApplication {
  readonly displayName: string;
  readonly roles: readonly string[];
}

export interface NewSecret {
  readonly displayName?: string | null;
  readonly endDateTime?: string;
}

function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('base64');
}

/**
 * A secret shaped like Entra's (`abc8Q~` + 34 characters, 40 in all): the first three characters are the hint
 * shown later, the rest is 200+ bits of randomness.
 */
function newSecret(
  ctx: ApplicationPorts,
  input: NewSecret,
): { record: PasswordCredentialRecord; text: string } {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.~';
  const random = (n: number) => Array.from(randomBytes(n), (byte) => alphabet[byte % 64] ?? 'A').join('');
  const hint = random(3);
  const text = `${hint}8Q~${random(34)}`;
  const start = ctx.now();
  const end = input.endDateTime ?? new Date(start.getTime() + DEFAULT_SECRET_LIFETIME_MS).toISOString();
  if (Date.parse(end) <= start.getTime()) throw new RefusedError({ code: 'SecretEndsInThePast' });
  return {
    text,
    record: {
      keyId: randomUUID(),
      displayName: input.displayName ?? null,
      hint,
      secretHash: hashSecret(text),
      startDateTime: start.toISOString(),
      endDateTime: new Date(end).toISOString(),
    },
  };
}

function withoutHash(record: PasswordCredentialRecord, text: string): NewPasswordCredential {
  const { secretHash: _hash, ...rest } = record;
  return { ...rest, secretText: text };
}

export async function createApplication(
  ctx: ApplicationPorts,
  tenantId: string,
  input: NewApplication & { readonly secret?: NewSecret },
): Promise<{ application: ApplicationRecord; secret: NewPasswordCredential }> {
  await getTenant(ctx, tenantId);
  const secret = newSecret(ctx, input.secret ?? { displayName: 'Created with the application' });
  const application: ApplicationRecord = {
    tenantId,
    appId: randomUUID(),
    id: randomUUID(),
    displayName: input.displayName,
    roles: [...new Set(input.roles)],
    passwordCredentials: [secret.record],
    createdDateTime: ctx.now().toISOString(),
  };
  await ctx.identity.createApplication(application);
  return { application, secret: withoutHash(secret.record, secret.text) };
}

export async function getApplication(
  ctx: ApplicationPorts,
  tenantId: string,
  appId: string,
): Promise<ApplicationRecord> {
  await getTenant(ctx, tenantId);
  const application = await ctx.identity.readApplication(tenantId, appId);
  if (!application) throw new NotFoundError(appId);
  return application;
}

export async function listApplications(
  ctx: ApplicationPorts,
  tenantId: string,
): Promise<ApplicationRecord[]> {
  await getTenant(ctx, tenantId);
  return ctx.identity.listApplications(tenantId);
}

/** Renames an app or changes its permissions; tokens already issued keep theirs until they expire, as in Entra. */
export async function updateApplication(
  ctx: ApplicationPorts,
  tenantId: string,
  appId: string,
  patch: Partial<NewApplication>,
): Promise<ApplicationRecord> {
  const current = await getApplication(ctx, tenantId, appId);
  const next: ApplicationRecord = {
    ...current,
    ...(patch.displayName === undefined ? {} : { displayName: patch.displayName }),
    ...(patch.roles === undefined ? {} : { roles: [...new Set(patch.roles)] }),
  };
  await ctx.identity.replaceApplication(next);
  return next;
}

export async function deleteApplication(
  ctx: ApplicationPorts,
  tenantId: string,
  appId: string,
): Promise<void> {
  await getTenant(ctx, tenantId);
  if (!(await ctx.identity.deleteApplication(tenantId, appId))) throw new NotFoundError(appId);
}

/** Graph's `addPassword`: a new secret beside the others (rotation: add, switch the client, remove the old one). */
export async function addPassword(
  ctx: ApplicationPorts,
  tenantId: string,
  appId: string,
  input: NewSecret,
): Promise<NewPasswordCredential> {
  const current = await getApplication(ctx, tenantId, appId);
  if (current.passwordCredentials.length >= MAX_SECRETS_PER_APPLICATION) {
    throw new RefusedError({ code: 'TooManySecrets', limit: MAX_SECRETS_PER_APPLICATION });
  }
  const secret = newSecret(ctx, input);
  await ctx.identity.replaceApplication({
    ...current,
    passwordCredentials: [...current.passwordCredentials, secret.record],
  });
  return withoutHash(secret.record, secret.text);
}

/** Graph's `removePassword`: the secret stops working at once. */
export async function removePassword(
  ctx: ApplicationPorts,
  tenantId: string,
  appId: string,
  keyId: string,
): Promise<void> {
  const current = await getApplication(ctx, tenantId, appId);
  const kept = current.passwordCredentials.filter((p) => p.keyId !== keyId.toLowerCase());
  if (kept.length === current.passwordCredentials.length) throw new NotFoundError(keyId);
  await ctx.identity.replaceApplication({ ...current, passwordCredentials: kept });
}

/** Why a client-credentials sign-in was refused; the HTTP edge words it as Entra does (AADSTS codes). */
export type SignInFailure =
  | 'unknownTenant'
  | 'unknownApplication'
  | 'invalidSecret'
  | 'expiredSecret'
  | 'missingSecret';

export class SignInRefusedError extends Error {
  constructor(
    readonly failure: SignInFailure,
    readonly tenantId: string,
    readonly appId: string,
  ) {
    super(`Sign-in of application '${appId}' in tenant '${tenantId}' refused: ${failure}`);
    this.name = 'SignInRefusedError';
  }
}

/**
 * Checks an app's id and secret (client credentials). Every secret of the app is compared in constant time, so
 * the time taken does not tell which one nearly matched.
 */
export async function signInWithSecret(
  ctx: ApplicationPorts,
  tenantId: string,
  appId: string,
  secret: string,
): Promise<ApplicationRecord> {
  if (!(await ctx.tenants.read(tenantId))) throw new SignInRefusedError('unknownTenant', tenantId, appId);
  const application = await ctx.identity.readApplication(tenantId, appId);
  if (!application) throw new SignInRefusedError('unknownApplication', tenantId, appId);
  if (secret === '') throw new SignInRefusedError('missingSecret', tenantId, appId);
  const given = Buffer.from(hashSecret(secret));
  const match = application.passwordCredentials.find((p) => {
    const stored = Buffer.from(p.secretHash);
    return stored.length === given.length && timingSafeEqual(stored, given);
  });
  if (!match) throw new SignInRefusedError('invalidSecret', tenantId, appId);
  const now = ctx.now().getTime();
  if (Date.parse(match.endDateTime) <= now || Date.parse(match.startDateTime) > now + 300_000) {
    throw new SignInRefusedError('expiredSecret', tenantId, appId);
  }
  return application;
}
