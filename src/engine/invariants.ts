import type { Catalog } from './catalog.js';
import { holdsSeat } from './effective.js';
import { compareEntries, sameEntries, sourceKey } from './evaluate.js';
import type { Guid, IsoTime, LicenseEntry } from './model.js';
import { totalUnits } from './seats.js';
import { evaluateTenant, type TenantSnapshot } from './tenant.js';

/** A tenant as the service reports it once idle: its directory and assignments, and every principal's entries. */
export interface ObservedTenant {
  readonly snapshot: TenantSnapshot;
  readonly entries: ReadonlyMap<Guid, readonly LicenseEntry[]>;
  readonly consumedUnits: ReadonlyMap<Guid, number>;
}

export type InvariantName = 'seats' | 'idleSeat' | 'idleAddress' | 'consistency' | 'uniqueness' | 'suspended';

export interface InvariantViolation {
  readonly invariant: InvariantName;
  readonly principalId?: Guid;
  readonly skuId?: Guid;
  readonly message: string;
}

export interface InvariantOptions {
  /** SKUs whose units were lowered below what was consumed; only they may show consumed above Total. */
  readonly lowered?: ReadonlySet<Guid>;
}

/**
 * Checks the invariants of rules.md §7 (1–4) on an idle tenant: seat counts are exact and within Total, no seat
 * idles while someone waits for it, nor a proxy address while someone is refused a mailbox for it (automatic
 * healing), and — taking as given who holds each seat, each shared mailbox address, who was refused a mailbox, each
 * dependency hold and which sources were already granted — every principal's entries equal the from-scratch
 * evaluation (so each principal's state is what evaluating it again would give).
 */
export function checkInvariants(
  catalog: Catalog,
  observed: ObservedTenant,
  now: IsoTime,
  options: InvariantOptions = {},
): InvariantViolation[] {
  const violations: InvariantViolation[] = [];
  const deleted = new Set(observed.snapshot.principals.filter((p) => p.deleted).map((p) => p.facts.id));

  const holders = new Map<Guid, Set<Guid>>();
  const dependencyHolds = new Map<Guid, LicenseEntry[]>();
  const mailboxHolders = new Map<string, Guid>();
  const mailboxRefused = new Set<Guid>();
  const factsById = new Map(observed.snapshot.principals.map((p) => [p.facts.id, p.facts] as const));
  for (const [principalId, entries] of observed.entries) {
    const held = new Set<Guid>();
    for (const entry of entries) {
      if (!holdsSeat(entry)) continue;
      held.add(entry.skuId);
      if (entry.error === 'DependencyViolation') {
        const list = dependencyHolds.get(principalId) ?? [];
        list.push(entry);
        dependencyHolds.set(principalId, list);
      }
    }
    if (!deleted.has(principalId) && entries.some((e) => e.error === 'UniquenessViolation')) {
      mailboxRefused.add(principalId);
    }
    for (const skuId of held) {
      const set = holders.get(skuId) ?? new Set<Guid>();
      set.add(principalId);
      holders.set(skuId, set);
    }
    const facts = factsById.get(principalId);
    const hasMailbox = entries
      .filter(holdsSeat)
      .some((e) => catalog.enabledPlans(e.skuId, e.disabledPlans).some((p) => catalog.isMailboxPlan(p)));
    if (facts && hasMailbox) {
      for (const address of facts.proxyAddresses) {
        const key = address.toLowerCase();
        const other = mailboxHolders.get(key);
        if (other !== undefined && other !== principalId) {
          violations.push({
            invariant: 'uniqueness',
            principalId,
            message: `proxy address ${key} has a working mailbox on both ${other} and ${principalId}`,
          });
        } else {
          mailboxHolders.set(key, principalId);
        }
      }
    }
  }

  const totals = new Map(
    observed.snapshot.subscriptions.map((s) => [s.skuId, totalUnits(s.prepaidUnits)] as const),
  );
  const skuIds = new Set([...totals.keys(), ...holders.keys(), ...observed.consumedUnits.keys()]);
  for (const skuId of skuIds) {
    const reported = observed.consumedUnits.get(skuId) ?? 0;
    const actual = holders.get(skuId)?.size ?? 0;
    if (reported !== actual) {
      violations.push({
        invariant: 'seats',
        skuId,
        message: `consumedUnits of ${skuId} is ${reported} but ${actual} principals hold a seat`,
      });
    }
    const total = totals.get(skuId) ?? 0;
    if (actual > total && !options.lowered?.has(skuId)) {
      violations.push({
        invariant: 'seats',
        skuId,
        message: `${actual} seats of ${skuId} are held but only ${total} exist`,
      });
    }
  }

  if (observed.snapshot.settings.licenseErrorHealing === 'automatic') {
    for (const [principalId, entries] of observed.entries) {
      if (deleted.has(principalId)) continue;
      const held = new Set(entries.filter(holdsSeat).map((e) => e.skuId));
      const bySource = new Map<string, LicenseEntry[]>();
      for (const entry of entries) {
        if (entry.error !== 'CountViolation') continue;
        const key = sourceKey(entry.assignedByGroup, entry.skuId);
        bySource.set(key, [...(bySource.get(key) ?? []), entry]);
      }
      const facts = factsById.get(principalId);
      const refusedFreely =
        mailboxRefused.has(principalId) &&
        (facts?.proxyAddresses ?? []).every((address) => {
          const holder = mailboxHolders.get(address.toLowerCase());
          return holder === undefined || holder === principalId;
        });
      if (refusedFreely) {
        violations.push({
          invariant: 'idleAddress',
          principalId,
          message: `${principalId} is refused a mailbox while no other mailbox holds its proxy addresses`,
        });
      }
      for (const sourceEntries of bySource.values()) {
        const needed = sourceEntries.map((e) => e.skuId).filter((s) => !held.has(s));
        const free = (skuId: Guid) => (totals.get(skuId) ?? 0) - (holders.get(skuId)?.size ?? 0) > 0;
        if (needed.length > 0 && needed.every(free)) {
          violations.push({
            invariant: 'idleSeat',
            principalId,
            skuId: needed[0],
            message: `${principalId} waits for ${needed.join(', ')} while seats are available`,
          });
        }
      }
    }
  }

  const expected = evaluateTenant(catalog, observed.snapshot, now, {
    seatHolders: holders,
    mailboxHolders,
    mailboxRefused,
    dependencyHolds,
    previousEntries: observed.entries,
  });
  for (const principal of observed.snapshot.principals) {
    const id = principal.facts.id;
    const actual = observed.entries.get(id) ?? [];
    if (principal.deleted) {
      const bad = actual.filter((e) => e.state !== 'Disabled');
      if (bad.length > 0) {
        violations.push({
          invariant: 'suspended',
          principalId: id,
          message: `soft-deleted ${id} has entries that are not Disabled: ${describe(bad)}`,
        });
      }
      continue;
    }
    const wanted = expected.principals.get(id)?.entries ?? [];
    if (!sameEntries(actual, wanted)) {
      violations.push({
        invariant: 'consistency',
        principalId: id,
        message: `${id}: expected ${describe(wanted)} but found ${describe(actual)}`,
      });
    }
  }
  return violations;
}

/** A compact, stable description of entries for difference reports. */
export function describe(entries: readonly LicenseEntry[]): string {
  if (entries.length === 0) return '[]';
  return `[${[...entries]
    .sort(compareEntries)
    .map((e) => {
      const disabled = e.disabledPlans.length > 0 ? ` -${e.disabledPlans.length}plans` : '';
      const error = e.error === 'None' ? '' : `/${e.error}`;
      return `${e.skuId.slice(0, 8)}@${e.assignedByGroup?.slice(0, 8) ?? 'direct'}:${e.state}${error}${disabled}`;
    })
    .join(', ')}]`;
}
