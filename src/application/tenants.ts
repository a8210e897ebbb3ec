import { randomBytes, randomUUID } from 'node:crypto';
import { type LicenseErrorHealing, type PrepaidUnits, totalUnits } from '../engine/index.js';
import { etagOf, retryOnConflict } from '../storage/optimistic.js';
import {
  encodeSubscription,
  encodeTenant,
  readTenant,
  readTenantPartition,
  type SubscriptionRecord,
  type TenantRecord,
} from '../storage/tenant-records.js';
import type { AppContext } from './context.js';
import { NotFoundError, RefusedError } from './errors.js';
import { healRequest } from './messages.js';

export interface NewTenant {
  readonly displayName: string;
  readonly countryLetterCode: string;
  readonly licenseErrorHealing?: LicenseErrorHealing;
}

export async function createTenant(ctx: AppContext, input: NewTenant): Promise<TenantRecord> {
  const tenant: TenantRecord = {
    id: randomUUID(),
    displayName: input.displayName,
    countryLetterCode: input.countryLetterCode.toUpperCase(),
    licenseErrorHealing: input.licenseErrorHealing ?? 'automatic',
    clientState: randomBytes(24).toString('base64url'),
    createdDateTime: ctx.now().toISOString(),
  };
  await ctx.tables.tenants.createEntity(encodeTenant(tenant));
  return tenant;
}

/** The tenant, or undefined when there is none with this id. */
export async function findTenant(ctx: AppContext, tenantId: string): Promise<TenantRecord | undefined> {
  return readTenant(ctx.tables, tenantId);
}

/** Whether the tenant exists (tenants are never deleted). */
export async function tenantExists(ctx: AppContext, tenantId: string): Promise<boolean> {
  return (await readTenant(ctx.tables, tenantId)) !== undefined;
}

export async function getTenant(ctx: AppContext, tenantId: string): Promise<TenantRecord> {
  const tenant = await readTenant(ctx.tables, tenantId);
  if (!tenant) throw new NotFoundError(tenantId);
  return tenant;
}

export async function updateTenant(
  ctx: AppContext,
  tenantId: string,
  patch: Partial<Pick<TenantRecord, 'displayName' | 'countryLetterCode' | 'licenseErrorHealing'>>,
): Promise<TenantRecord> {
  const { before, next } = await retryOnConflict(`tenant ${tenantId}`, async () => {
    const tenant = await getTenant(ctx, tenantId);
    const changed: TenantRecord = {
      ...tenant,
      ...patch,
      countryLetterCode: (patch.countryLetterCode ?? tenant.countryLetterCode).toUpperCase(),
    };
    await ctx.tables.tenants.updateEntity(encodeTenant(changed), 'Replace', {
      etag: etagOf(tenant, `tenant ${tenantId}`),
    });
    return { before: tenant, next: changed };
  });
  if (next.licenseErrorHealing === 'automatic' && before.licenseErrorHealing !== 'automatic') {
    const partition = await readTenantPartition(ctx.tables, tenantId);
    await ctx.queues.sendAll(
      'heal',
      [...(partition?.subscriptions.keys() ?? [])].map((skuId) => healRequest(tenantId, skuId, ctx.now())),
    );
  }
  return next;
}

/**
 * Buys (or gives back) units of a SKU. Lowering below what is consumed revokes nothing (rules.md §1); more units
 * wake the waiting room when healing is automatic.
 */
export async function setSubscription(
  ctx: AppContext,
  tenantId: string,
  skuIdOrPartNumber: string,
  units: PrepaidUnits,
): Promise<SubscriptionRecord> {
  const sku =
    ctx.catalog.sku(skuIdOrPartNumber.toLowerCase()) ?? ctx.catalog.skuByPartNumber(skuIdOrPartNumber);
  if (!sku) {
    throw new RefusedError({ code: 'SkuNotInCatalog', sku: skuIdOrPartNumber });
  }
  const what = `subscription ${sku.skuId} of tenant ${tenantId}`;
  const written = await retryOnConflict(what, async () => {
    const partition = await readTenantPartition(ctx.tables, tenantId);
    if (!partition) throw new NotFoundError(tenantId);
    const current = partition.subscriptions.get(sku.skuId);
    const next: SubscriptionRecord = {
      skuId: sku.skuId,
      prepaidUnits: units,
      consumedUnits: current?.consumedUnits ?? 0,
      createdDateTime: current?.createdDateTime ?? ctx.now().toISOString(),
    };
    const entity = encodeSubscription(tenantId, next);
    const response = current
      ? await ctx.tables.tenants.updateEntity(entity, 'Replace', { etag: etagOf(current, what) })
      : await ctx.tables.tenants.createEntity(entity);
    const before = current ? totalUnits(current.prepaidUnits) : 0;
    const healing = partition.tenant.licenseErrorHealing === 'automatic';
    return { next: { ...next, etag: response.etag }, moreUnits: totalUnits(units) > before && healing };
  });
  if (written.moreUnits) await ctx.queues.send('heal', healRequest(tenantId, sku.skuId, ctx.now()));
  return written.next;
}

export async function listSubscriptions(ctx: AppContext, tenantId: string): Promise<SubscriptionRecord[]> {
  const partition = await readTenantPartition(ctx.tables, tenantId);
  if (!partition) throw new NotFoundError(tenantId);
  return [...partition.subscriptions.values()].sort((a, b) => (a.skuId < b.skuId ? -1 : 1));
}
