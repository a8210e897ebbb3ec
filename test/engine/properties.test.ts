import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { holdsSeat } from '../../src/engine/effective.js';
import { type EvaluationContext, evaluatePrincipal, sameEntries } from '../../src/engine/evaluate.js';
import { checkInvariants, describe as describeEntries } from '../../src/engine/invariants.js';
import type { Guid, LicenseEntry } from '../../src/engine/model.js';
import { CountingSeatBudget } from '../../src/engine/seats.js';
import { deriveSources } from '../../src/engine/sources.js';
import { evaluateTenant } from '../../src/engine/tenant.js';
import { observe, view } from './support/builders.js';
import { SKU } from './support/catalog.js';
import {
  ALL_SKUS,
  Harness,
  NON_CONFLICTING_SKUS,
  type Scenario,
  scenarioArbitrary,
} from './support/events.js';

// Property-based tests over random tenants and event sequences (rules.md §3, §6, §7). A fixed seed makes every
// failure reproducible; fast-check prints the shrunk counterexample and the seed and path to replay it.

const RUNS = { seed: 20_260_101, numRuns: 150 };

const contested = scenarioArbitrary({
  skus: ALL_SKUS,
  addresses: ['smtp:alex@contoso.com', 'SMTP:Alex@Contoso.com', 'smtp:sam@contoso.com'],
  seats: { min: 0, max: 4 },
  maxEvents: 40,
});

/** Fewer SKUs, more seats: direct plans that lean on a group's prerequisite, so dependency holds come up often. */
const DEPENDENCY_SKUS = [SKU.CHATONLY, SKU.MEETING, SKU.INSIGHTS, SKU.BASIC, SKU.PREMIUM];
const dependencies = scenarioArbitrary({
  skus: DEPENDENCY_SKUS,
  addresses: ['smtp:alex@contoso.com', 'smtp:sam@contoso.com'],
  seats: { min: 2, max: 6 },
  maxEvents: 40,
});

/** Replays a scenario, calling `check` after every event. */
function play(
  scenario: Scenario,
  skus: readonly Guid[],
  unique: boolean,
  check: (h: Harness) => void,
): Harness {
  const harness = new Harness(scenario.shape, skus, unique);
  check(harness);
  for (const [minutes, event] of scenario.events) {
    harness.clock.advance(minutes);
    harness.apply(event);
    check(harness);
  }
  return harness;
}

/** Seats per SKU: consumed never grows while above Total (only lowering the units can leave it there). */
function seatsWithinTotal(): (h: Harness) => void {
  let before = new Map<Guid, number>();
  return (h) => {
    const consumed = h.tenant.allConsumed();
    for (const [skuId, total] of h.totals()) {
      const now = consumed.get(skuId) ?? 0;
      if (now > total) {
        expect(h.lowered.has(skuId), `${skuId} went over Total without lowered units`).toBe(true);
        expect(now, `${skuId} grew while over Total`).toBeLessThanOrEqual(before.get(skuId) ?? 0);
      }
    }
    before = consumed;
  };
}

/** The context a principal would be evaluated in now, with the tenant's free seats in a budget of its own. */
function contextNow(h: Harness): EvaluationContext & { readonly budget: CountingSeatBudget } {
  const snapshot = h.tenant.snapshot();
  const totals = h.totals();
  const budget = new CountingSeatBudget(
    [...totals].map(([skuId, total]) => [skuId, total - h.tenant.consumedUnits(skuId)] as const),
  );
  const holders = new Map<string, Guid>();
  for (const principal of snapshot.principals) {
    const entries = h.tenant.entriesOf(principal.facts.id);
    const mailbox = entries
      .filter(holdsSeat)
      .some((e) => h.catalog.enabledPlans(e.skuId, e.disabledPlans).some((p) => h.catalog.isMailboxPlan(p)));
    if (!mailbox) continue;
    for (const address of principal.facts.proxyAddresses)
      holders.set(address.toLowerCase(), principal.facts.id);
  }
  return {
    catalog: h.catalog,
    tenant: snapshot.settings,
    isSubscribed: (skuId) => totals.has(skuId),
    seats: budget,
    budget,
    proxyAddresses: {
      isHeldByAnother: (address, principalId) => {
        const holder = holders.get(address);
        return holder !== undefined && holder !== principalId;
      },
    },
    now: h.clock.now(),
  };
}

function sourcesOf(h: Harness, principalId: Guid) {
  const snapshot = h.tenant.snapshot();
  const principal = snapshot.principals.find((p) => p.facts.id === principalId);
  if (!principal) return [];
  const groups = new Map(snapshot.groups.map((g) => [g.id, g] as const));
  return deriveSources(h.catalog, principal.facts.kind, principal.directLicenses, principal.memberOf, (id) =>
    groups.get(id),
  );
}

describe('properties of the engine over random tenants and event sequences', () => {
  it('seats never exceed Total, except after lowering the units, and consumedUnits counts the holders', () => {
    fc.assert(
      fc.property(contested, (scenario) => {
        const withinTotal = seatsWithinTotal();
        play(scenario, ALL_SKUS, false, (h) => {
          withinTotal(h);
          const holders = new Map<Guid, number>();
          for (const entries of h.tenant.allEntries().values()) {
            for (const skuId of new Set(entries.filter(holdsSeat).map((e) => e.skuId))) {
              holders.set(skuId, (holders.get(skuId) ?? 0) + 1);
            }
          }
          for (const [skuId, consumed] of h.tenant.allConsumed())
            expect(holders.get(skuId) ?? 0).toBe(consumed);
        });
      }),
      RUNS,
    );
  });

  const invariantsHold = (h: Harness) => {
    const over = new Set(
      [...h.totals()].filter(([s, total]) => h.tenant.consumedUnits(s) > total).map(([s]) => s),
    );
    const violations = checkInvariants(h.catalog, observe(h.tenant), h.clock.now(), { lowered: over });
    expect(violations.map((v) => v.message)).toEqual([]);
  };

  it('every state reached satisfies the invariants of rules.md §7 (checkInvariants, seat holders taken as given)', () => {
    fc.assert(
      fc.property(contested, (scenario) => {
        play(scenario, ALL_SKUS, false, invariantsHold);
      }),
      RUNS,
    );
  });

  it('the invariants hold too where dependency holds come and go', () => {
    fc.assert(
      fc.property(dependencies, (scenario) => {
        play(scenario, DEPENDENCY_SKUS, false, invariantsHold);
      }),
      RUNS,
    );
  });

  it('no seat idles while someone waits for it, with automatic healing (§7.2)', () => {
    fc.assert(
      fc.property(contested, (scenario) => {
        play(scenario, ALL_SKUS, false, (h) => {
          if (h.tenant.snapshot().settings.licenseErrorHealing !== 'automatic') return;
          for (const principal of h.tenant.snapshot().principals) {
            if (principal.deleted) continue;
            const entries = h.tenant.entriesOf(principal.facts.id);
            const held = new Set(entries.filter(holdsSeat).map((e) => e.skuId));
            const bySource = new Map<string, Guid[]>();
            for (const e of entries) {
              if (e.error !== 'CountViolation' || held.has(e.skuId)) continue;
              const key = e.assignedByGroup ?? `direct:${e.skuId}`;
              bySource.set(key, [...(bySource.get(key) ?? []), e.skuId]);
            }
            for (const [source, missing] of bySource) {
              const allFree = missing.every((s) => h.tenant.available(s) > 0);
              expect(
                allFree,
                `${principal.facts.id} waits for ${missing.join()} from ${source} beside free seats`,
              ).toBe(false);
            }
          }
        });
      }),
      RUNS,
    );
  });

  it('evaluating twice changes nothing: the second evaluation gives the same entries and takes or frees no seat', () => {
    fc.assert(
      fc.property(contested, (scenario) => {
        play(scenario, ALL_SKUS, false, (h) => {
          const context = contextNow(h);
          for (const principal of h.tenant.snapshot().principals) {
            if (principal.deleted) continue;
            const sources = sourcesOf(h, principal.facts.id);
            const once = evaluatePrincipal(
              context,
              principal.facts,
              sources,
              h.tenant.entriesOf(principal.facts.id),
            );
            const twice = evaluatePrincipal(context, principal.facts, sources, once.entries);
            expect(describeEntries(twice.entries)).toBe(describeEntries(once.entries));
            expect(twice.entries).toEqual(once.entries);
            expect([twice.seatsTaken, twice.seatsReleased, twice.changed]).toEqual([[], [], false]);
          }
        });
      }),
      RUNS,
    );
  });

  it('applying events one by one gives exactly the from-scratch evaluation when nothing is contested', () => {
    const uncontested = scenarioArbitrary({
      skus: NON_CONFLICTING_SKUS,
      addresses: 'unique',
      seats: { min: 12, max: 20 },
      maxEvents: 40,
    });
    fc.assert(
      fc.property(uncontested, (scenario) => {
        play(scenario, NON_CONFLICTING_SKUS, true, (h) => {
          // Dependency holds are history (a source kept after it went away), so the oracle is given them.
          const holds = new Map<Guid, LicenseEntry[]>();
          for (const [id, entries] of h.tenant.allEntries()) {
            const held = entries.filter((e) => e.error === 'DependencyViolation');
            if (held.length > 0) holds.set(id, held);
          }
          const expected = evaluateTenant(h.catalog, h.tenant.snapshot(), h.clock.now(), {
            dependencyHolds: holds,
          });
          const deleted = new Set(
            h.tenant
              .snapshot()
              .principals.filter((p) => p.deleted)
              .map((p) => p.facts.id),
          );
          for (const [id, outcome] of expected.principals) {
            // A soft-deleted user keeps what it held when deleted (rules.md §5), which is history: it is only
            // checked to be all Disabled, as checkInvariants does.
            if (deleted.has(id)) {
              expect(h.tenant.entriesOf(id).every((e) => e.state === 'Disabled')).toBe(true);
              continue;
            }
            expect(describeEntries(h.tenant.entriesOf(id))).toBe(describeEntries(outcome.entries));
            expect(view(h.tenant.entriesOf(id))).toEqual(view(outcome.entries));
          }
          const consumed = h.tenant.allConsumed();
          for (const skuId of NON_CONFLICTING_SKUS)
            expect(expected.consumedUnits.get(skuId) ?? 0).toBe(consumed.get(skuId) ?? 0);
        });
      }),
      { ...RUNS, numRuns: 100 },
    );
  });

  it('the same inputs give the same outputs (determinism)', () => {
    fc.assert(
      fc.property(contested, (scenario) => {
        const first = play(scenario, ALL_SKUS, false, () => {});
        const second = play(scenario, ALL_SKUS, false, () => {});
        expect(second.tenant.allEntries()).toEqual(first.tenant.allEntries());
        expect(second.tenant.allConsumed()).toEqual(first.tenant.allConsumed());
        const snapshot = first.tenant.snapshot();
        const once = evaluateTenant(first.catalog, snapshot, first.clock.now());
        const again = evaluateTenant(first.catalog, snapshot, first.clock.now());
        expect(again).toEqual(once);
      }),
      { ...RUNS, numRuns: 50 },
    );
  });

  it('sameEntries ignores order and timestamps but nothing a reader sees', () => {
    fc.assert(
      fc.property(contested, (scenario) => {
        const h = play(scenario, ALL_SKUS, false, () => {});
        for (const entries of h.tenant.allEntries().values()) {
          const shuffled = [...entries].reverse().map((e) => ({ ...e, lastUpdatedDateTime: 'later' }));
          expect(sameEntries(entries, shuffled)).toBe(true);
          if (entries.length > 0) expect(sameEntries(entries, entries.slice(1))).toBe(false);
        }
      }),
      { ...RUNS, numRuns: 30 },
    );
  });
});
