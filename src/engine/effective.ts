import type { Catalog } from './catalog.js';
import type { AssignedLicense, AssignedPlan, EffectiveLicenses, Guid, LicenseEntry } from './model.js';

/**
 * Does this entry hold a seat? Granted entries do, and so does a source kept in `DependencyViolation` on removal
 * (rules.md §3: "the seat stays consumed").
 */
export function holdsSeat(entry: LicenseEntry): boolean {
  return entry.state === 'Active' || (entry.state === 'Error' && entry.error === 'DependencyViolation');
}

/** The SKUs a principal consumes a seat of: one per SKU, however many sources give it. */
export function heldSkuIds(entries: readonly LicenseEntry[]): Set<Guid> {
  const held = new Set<Guid>();
  for (const entry of entries) if (holdsSeat(entry)) held.add(entry.skuId);
  return held;
}

/**
 * `assignedLicenses` and `assignedPlans` from the entries (rules.md §3 "Effective licenses"): one license per
 * SKU with a holding source, whose disabled plans are the intersection of those sources' disabled plans. A
 * soft-deleted principal's `Disabled` entries show as suspended licenses (§5), and so do the plans of SKUs whose
 * subscription is in its Suspended stage (`suspendedSkus`, subscriptions.ts: the seat is kept, the service is not).
 */
export function effectiveLicenses(
  catalog: Catalog,
  entries: readonly LicenseEntry[],
  suspendedSkus: ReadonlySet<Guid> = new Set(),
): EffectiveLicenses {
  const disabledBySku = new Map<Guid, Set<Guid>>();
  let suspended = false;
  for (const entry of entries) {
    const counts = holdsSeat(entry) || entry.state === 'Disabled';
    if (!counts) continue;
    if (entry.state === 'Disabled') suspended = true;
    const current = disabledBySku.get(entry.skuId);
    if (current === undefined) {
      disabledBySku.set(entry.skuId, new Set(entry.disabledPlans));
    } else {
      for (const plan of current) if (!entry.disabledPlans.includes(plan)) current.delete(plan);
    }
  }
  const assignedLicenses: AssignedLicense[] = [];
  const assignedPlans: AssignedPlan[] = [];
  const skuIds = [...disabledBySku.keys()].sort();
  for (const skuId of skuIds) {
    const disabled = disabledBySku.get(skuId) ?? new Set<Guid>();
    const disabledPlans = [...disabled].sort();
    assignedLicenses.push({ skuId, disabledPlans });
    for (const servicePlanId of catalog.enabledPlans(skuId, disabledPlans)) {
      const status = suspended || suspendedSkus.has(skuId) ? 'Suspended' : 'Enabled';
      assignedPlans.push({ servicePlanId, skuId, capabilityStatus: status });
    }
  }
  return { assignedLicenses, assignedPlans };
}

/** The enabled plans of every holding entry, as one set. */
export function heldPlanIds(catalog: Catalog, entries: readonly LicenseEntry[]): Set<Guid> {
  const plans = new Set<Guid>();
  for (const license of effectiveLicenses(catalog, entries).assignedLicenses) {
    for (const plan of catalog.enabledPlans(license.skuId, license.disabledPlans)) plans.add(plan);
  }
  return plans;
}
