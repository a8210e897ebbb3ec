import { nameReservationTimeoutMs } from '../config/tuning.js';
import type { AppContext } from './context.js';
import { RefusedError } from './errors.js';

/* User principal names: one per user in a tenant, held in the name registry. */

/** What the name use cases need. */
export type NamePorts = Pick<AppContext, 'names' | 'directory' | 'now'>;

/** Reserves a user principal name for an id; refused when another user holds it. */
export async function reserveName(ctx: NamePorts, tenantId: string, upn: string, id: string): Promise<void> {
  if (await ctx.names.reserve(tenantId, upn, id)) return;
  if (!(await claimNameHeldByNobody(ctx, tenantId, upn, id)))
    throw new RefusedError({ code: 'UserPrincipalNameTaken', userPrincipalName: upn });
}

/**
 * Whether `id` holds a name that was found taken: already its own, or a stale reservation taken over. A name is
 * written before its user (different partitions, so no transaction holds both); a request that dies between the
 * two — a crash, a killed store — leaves the name pointing at a user that does not exist, and its retry would be
 * refused for ever. No request writes after the host's function timeout, so a name older than that whose user does
 * not exist is free: it is taken over conditionally on what was read (one taker wins).
 */
export async function claimNameHeldByNobody(
  ctx: NamePorts,
  tenantId: string,
  upn: string,
  id: string,
): Promise<boolean> {
  const holding = await ctx.names.read(tenantId, upn);
  if (!holding) return false;
  if (holding.id === id) return true;
  const reservedAt = Date.parse(holding.writtenAt ?? '');
  if (!Number.isFinite(reservedAt) || ctx.now().getTime() - reservedAt < nameReservationTimeoutMs())
    return false;
  if (holding.id !== undefined && (await ctx.directory.principal(tenantId, holding.id))) return false;
  return ctx.names.takeOver(tenantId, upn, holding, id);
}

export async function releaseName(ctx: NamePorts, tenantId: string, upn: string): Promise<void> {
  await ctx.names.release(tenantId, upn);
}

/** The id a user principal name belongs to, if any. */
export async function resolveUserPrincipalName(
  ctx: NamePorts,
  tenantId: string,
  upn: string,
): Promise<string | undefined> {
  return (await ctx.names.read(tenantId, upn))?.id;
}
