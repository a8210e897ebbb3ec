// What each license error means to an admin, and what to do about it (the admin center's wording, extended with
// the fix — the catalog's rules name the plans involved).
import type { CatalogSku } from './api.js';

export interface CatalogRules {
  readonly mutuallyExclusive: readonly (readonly [string, string])[];
  readonly dependencies: readonly {
    readonly servicePlanId: string;
    readonly requiresAnyOf: readonly string[];
  }[];
  readonly prohibitedUsageLocations: {
    readonly allPlans: readonly string[];
    readonly byPlan: readonly { readonly servicePlanId: string; readonly countries: readonly string[] }[];
  };
}

export interface Catalog {
  readonly skus: readonly CatalogSku[];
  readonly rules: CatalogRules | undefined;
}

export function skuName(catalog: Catalog | undefined, skuId: string): string {
  return catalog?.skus.find((sku) => sku.skuId === skuId)?.displayName ?? skuId;
}

export function planName(catalog: Catalog | undefined, planId: string): string {
  for (const sku of catalog?.skus ?? []) {
    const plan = sku.servicePlans.find((p) => p.servicePlanId === planId);
    if (plan) return plan.servicePlanName;
  }
  return planId;
}

/** The error types as the admin center names them. */
export const ERROR_TITLES: Readonly<Record<string, string>> = {
  CountViolation: 'Not enough licenses',
  MutuallyExclusiveViolation: 'Conflicting service plans',
  DependencyViolation: 'Other products depend on this license',
  ProhibitedInUsageLocationViolation: 'Usage location isn’t allowed',
  UniquenessViolation: 'Duplicate proxy addresses',
  Other: 'Other',
};

export function errorTitle(error: string): string {
  return ERROR_TITLES[error] ?? error;
}

interface Holding {
  readonly skuId: string;
  readonly disabledPlans: readonly string[];
}

function enabledPlans(catalog: Catalog, holding: Holding): string[] {
  const sku = catalog.skus.find((s) => s.skuId === holding.skuId);
  return (sku?.servicePlans ?? [])
    .map((p) => p.servicePlanId)
    .filter((id) => !holding.disabledPlans.includes(id));
}

/**
 * Why a principal's license `failing` is in `error`, and the fix, in plain words. `others` are the principal's other
 * licenses (the plans they bring are what a conflict or a dependency is about).
 */
export function explainError(
  catalog: Catalog | undefined,
  error: string,
  failing: Holding,
  others: readonly Holding[],
  usageLocation?: string | null,
): { reason: string; fix: string } {
  const product = skuName(catalog, failing.skuId);
  switch (error) {
    case 'CountViolation':
      return {
        reason: `Every ${product} license the organization owns is in use.`,
        fix: 'Buy more licenses, or remove the product from other users. Waiting users get a seat in the order they asked for one when seats free up.',
      };
    case 'MutuallyExclusiveViolation': {
      const conflicts = catalog?.rules ? conflictingPlans(catalog, failing, others) : [];
      const named = conflicts.map(
        (c) =>
          `${planName(catalog, c.plan)} conflicts with ${planName(catalog, c.other)} in ${skuName(catalog, c.otherSku)}`,
      );
      return {
        reason:
          named.length > 0
            ? `${product} can’t be added: ${named.join('; ')}.`
            : `A service plan of ${product} conflicts with a plan of another license.`,
        fix: 'Turn off one of the conflicting service plans in the assignment options of either license, or remove the other license.',
      };
    }
    case 'DependencyViolation':
      return {
        reason: `A service plan depends on a plan of ${product}, so it can’t be removed or turned off while that plan is in use.`,
        fix: 'Remove or turn off the dependent service plan first, then change this license.',
      };
    case 'ProhibitedInUsageLocationViolation':
      return {
        reason: usageLocation
          ? `Some service plans of ${product} aren’t available in the usage location ${usageLocation}.`
          : `The user has no usage location, and the organization’s default doesn’t allow ${product}.`,
        fix: 'Set a usage location where the product is available, or turn off the unavailable service plans.',
      };
    case 'UniquenessViolation':
      return {
        reason:
          'Another mailbox already uses one of this user’s proxy addresses, so the Exchange plan can’t be provisioned.',
        fix: 'Change or remove the duplicate proxy address, then reprocess the user.',
      };
    default:
      return {
        reason: 'The license couldn’t be assigned.',
        fix: 'Reprocess the user; if it persists, check the audit log.',
      };
  }
}

function conflictingPlans(
  catalog: Catalog,
  failing: Holding,
  others: readonly Holding[],
): { plan: string; other: string; otherSku: string }[] {
  const found: { plan: string; other: string; otherSku: string }[] = [];
  const mine = enabledPlans(catalog, failing);
  for (const other of others) {
    if (other.skuId === failing.skuId) continue;
    const theirs = enabledPlans(catalog, other);
    for (const [a, b] of catalog.rules?.mutuallyExclusive ?? []) {
      if (mine.includes(a) && theirs.includes(b)) found.push({ plan: a, other: b, otherSku: other.skuId });
      else if (mine.includes(b) && theirs.includes(a))
        found.push({ plan: b, other: a, otherSku: other.skuId });
    }
  }
  return found;
}
