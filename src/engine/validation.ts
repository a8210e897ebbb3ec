import type { Catalog, Sku } from './catalog.js';
import { heldSkuIds, holdsSeat } from './effective.js';
import type { ProxyAddressView } from './evaluate.js';
import {
  fail,
  failures,
  type LicensingFailure,
  type NotLicensableReason,
  ok,
  type Result,
} from './failures.js';
import { normalizeGuid } from './ids.js';
import type {
  GroupFacts,
  GroupLicenseAssignment,
  Guid,
  LicenseEntry,
  PrincipalFacts,
  Subscription,
} from './model.js';
import { availableUnits } from './seats.js';

/** The body of `assignLicense`, already shape-checked at the edge (ids are still untrusted strings). */
export interface AssignLicenseRequest {
  readonly addLicenses: readonly { readonly skuId: string; readonly disabledPlans: readonly string[] }[];
  readonly removeLicenses: readonly string[];
}

export interface LicenseChange {
  /** The full set after the change, sorted by SKU id. */
  readonly licenses: GroupLicenseAssignment[];
  readonly added: Guid[];
  readonly updated: Guid[];
  readonly removed: Guid[];
}

export interface GroupChangeContext {
  readonly catalog: Catalog;
  readonly subscribedSkuIds: ReadonlySet<Guid>;
  readonly group: GroupFacts;
  readonly current: readonly GroupLicenseAssignment[];
  /** For each device SKU assigned somewhere in the tenant, the group that carries it. */
  readonly deviceSkuOwners: ReadonlyMap<Guid, Guid>;
}

/**
 * Validates a group's assignLicense (rules.md §4): the SKUs are bought, disabled plans belong to their SKU, the group
 * may carry licenses, device SKUs go to one group and a group carries at most one, and every dependent plan finds
 * its prerequisite in the same group. Returns the group's new license set; nothing is evaluated here.
 */
export function validateGroupLicenseChange(
  context: GroupChangeContext,
  request: AssignLicenseRequest,
): Result<LicenseChange> {
  const { catalog, group } = context;
  const parsed = parseRequest(catalog, context.subscribedSkuIds, request, () => true);
  if (!parsed.ok) return parsed;
  const change = applyChange(context.current, parsed.value);

  for (const skuId of [...change.added, ...change.updated]) {
    const sku = catalog.sku(skuId);
    if (!sku) continue;
    const refusal = licensableRefusal(group, sku);
    if (refusal) return fail(failures.groupNotLicensable(group.id, refusal));
    if (sku.assignableTo === 'device') {
      const owner = context.deviceSkuOwners.get(skuId);
      if (owner !== undefined && owner !== group.id)
        return fail(failures.deviceLicenseAlreadyAssigned(skuId, owner));
    }
  }
  const deviceSkus = change.licenses.filter((l) => catalog.sku(l.skuId)?.assignableTo === 'device');
  if (deviceSkus.length > 1) return fail(failures.oneDeviceLicensePerGroup(group.id));

  const missing = missingPrerequisite(
    catalog,
    enabledPlansOf(
      catalog,
      change.licenses.filter((l) => catalog.sku(l.skuId)?.assignableTo === 'user'),
    ),
  );
  if (missing) return fail(missing);
  return ok(change);
}

/** Why a group may not carry this SKU, or undefined when it may (rules.md §2). */
function licensableRefusal(group: GroupFacts, sku: Sku): NotLicensableReason | undefined {
  const unified = group.groupTypes.some((t) => t.toLowerCase() === 'unified');
  if (sku.assignableTo === 'device') {
    if (unified) return 'DeviceLicenseOnMicrosoft365Group';
    if (!group.securityEnabled && !group.mailEnabled) return 'NeitherSecurityGroupNorDistributionList';
    return undefined;
  }
  if (!group.securityEnabled) return 'NotSecurityEnabled';
  return undefined;
}

export interface DirectChangeContext {
  readonly catalog: Catalog;
  readonly subscriptions: ReadonlyMap<Guid, Subscription>;
  readonly user: PrincipalFacts;
  /** The user's current entries (direct and from groups). */
  readonly entries: readonly LicenseEntry[];
  readonly proxyAddresses: ProxyAddressView;
}

/**
 * Validates a user's direct assignLicense (rules.md §3–§4): bought SKUs, valid disabled plans, a usage location of
 * the user's own where nothing is prohibited, no direct removal of an inherited license, a seat for each SKU the
 * user does not already consume, and no conflict or missing prerequisite in the resulting effective plans.
 * Returns the user's new direct license set.
 */
export function validateDirectLicenseChange(
  context: DirectChangeContext,
  request: AssignLicenseRequest,
): Result<LicenseChange> {
  const { catalog, user, entries } = context;
  const parsed = parseRequest(
    catalog,
    new Set(context.subscriptions.keys()),
    request,
    (sku) => sku.assignableTo === 'user',
  );
  if (!parsed.ok) return parsed;
  const { add, remove } = parsed.value;

  if (add.length > 0) {
    const location = user.usageLocation;
    const addedPlans = enabledPlansOf(catalog, add);
    if (location === null || addedPlans.some((plan) => catalog.isProhibitedIn(plan, location))) {
      return fail(failures.invalidUsageLocation());
    }
  }

  const direct = entries.filter((e) => e.assignedByGroup === null);
  const removable: Guid[] = [];
  for (const skuId of remove) {
    if (direct.some((e) => e.skuId === skuId)) removable.push(skuId);
    else if (entries.some((e) => e.skuId === skuId && e.assignedByGroup !== null)) {
      return fail(failures.inheritedLicense(skuId));
    }
  }
  const change = applyChange(
    direct.map((e) => ({ skuId: e.skuId, disabledPlans: e.disabledPlans })),
    { add, remove: removable },
  );

  const held = heldSkuIds(entries);
  for (const license of add) {
    const subscription = context.subscriptions.get(license.skuId);
    if (!held.has(license.skuId) && (!subscription || availableUnits(subscription) < 1)) {
      return fail(failures.noAvailableLicenses(license.skuId));
    }
  }

  const inherited = entries.filter((e) => e.assignedByGroup !== null && holdsSeat(e));
  const inheritedPlans = enabledPlansOf(catalog, inherited);
  const directPlans = enabledPlansOf(catalog, change.licenses);
  const conflict = firstConflict(catalog, directPlans, inheritedPlans);
  if (conflict) return fail(conflict);
  const missing = missingPrerequisite(catalog, new Set([...inheritedPlans, ...directPlans]));
  if (missing) return fail(missing);

  const hadMailbox = enabledPlansOf(
    catalog,
    entries.filter((e) => holdsSeat(e)),
  ).some((p) => catalog.isMailboxPlan(p));
  if (!hadMailbox && enabledPlansOf(catalog, add).some((p) => catalog.isMailboxPlan(p))) {
    for (const address of user.proxyAddresses) {
      if (context.proxyAddresses.isHeldByAnother(address.toLowerCase(), user.id)) {
        return fail(failures.proxyAddressInUse(address));
      }
    }
  }
  return ok(change);
}

interface ParsedRequest {
  readonly add: GroupLicenseAssignment[];
  readonly remove: Guid[];
}

function parseRequest(
  catalog: Catalog,
  subscribed: ReadonlySet<Guid>,
  request: AssignLicenseRequest,
  assignable: (sku: Sku) => boolean,
): Result<ParsedRequest> {
  const known = (raw: string): Result<Sku> => {
    const skuId = normalizeGuid(raw);
    const sku = skuId === undefined ? undefined : catalog.sku(skuId);
    if (!sku || !subscribed.has(sku.skuId) || !assignable(sku)) return fail(failures.invalidLicense(raw));
    return ok(sku);
  };
  const add: GroupLicenseAssignment[] = [];
  for (const license of request.addLicenses) {
    const sku = known(license.skuId);
    if (!sku.ok) return sku;
    if (add.some((a) => a.skuId === sku.value.skuId)) {
      return fail(failures.conflictingRequest(license.skuId, 'AddedTwice'));
    }
    const disabledPlans: Guid[] = [];
    for (const rawPlan of license.disabledPlans) {
      const planId = normalizeGuid(rawPlan);
      if (planId === undefined || !sku.value.planNames.has(planId)) {
        return fail(failures.invalidDisabledPlan(sku.value.skuId, rawPlan));
      }
      if (!disabledPlans.includes(planId)) disabledPlans.push(planId);
    }
    add.push({ skuId: sku.value.skuId, disabledPlans: disabledPlans.sort() });
  }
  const remove: Guid[] = [];
  for (const raw of request.removeLicenses) {
    const sku = known(raw);
    if (!sku.ok) return sku;
    if (add.some((a) => a.skuId === sku.value.skuId)) {
      return fail(failures.conflictingRequest(raw, 'AddedAndRemoved'));
    }
    if (!remove.includes(sku.value.skuId)) remove.push(sku.value.skuId);
  }
  return ok({ add, remove });
}

function applyChange(current: readonly GroupLicenseAssignment[], parsed: ParsedRequest): LicenseChange {
  const next = new Map(current.map((l) => [l.skuId, l] as const));
  const removed: Guid[] = [];
  for (const skuId of parsed.remove) {
    if (next.delete(skuId)) removed.push(skuId);
  }
  const added: Guid[] = [];
  const updated: Guid[] = [];
  for (const license of parsed.add) {
    const before = next.get(license.skuId);
    if (!before) added.push(license.skuId);
    else if (before.disabledPlans.join() !== license.disabledPlans.join()) updated.push(license.skuId);
    next.set(license.skuId, license);
  }
  const licenses = [...next.values()].sort((a, b) => (a.skuId < b.skuId ? -1 : a.skuId > b.skuId ? 1 : 0));
  return { licenses, added, updated, removed };
}

function enabledPlansOf(
  catalog: Catalog,
  licenses: readonly { readonly skuId: Guid; readonly disabledPlans: readonly Guid[] }[],
): Guid[] {
  const plans = new Set<Guid>();
  for (const license of licenses) {
    for (const plan of catalog.enabledPlans(license.skuId, license.disabledPlans)) plans.add(plan);
  }
  return [...plans];
}

function firstConflict(
  catalog: Catalog,
  directPlans: readonly Guid[],
  inheritedPlans: readonly Guid[],
): LicensingFailure | undefined {
  const all = new Set([...directPlans, ...inheritedPlans]);
  for (const plan of directPlans) {
    for (const excluded of catalog.exclusionsOf(plan)) {
      if (all.has(excluded)) return failures.mutuallyExclusive(plan, excluded);
    }
  }
  return undefined;
}

function missingPrerequisite(catalog: Catalog, plans: Iterable<Guid>): LicensingFailure | undefined {
  const enabled = new Set(plans);
  for (const plan of enabled) {
    const prerequisites = catalog.prerequisitesOf(plan);
    if (prerequisites && !prerequisites.some((p) => enabled.has(p))) {
      return failures.missingPrerequisite(plan, prerequisites);
    }
  }
  return undefined;
}
