import { randomUUID } from 'node:crypto';
import type { AppContext } from './context.js';
import { updatePrincipals } from './principal-updates.js';
import type { PrincipalRecord } from './records.js';

/**
 * Records a user's proxy addresses and flags every user that now shares one with someone else (or no longer
 * does): only flagged users are checked for uniqueness when their licenses are evaluated.
 */
export async function registerProxyAddresses(
  ctx: AppContext,
  tenantId: string,
  user: PrincipalRecord,
  previous: readonly string[],
): Promise<PrincipalRecord | undefined> {
  const current = user.proxyAddresses;
  if (previous.length === 0 && current.length === 0) return undefined;
  const sharing = await ctx.proxies.register(tenantId, user.id, previous, current);
  const affected = new Set<string>([user.id]);
  for (const users of sharing.values()) for (const u of users) affected.add(u);
  const currentLower = new Set(current.map((a) => a.toLowerCase()));
  let updated: PrincipalRecord | undefined;
  for (const id of affected) {
    const shares = await sharesAnAddress(ctx, tenantId, id, id === user.id ? [...currentLower] : undefined);
    // Most users share nothing and already say so: no write. Others are re-evaluated with the new flag (and
    // the new owners of an address may now get a mailbox).
    if (id === user.id && shares === user.sharedProxy && users(sharing).size <= 1 && previous.length === 0)
      continue;
    const result = await updatePrincipals(ctx, tenantId, [id], {
      reservationId: randomUUID(),
      mutate: (record) => (record.sharedProxy === shares ? record : { ...record, sharedProxy: shares }),
    });
    if (id === user.id) updated = result.records.get(id);
  }
  return updated;
}

function users(sharing: ReadonlyMap<string, readonly string[]>): Set<string> {
  const all = new Set<string>();
  for (const list of sharing.values()) for (const u of list) all.add(u);
  return all;
}

async function sharesAnAddress(
  ctx: AppContext,
  tenantId: string,
  userId: string,
  addresses?: string[],
): Promise<boolean> {
  const list = addresses ?? (await ctx.directory.principal(tenantId, userId))?.proxyAddresses ?? [];
  for (const address of list) {
    const row = await ctx.proxies.read(tenantId, address);
    if (row.users.some((u) => u !== userId)) return true;
  }
  return false;
}
