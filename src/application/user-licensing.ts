import { randomUUID } from 'node:crypto';
import {
  type AssignLicenseRequest,
  type ProxyAddressView,
  validateDirectLicenseChange,
} from '../engine/index.js';
import { requestAlertEvaluation } from './alerts.js';
import { applyChanges } from './changes.js';
import type { AppContext } from './context.js';
import { findUser, getPrincipal } from './directory.js';
import { LicensingRefusedError, NotFoundError } from './errors.js';
import { healReleased } from './healing.js';
import { mailboxHolder, updatePrincipals } from './principal-updates.js';
import type { PrincipalRecord } from './records.js';

/**
 * Direct `assignLicense` (rules.md §4): synchronous. Validated against the user's current state with Graph's
 * messages, then applied through the seat ledger. If a concurrent change took the last seat between the two, the
 * direct change is undone and the request refused as if validation had seen it.
 */
export async function assignUserLicenses(
  ctx: AppContext,
  tenantId: string,
  idOrUpn: string,
  request: AssignLicenseRequest,
): Promise<PrincipalRecord> {
  const user = await findUser(ctx, tenantId, idOrUpn);
  const partition = await ctx.tenants.partition(tenantId);
  if (!partition) throw new NotFoundError(tenantId);
  const proxyView = await proxyViewFor(ctx, tenantId, user);
  const change = validateDirectLicenseChange(
    {
      catalog: ctx.catalog,
      subscriptions: partition.subscriptions,
      user: {
        id: user.id,
        kind: 'user',
        usageLocation: user.usageLocation,
        proxyAddresses: user.proxyAddresses,
      },
      entries: user.entries,
      proxyAddresses: proxyView,
    },
    request,
  );
  if (!change.ok) throw new LicensingRefusedError(change.failure);

  const previous = user.directLicenses;
  const setDirect = (licenses: typeof change.value.licenses) => (record: PrincipalRecord, now: string) => {
    const since = new Map(record.directLicenses.map((d) => [d.skuId, d.since] as const));
    return { ...record, directLicenses: licenses.map((l) => ({ ...l, since: since.get(l.skuId) ?? now })) };
  };
  const result = await updatePrincipals(ctx, tenantId, [user.id], {
    reservationId: randomUUID(),
    mutate: setDirect(change.value.licenses),
    // The row and the partition just validated against: read again only if the write finds them changed.
    preloaded: new Map([[user.id, user]]),
    partition,
  });
  const updated = result.records.get(user.id) ?? user;
  const refused = [...change.value.added, ...change.value.updated]
    .map((skuId) => updated.entries.find((e) => e.assignedByGroup === null && e.skuId === skuId))
    .find((entry) => entry !== undefined && entry.state !== 'Active');
  if (refused) {
    await updatePrincipals(ctx, tenantId, [user.id], {
      reservationId: randomUUID(),
      mutate: (record) => ({ ...record, directLicenses: previous }),
    });
    const { failures } = await import('../engine/index.js');
    throw new LicensingRefusedError(
      refused.error === 'CountViolation'
        ? failures.noAvailableLicenses(refused.skuId)
        : failures.invalidUsageLocation(),
    );
  }
  await healReleased(ctx, tenantId, result.released);
  await ctx.audit.append(tenantId, [
    {
      activityDateTime: ctx.now().toISOString(),
      activityDisplayName: 'Change user license',
      category: 'UserManagement',
      initiatedBy: { app: { displayName: 'Graph API' } },
      operationType: 'Update',
      result: 'success',
      resultReason: '',
      targetResources: [
        {
          id: user.id,
          displayName: user.userPrincipalName,
          type: 'User',
          modifiedProperties: [
            {
              displayName: 'AssignedLicense',
              oldValue: JSON.stringify(
                previous.map((l) => ({ skuId: l.skuId, disabledPlans: l.disabledPlans })),
              ),
              newValue: JSON.stringify(change.value.licenses),
            },
          ],
        },
      ],
    },
  ]);
  // Seats moved (or the user now waits): an alert pass after the debounce.
  await requestAlertEvaluation(ctx, tenantId);
  return updated;
}

async function proxyViewFor(
  ctx: AppContext,
  tenantId: string,
  user: PrincipalRecord,
): Promise<ProxyAddressView> {
  if (!user.sharedProxy) return { isHeldByAnother: () => false };
  const holders = new Map<string, string | null>();
  for (const address of user.proxyAddresses) {
    let { holder } = await ctx.proxies.read(tenantId, address);
    if (holder !== null && holder !== user.id) holder = await mailboxHolder(ctx, tenantId, address);
    holders.set(address.toLowerCase(), holder);
  }
  return {
    isHeldByAnother: (address, principalId) => {
      const holder = holders.get(address);
      return holder !== undefined && holder !== null && holder !== principalId;
    },
  };
}

/** `reprocessLicenseAssignment` for a user: re-evaluate from its current facts, clearing errors that no longer apply. */
export async function reprocessUser(
  ctx: AppContext,
  tenantId: string,
  idOrUpn: string,
): Promise<PrincipalRecord> {
  const user = await findUser(ctx, tenantId, idOrUpn);
  const result = await updatePrincipals(ctx, tenantId, [user.id], {
    reservationId: randomUUID(),
    preloaded: new Map([[user.id, user]]),
  });
  await healReleased(ctx, tenantId, result.released);
  return result.records.get(user.id) ?? user;
}

/** Soft delete (rules.md §5): entries suspended, seats released, memberships kept for a restore. */
export async function softDeleteUser(ctx: AppContext, tenantId: string, idOrUpn: string): Promise<void> {
  const user = await findUser(ctx, tenantId, idOrUpn);
  await applyChanges(
    ctx,
    {
      kind: 'changes',
      tenantId,
      changes: [{ type: 'user', op: 'softDelete', userId: user.id }],
      origin: 'api',
    },
    randomUUID(),
  );
}

export async function restoreUser(ctx: AppContext, tenantId: string, id: string): Promise<PrincipalRecord> {
  const user = await getPrincipal(ctx, tenantId, id.toLowerCase(), 'user', { includeDeleted: true });
  if (user.deletedDateTime === null) throw new NotFoundError(id);
  await applyChanges(
    ctx,
    // Restored with its memberships; applyChanges also checks it against the dynamic groups' rules as they are now.
    { kind: 'changes', tenantId, changes: [{ type: 'user', op: 'restore', userId: user.id }], origin: 'api' },
    randomUUID(),
  );
  return getPrincipal(ctx, tenantId, user.id, 'user');
}

export async function hardDeleteUser(ctx: AppContext, tenantId: string, id: string): Promise<void> {
  const user = await getPrincipal(ctx, tenantId, id.toLowerCase(), 'user', { includeDeleted: true });
  if (user.deletedDateTime === null) throw new NotFoundError(id);
  await applyChanges(
    ctx,
    {
      kind: 'changes',
      tenantId,
      changes: [{ type: 'user', op: 'hardDelete', userId: user.id }],
      origin: 'api',
    },
    randomUUID(),
  );
}

/** Deleting a device releases its device seat (rules.md §5). Devices are not soft-deleted. */
export async function deleteDevice(ctx: AppContext, tenantId: string, id: string): Promise<void> {
  const device = await getPrincipal(ctx, tenantId, id.toLowerCase(), 'device');
  await applyChanges(
    ctx,
    {
      kind: 'changes',
      tenantId,
      changes: [{ type: 'user', op: 'hardDelete', userId: device.id }],
      origin: 'api',
    },
    randomUUID(),
  );
}
