import { randomBytes, randomUUID } from 'node:crypto';
import {
  type LicenseErrorHealing,
  type PrepaidUnits,
  suspendedSkuIds,
  totalUnits,
  unitsBought,
  unitsInStage,
} from '../engine/index.js';
import { etagOf, retryOnConflict } from '../storage/optimistic.js';
import type { AppContext } from './context.js';
import { NotFoundError, RefusedError } from './errors.js';
import { healRequest } from './messages.js';
import type { SubscriptionRecord, TenantRecord } from './records.js';

/** What the tenant use cases need: the tenant store, the work queues (heal wake-ups), the catalog and a clock. */
export type TenantPorts = Pick<AppContext, 'tenants' | 'queues' | 'catalog' | 'now'>;

export interface NewTenant {
  readonly displayName: string;
  readonly countryLetterCode: string;
  readonly licenseErrorHealing?: LicenseErrorHealing;
}

export async function createTenant(ctx: TenantPorts, input: NewTenant): Promise<TenantRecord> {
  const tenant: TenantRecord = {
    id: randomUUID(),
    displayName: input.displayName,
    countryLetterCode: input.countryLetterCode.toUpperCase(),
    licenseErrorHealing: input.licenseErrorHealing ?? 'automatic',
    clientState: randomBytes(24).toString('base64url'),
    createdDateTime: ctx.now().toISOString(),
  };
  await ctx.tenants.create(tenant);
  return tenant;
}

/** The tenant, or undefined when there is none with this id. */
export async function findTenant(
  ctx: Pick<AppContext, 'tenants'>,
  tenantId: string,
): Promise<TenantRecord | undefined> {
  return ctx.tenants.read(tenantId);
}

/** Whether the tenant exists (tenants are never deleted). */
export async function tenantExists(ctx: Pick<AppContext, 'tenants'>, tenantId: string): Promise<boolean> {
  return (await ctx.tenants.read(tenantId)) !== undefined;
}

export async function getTenant(ctx: Pick<AppContext, 'tenants'>, tenantId: string): Promise<TenantRecord> {
  const tenant = await ctx.tenants.read(tenantId);
  if (!tenant) throw new NotFoundError(tenantId);
  return tenant;
}

/** How many tenants the operator listing reads at most (one page; the operator API has no paging). */
export const TENANT_LIST_LIMIT = 1000;

/**
 * The tenants by displayName (ties by id), for the operator listing. Reads at most `TENANT_LIST_LIMIT` of them,
 * in storage order (by id) before sorting: `truncated` says when more exist, so the cap is never silent.
 */
export async function listTenants(
  ctx: Pick<AppContext, 'tenants'>,
  limit = TENANT_LIST_LIMIT,
): Promise<{ tenants: TenantRecord[]; truncated: boolean }> {
  const ids: string[] = [];
  let truncated = false;
  for await (const id of ctx.tenants.ids()) {
    if (ids.length === limit) {
      truncated = true;
      break;
    }
    ids.push(id);
  }
  const tenants: TenantRecord[] = [];
  // Point reads, a few dozen at a time: enough to be quick, few enough not to crowd the storage account.
  for (let i = 0; i < ids.length; i += 50) {
    const read = await Promise.all(ids.slice(i, i + 50).map((id) => ctx.tenants.read(id)));
    for (const tenant of read) if (tenant) tenants.push(tenant);
  }
  const byName = new Intl.Collator('en', { sensitivity: 'base', numeric: true });
  tenants.sort((a, b) => byName.compare(a.displayName, b.displayName) || (a.id < b.id ? -1 : 1));
  return { tenants, truncated };
}

export async function updateTenant(
  ctx: TenantPorts,
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
    return { before: tenant, next: await ctx.tenants.replace(changed) };
  });
  if (next.licenseErrorHealing === 'automatic' && before.licenseErrorHealing !== 'automatic') {
    const partition = await ctx.tenants.partition(tenantId);
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
  ctx: TenantPorts,
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
    const partition = await ctx.tenants.partition(tenantId);
    if (!partition) throw new NotFoundError(tenantId);
    const current = partition.subscriptions.get(sku.skuId);
    const next: SubscriptionRecord = {
      ...current,
      skuId: sku.skuId,
      // A subscription with a lifecycle keeps every unit in its stage's bucket (engine subscriptions.ts).
      prepaidUnits: current?.lifecycle ? unitsInStage(unitsBought(units), current.lifecycle.state) : units,
      consumedUnits: current?.consumedUnits ?? 0,
      createdDateTime: current?.createdDateTime ?? ctx.now().toISOString(),
    };
    const saved = await ctx.tenants.saveSubscription(
      tenantId,
      current ? { ...next, etag: etagOf(current, what) } : next,
    );
    const before = current ? totalUnits(current.prepaidUnits) : 0;
    const healing = partition.tenant.licenseErrorHealing === 'automatic';
    return { next: saved, moreUnits: totalUnits(saved.prepaidUnits) > before && healing };
  });
  if (written.moreUnits) await ctx.queues.send('heal', healRequest(tenantId, sku.skuId, ctx.now()));
  return written.next;
}

export async function listSubscriptions(ctx: TenantPorts, tenantId: string): Promise<SubscriptionRecord[]> {
  const partition = await ctx.tenants.partition(tenantId);
  if (!partition) throw new NotFoundError(tenantId);
  return [...partition.subscriptions.values()].sort((a, b) => (a.skuId < b.skuId ? -1 : 1));
}

/** The SKUs whose subscription is in its Suspended stage: their holders' plans show `Suspended` (read time). */
export async function suspendedSkus(
  ctx: Pick<AppContext, 'tenants'>,
  tenantId: string,
): Promise<Set<string>> {
  const partition = await ctx.tenants.partition(tenantId);
  return suspendedSkuIds(partition?.subscriptions.values() ?? []);
}
