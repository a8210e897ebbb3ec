// App registrations and client-credentials sign-in (src/application/applications.ts) on the in-memory ports, with
// a clock the test moves: secrets expire, rotate and stop working without waiting for real time to pass.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  type ApplicationPorts,
  addPassword,
  createApplication,
  deleteApplication,
  getApplication,
  listApplications,
  MAX_SECRETS_PER_APPLICATION,
  removePassword,
  SignInRefusedError,
  signInWithSecret,
  updateApplication,
} from '../../src/application/applications.js';
import { NotFoundError, type RefusedError, StorageContentionError } from '../../src/application/errors.js';
import type { TenantRecord } from '../../src/application/records.js';
import { InMemoryIdentityStore, InMemoryTenantStore } from '../support/in-memory-stores.js';

const DAY = 86_400_000;

function tenant(id: string): TenantRecord {
  return {
    id,
    displayName: 'Contoso',
    countryLetterCode: 'US',
    licenseErrorHealing: 'automatic',
    clientState: 'secret',
    createdDateTime: '2026-03-01T10:00:00.000Z',
  };
}

async function setUp() {
  const clock = { now: Date.parse('2026-03-01T10:00:00.000Z') };
  const tenants = new InMemoryTenantStore();
  const tenantId = randomUUID();
  await tenants.create(tenant(tenantId));
  const ctx: ApplicationPorts = {
    identity: new InMemoryIdentityStore(),
    tenants,
    now: () => new Date(clock.now),
  };
  return { ctx, clock, tenantId };
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof SignInRefusedError))
    throw new Error(`expected a refused sign-in, got ${String(error)}`);
  return error.failure;
}

describe('app registrations', () => {
  it('creates an app with a secret shown once, stored only as a hash, that signs in', async () => {
    const { ctx, tenantId } = await setUp();
    const { application, secret } = await createApplication(ctx, tenantId, {
      displayName: 'Provisioning script',
      roles: ['User.ReadWrite.All', 'User.ReadWrite.All', 'Group.Read.All'],
    });
    expect(application.roles).toEqual(['User.ReadWrite.All', 'Group.Read.All']);
    expect(secret.secretText).toMatch(/^.{3}8Q~.{34}$/);
    expect(secret.hint).toBe(secret.secretText.slice(0, 3));
    const stored = await getApplication(ctx, tenantId, application.appId);
    expect(JSON.stringify(stored)).not.toContain(secret.secretText);
    const signedIn = await signInWithSecret(ctx, tenantId, application.appId, secret.secretText);
    expect(signedIn.id).toBe(application.id);
  });

  it('refuses sign-ins for what does not exist, an empty or wrong secret, and a secret out of its dates', async () => {
    const { ctx, clock, tenantId } = await setUp();
    const { application, secret } = await createApplication(ctx, tenantId, { displayName: 'App', roles: [] });
    const { appId } = application;
    expect(await refusal(signInWithSecret(ctx, randomUUID(), appId, secret.secretText))).toBe(
      'unknownTenant',
    );
    expect(await refusal(signInWithSecret(ctx, tenantId, randomUUID(), secret.secretText))).toBe(
      'unknownApplication',
    );
    expect(await refusal(signInWithSecret(ctx, tenantId, appId, ''))).toBe('missingSecret');
    expect(await refusal(signInWithSecret(ctx, tenantId, appId, `${secret.secretText}x`))).toBe(
      'invalidSecret',
    );

    const shortLived = await addPassword(ctx, tenantId, appId, {
      endDateTime: new Date(clock.now + DAY).toISOString(),
    });
    await signInWithSecret(ctx, tenantId, appId, shortLived.secretText);
    clock.now += 2 * DAY;
    expect(await refusal(signInWithSecret(ctx, tenantId, appId, shortLived.secretText))).toBe(
      'expiredSecret',
    );
    await signInWithSecret(ctx, tenantId, appId, secret.secretText); // the default two years still run
  });

  it('rotates: a second secret works beside the first, the removed one stops at once', async () => {
    const { ctx, tenantId } = await setUp();
    const { application, secret: first } = await createApplication(ctx, tenantId, {
      displayName: 'App',
      roles: [],
    });
    const second = await addPassword(ctx, tenantId, application.appId, { displayName: 'rotation' });
    await signInWithSecret(ctx, tenantId, application.appId, first.secretText);
    await signInWithSecret(ctx, tenantId, application.appId, second.secretText);
    await removePassword(ctx, tenantId, application.appId, first.keyId.toUpperCase());
    expect(await refusal(signInWithSecret(ctx, tenantId, application.appId, first.secretText))).toBe(
      'invalidSecret',
    );
    await signInWithSecret(ctx, tenantId, application.appId, second.secretText);
    await expect(removePassword(ctx, tenantId, application.appId, first.keyId)).rejects.toBeInstanceOf(
      NotFoundError,
    );
  });

  it('refuses more secrets than Entra allows, and a secret that ends before it starts', async () => {
    const { ctx, clock, tenantId } = await setUp();
    const { application } = await createApplication(ctx, tenantId, { displayName: 'App', roles: [] });
    for (let i = 1; i < MAX_SECRETS_PER_APPLICATION; i++)
      await addPassword(ctx, tenantId, application.appId, {});
    const tooMany = await addPassword(ctx, tenantId, application.appId, {}).catch((e: unknown) => e);
    expect((tooMany as RefusedError).refusal).toEqual({
      code: 'TooManySecrets',
      limit: MAX_SECRETS_PER_APPLICATION,
    });
    const past = await createApplication(ctx, tenantId, {
      displayName: 'Late',
      roles: [],
      secret: { endDateTime: new Date(clock.now - 1).toISOString() },
    }).catch((e: unknown) => e);
    expect((past as RefusedError).refusal).toEqual({ code: 'SecretEndsInThePast' });
    expect((await listApplications(ctx, tenantId)).map((a) => a.displayName)).toEqual(['App']);
  });

  it('updates, lists oldest first and deletes; another tenant’s app is never found', async () => {
    const { ctx, clock, tenantId } = await setUp();
    const { application: first } = await createApplication(ctx, tenantId, {
      displayName: 'First',
      roles: [],
    });
    clock.now += 1000;
    await createApplication(ctx, tenantId, { displayName: 'Second', roles: [] });
    const renamed = await updateApplication(ctx, tenantId, first.appId, { roles: ['Group.Read.All'] });
    expect(renamed).toMatchObject({ displayName: 'First', roles: ['Group.Read.All'] });
    expect((await listApplications(ctx, tenantId)).map((a) => a.displayName)).toEqual(['First', 'Second']);

    const other = randomUUID();
    await ctx.tenants.create(tenant(other));
    await expect(getApplication(ctx, other, first.appId)).rejects.toBeInstanceOf(NotFoundError);
    await expect(deleteApplication(ctx, other, first.appId)).rejects.toBeInstanceOf(NotFoundError);

    await deleteApplication(ctx, tenantId, first.appId);
    await expect(getApplication(ctx, tenantId, first.appId)).rejects.toBeInstanceOf(NotFoundError);
    await expect(listApplications(ctx, randomUUID())).rejects.toBeInstanceOf(NotFoundError);
  });

  it('tells the caller to retry when the app changed between its read and its write', async () => {
    const { ctx, tenantId } = await setUp();
    const { application } = await createApplication(ctx, tenantId, { displayName: 'App', roles: [] });
    const racing = await Promise.allSettled([
      updateApplication(ctx, tenantId, application.appId, { displayName: 'One' }),
      updateApplication(ctx, tenantId, application.appId, { displayName: 'Two' }),
    ]);
    const failed = racing.filter((r) => r.status === 'rejected');
    expect(failed).toHaveLength(1);
    expect((failed[0] as PromiseRejectedResult).reason).toBeInstanceOf(StorageContentionError);
  });
});
