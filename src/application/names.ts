import { nameReservationTimeoutMs } from '../config/tuning.js';
import { userNameKey } from '../storage/keys.js';
import { readPrincipal } from '../storage/principal-reads.js';
import { deleteIfExists, getRow, getString, isConflict } from '../storage/properties.js';
import type { AppContext } from './context.js';
import { RefusedError } from './errors.js';

/* User principal names: one per user in a tenant, held by a row of the names table keyed by the name. */

/** Reserves a user principal name for an id; the names table makes it unique per tenant. */
export async function reserveName(ctx: AppContext, tenantId: string, upn: string, id: string): Promise<void> {
  const key = userNameKey(tenantId, upn);
  const table = ctx.tables.namesFor(key.partitionKey);
  try {
    await table.createEntity({ ...key, id });
  } catch (error: unknown) {
    if (!isConflict(error)) throw error;
    if (!(await claimNameHeldByNobody(ctx, tenantId, key, id)))
      throw new RefusedError({ code: 'UserPrincipalNameTaken', userPrincipalName: upn });
  }
}

/**
 * Whether `id` holds a name that was found taken: already its own, or a stale reservation taken over. A name is
 * written before its user (different partitions, so no transaction holds both); a request that dies between the
 * two — a crash, a killed store — leaves the name pointing at a user that does not exist, and its retry would be
 * refused for ever. No request writes after the host's function timeout, so a name older than that whose user does
 * not exist is free: it is taken over with its ETag (one taker wins).
 */
export async function claimNameHeldByNobody(
  ctx: AppContext,
  tenantId: string,
  key: { readonly partitionKey: string; readonly rowKey: string },
  id: string,
): Promise<boolean> {
  const table = ctx.tables.namesFor(key.partitionKey);
  const row = await getRow(table, key.partitionKey, key.rowKey);
  if (!row) return false;
  const holder = getString(row, 'id');
  if (holder === id) return true;
  const reservedAt = Date.parse(getString(row, 'timestamp') ?? '');
  if (!Number.isFinite(reservedAt) || ctx.now().getTime() - reservedAt < nameReservationTimeoutMs())
    return false;
  if (holder !== undefined && (await readPrincipal(ctx.tables, tenantId, holder))) return false;
  try {
    await table.updateEntity({ ...key, id }, 'Replace', { etag: row.etag ?? '' });
    return true;
  } catch (error: unknown) {
    if (isConflict(error)) return false;
    throw error;
  }
}

export async function releaseName(ctx: AppContext, tenantId: string, upn: string): Promise<void> {
  const key = userNameKey(tenantId, upn);
  await deleteIfExists(ctx.tables.namesFor(key.partitionKey), key.partitionKey, key.rowKey);
}

/** The id a user principal name belongs to, if any. */
export async function resolveUserPrincipalName(
  ctx: AppContext,
  tenantId: string,
  upn: string,
): Promise<string | undefined> {
  const key = userNameKey(tenantId, upn);
  const row = await getRow(ctx.tables.namesFor(key.partitionKey), key.partitionKey, key.rowKey);
  return row ? getString(row, 'id') : undefined;
}
