// A user principal name is reserved before its user's row is written (names and users live in different
// partitions). A request that dies between the two leaves a name that points at nobody; once no request can still
// write it (the function timeout, 10 minutes), the name is free again — for Graph's POST /users and for the import.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createContext, type StorageContext } from '../../src/application/context.js';
import { createUser } from '../../src/application/directory.js';
import { RefusedError } from '../../src/application/errors.js';
import { importDirectory } from '../../src/application/import.js';
import { resolveUserPrincipalName } from '../../src/application/names.js';
import { userNameKey } from '../../src/storage/keys.js';
import { uniqueName } from '../support/index.js';
import { newTenant, productEnv } from './support.js';

/** The refusal of a name another user holds. */
const nameTaken = (error: unknown) =>
  error instanceof RefusedError && error.refusal.code === 'UserPrincipalNameTaken';

function contexts(): { now: StorageContext; later: StorageContext } {
  const prefix = uniqueName('n');
  const storage = productEnv(prefix).AzureWebJobsStorage ?? '';
  const now = createContext({ storage, storagePrefix: prefix });
  // The same storage, eleven minutes on: past the 10-minute function timeout.
  const later = createContext(
    { storage, storagePrefix: prefix },
    { now: () => new Date(Date.now() + 11 * 60_000) },
  );
  return { now, later };
}

const user = (upn: string) => ({
  displayName: 'Grace',
  userPrincipalName: upn,
  mailNickname: 'grace',
  accountEnabled: true,
});

async function orphanName(ctx: StorageContext, tenantId: string, upn: string): Promise<string> {
  const nobody = randomUUID();
  const key = userNameKey(tenantId, upn);
  await ctx.tables.namesFor(key.partitionKey).createEntity({ ...key, id: nobody });
  return nobody;
}

describe('a user principal name whose user was never written', () => {
  it('is refused while a request could still write its user, and free after the function timeout', async () => {
    const { now, later } = contexts();
    await now.ready;
    const tenantId = await newTenant(now);
    const nobody = await orphanName(now, tenantId, 'grace@contoso.test');

    await expect(createUser(now, tenantId, user('grace@contoso.test'))).rejects.toSatisfy(nameTaken);
    const created = await createUser(later, tenantId, user('grace@contoso.test'));
    expect(await resolveUserPrincipalName(now, tenantId, 'grace@contoso.test')).toBe(created.id);
    expect(created.id).not.toBe(nobody);
  });

  it('is taken over by a later import as well', async () => {
    const { now, later } = contexts();
    await now.ready;
    const tenantId = await newTenant(now);
    await orphanName(now, tenantId, 'ada@contoso.test');
    const line = {
      type: 'user',
      userPrincipalName: 'ada@contoso.test',
      displayName: 'Ada',
      usageLocation: 'US',
    };
    async function* once() {
      yield { line: 1, value: line };
    }
    const refused = await importDirectory(now, tenantId, once());
    expect(refused.errors).toEqual([
      { line: 1, code: 'UserPrincipalNameTaken', userPrincipalName: 'ada@contoso.test' },
    ]);
    const imported = await importDirectory(later, tenantId, once());
    expect(imported).toMatchObject({ users: 1, errors: [] });
  });

  it('stays taken, however old, while its user exists', async () => {
    const { now, later } = contexts();
    await now.ready;
    const tenantId = await newTenant(now);
    const holder = await createUser(now, tenantId, user('kept@contoso.test'));
    await expect(createUser(later, tenantId, user('kept@contoso.test'))).rejects.toSatisfy(nameTaken);
    expect(await resolveUserPrincipalName(now, tenantId, 'kept@contoso.test')).toBe(holder.id);
  });
});
