import { describe, expect, it } from 'vitest';
import { evaluatePrincipal } from '../../src/engine/evaluate.js';
import { checkInvariants } from '../../src/engine/invariants.js';
import type { LicenseEntry, LicenseSource, PrincipalFacts } from '../../src/engine/model.js';
import { CountingSeatBudget } from '../../src/engine/seats.js';
import {
  type ContextOptions,
  device,
  directSource,
  type EntryView,
  entry,
  evaluationContext,
  expectEntry,
  groupSource,
  observe,
  user,
  view,
} from './support/builders.js';
import { PLAN, SKU } from './support/catalog.js';
import { at, deviceId, groupId, userId } from './support/ids.js';
import { add, newTenant, securityGroup, units } from './support/tenant.js';

// rules.md §3: evaluating one principal.

const U = userId(1);
const G1 = groupId(1);
const G2 = groupId(2);
const ALEX = 'smtp:alex@contoso.com';

interface ReasonCase {
  readonly name: string;
  readonly principal: PrincipalFacts;
  readonly sources: readonly LicenseSource[];
  readonly previous?: readonly LicenseEntry[];
  readonly context?: ContextOptions;
  readonly expected: readonly EntryView[];
}

describe('a group source is granted, or fails with the first failing reason in the order of rules.md §3', () => {
  const cases: ReasonCase[] = [
    {
      name: 'a user with a usage location and free seats gets every SKU of the group Active',
      principal: user(U, 'US'),
      sources: [groupSource(G1, at(1), [SKU.BASIC], [SKU.SECURITY])],
      expected: [expectEntry(SKU.BASIC, G1, 'Active'), expectEntry(SKU.SECURITY, G1, 'Active')],
    },
    // 1. usage location
    {
      name: 'a user in a country where every plan is prohibited gets ProhibitedInUsageLocationViolation',
      principal: user(U, 'IR'),
      sources: [groupSource(G1, at(1), [SKU.BASIC])],
      expected: [expectEntry(SKU.BASIC, G1, 'Error', 'ProhibitedInUsageLocationViolation')],
    },
    {
      name: 'the usage location is compared without regard to case',
      principal: user(U, 'ir'),
      sources: [groupSource(G1, at(1), [SKU.BASIC])],
      expected: [expectEntry(SKU.BASIC, G1, 'Error', 'ProhibitedInUsageLocationViolation')],
    },
    {
      name: 'a user in a country where one enabled plan is prohibited gets ProhibitedInUsageLocationViolation',
      principal: user(U, 'CN'),
      sources: [groupSource(G1, at(1), [SKU.SECURITY])],
      expected: [expectEntry(SKU.SECURITY, G1, 'Error', 'ProhibitedInUsageLocationViolation')],
    },
    {
      name: 'a prohibited plan that the assignment disables does not count',
      principal: user(U, 'CN'),
      sources: [groupSource(G1, at(1), [SKU.SECURITY, PLAN.GUARD])],
      expected: [expectEntry(SKU.SECURITY, G1, 'Active', 'None', [PLAN.GUARD])],
    },
    {
      name: 'a user without usage location inherits the tenant country for a group source and is licensed',
      principal: user(U, null),
      sources: [groupSource(G1, at(1), [SKU.SECURITY])],
      context: { country: 'GB' },
      expected: [expectEntry(SKU.SECURITY, G1, 'Active')],
    },
    {
      name: 'a user without usage location inherits a tenant country where the plan is prohibited',
      principal: user(U, null),
      sources: [groupSource(G1, at(1), [SKU.SECURITY])],
      context: { country: 'RU' },
      expected: [expectEntry(SKU.SECURITY, G1, 'Error', 'ProhibitedInUsageLocationViolation')],
    },
    {
      name: 'the user’s own usage location wins over the tenant country',
      principal: user(U, 'RU'),
      sources: [groupSource(G1, at(1), [SKU.SECURITY])],
      context: { country: 'US' },
      expected: [expectEntry(SKU.SECURITY, G1, 'Error', 'ProhibitedInUsageLocationViolation')],
    },
    {
      name: 'a direct source does not inherit: a user without usage location gets ProhibitedInUsageLocationViolation',
      principal: user(U, null),
      sources: [directSource(SKU.SECURITY, at(1))],
      context: { country: 'US' },
      expected: [expectEntry(SKU.SECURITY, null, 'Error', 'ProhibitedInUsageLocationViolation')],
    },
    // 2. conflicts
    {
      name: 'a source enabling a plan exclusive with a held plan gets MutuallyExclusiveViolation',
      principal: user(U),
      sources: [groupSource(G1, at(1), [SKU.BASIC]), groupSource(G2, at(2), [SKU.PREMIUM])],
      expected: [
        expectEntry(SKU.BASIC, G1, 'Active'),
        expectEntry(SKU.PREMIUM, G2, 'Error', 'MutuallyExclusiveViolation'),
      ],
    },
    {
      name: 'disabling the conflicting plans in the assignment removes the conflict',
      principal: user(U),
      sources: [
        groupSource(G1, at(1), [SKU.BASIC]),
        groupSource(G2, at(2), [SKU.PREMIUM, PLAN.MAIL_ENT, PLAN.SITES_ENT]),
      ],
      expected: [
        expectEntry(SKU.BASIC, G1, 'Active'),
        expectEntry(SKU.PREMIUM, G2, 'Active', 'None', [PLAN.MAIL_ENT, PLAN.SITES_ENT]),
      ],
    },
    {
      name: 'a disabled plan of the held source does not conflict',
      principal: user(U),
      sources: [
        groupSource(G1, at(1), [SKU.BASIC, PLAN.MAIL_STD, PLAN.SITES_STD]),
        groupSource(G2, at(2), [SKU.PREMIUM]),
      ],
      expected: [
        expectEntry(SKU.BASIC, G1, 'Active', 'None', [PLAN.MAIL_STD, PLAN.SITES_STD]),
        expectEntry(SKU.PREMIUM, G2, 'Active'),
      ],
    },
    {
      name: 'a source whose own SKUs exclude each other fails with MutuallyExclusiveViolation (engine choice)',
      principal: user(U),
      sources: [groupSource(G1, at(1), [SKU.BASIC], [SKU.PREMIUM])],
      expected: [
        expectEntry(SKU.BASIC, G1, 'Error', 'MutuallyExclusiveViolation'),
        expectEntry(SKU.PREMIUM, G1, 'Error', 'MutuallyExclusiveViolation'),
      ],
    },
    // 3. uniqueness
    {
      name: 'a mailbox source for a user whose proxy address another mailbox holds gets UniquenessViolation',
      principal: user(U, 'US', ['SMTP:Alex@Contoso.com']),
      sources: [groupSource(G1, at(1), [SKU.BASIC])],
      context: { heldAddresses: [ALEX] },
      expected: [expectEntry(SKU.BASIC, G1, 'Error', 'UniquenessViolation')],
    },
    {
      name: 'a source without an enabled mailbox plan ignores proxy addresses',
      principal: user(U, 'US', [ALEX]),
      sources: [groupSource(G1, at(1), [SKU.BASIC, PLAN.MAIL_STD])],
      context: { heldAddresses: [ALEX] },
      expected: [expectEntry(SKU.BASIC, G1, 'Active', 'None', [PLAN.MAIL_STD])],
    },
    {
      name: 'a user whose addresses nobody else holds gets the mailbox',
      principal: user(U, 'US', ['smtp:sam@contoso.com']),
      sources: [groupSource(G1, at(1), [SKU.BASIC])],
      context: { heldAddresses: [ALEX] },
      expected: [expectEntry(SKU.BASIC, G1, 'Active')],
    },
    // 4. seats
    {
      name: 'a source needing a seat of a SKU with none left gets CountViolation',
      principal: user(U),
      sources: [groupSource(G1, at(1), [SKU.BASIC])],
      context: { seats: { [SKU.BASIC]: 0 } },
      expected: [expectEntry(SKU.BASIC, G1, 'Error', 'CountViolation')],
    },
    {
      name: 'a source needs no new seat of a SKU the user already consumes through another source',
      principal: user(U),
      sources: [directSource(SKU.BASIC, at(1)), groupSource(G1, at(2), [SKU.BASIC])],
      previous: [entry(SKU.BASIC, null, 'Active')],
      context: { seats: { [SKU.BASIC]: 0 } },
      expected: [expectEntry(SKU.BASIC, null, 'Active'), expectEntry(SKU.BASIC, G1, 'Active')],
    },
    // 5. anything else
    {
      name: 'a SKU the tenant does not subscribe to gets Other',
      principal: user(U),
      sources: [groupSource(G1, at(1), [SKU.BASIC])],
      context: { seats: { [SKU.SECURITY]: 5 } },
      expected: [expectEntry(SKU.BASIC, G1, 'Error', 'Other')],
    },
    // the order between reasons
    {
      name: 'location comes before conflicts',
      principal: user(U, 'IR'),
      sources: [groupSource(G1, at(1), [SKU.BASIC], [SKU.PREMIUM])],
      expected: [
        expectEntry(SKU.BASIC, G1, 'Error', 'ProhibitedInUsageLocationViolation'),
        expectEntry(SKU.PREMIUM, G1, 'Error', 'ProhibitedInUsageLocationViolation'),
      ],
    },
    {
      name: 'conflicts come before uniqueness',
      principal: user(U, 'US', [ALEX]),
      sources: [groupSource(G1, at(1), [SKU.BASIC, PLAN.MAIL_STD]), groupSource(G2, at(2), [SKU.PREMIUM])],
      context: { heldAddresses: [ALEX] },
      expected: [
        expectEntry(SKU.BASIC, G1, 'Active', 'None', [PLAN.MAIL_STD]),
        expectEntry(SKU.PREMIUM, G2, 'Error', 'MutuallyExclusiveViolation'),
      ],
    },
    {
      name: 'uniqueness comes before seats',
      principal: user(U, 'US', [ALEX]),
      sources: [groupSource(G1, at(1), [SKU.BASIC])],
      context: { heldAddresses: [ALEX], seats: { [SKU.BASIC]: 0 } },
      expected: [expectEntry(SKU.BASIC, G1, 'Error', 'UniquenessViolation')],
    },
    {
      name: 'seats come before anything else: a SKU without seats beside one not subscribed is CountViolation',
      principal: user(U),
      sources: [groupSource(G1, at(1), [SKU.BASIC], [SKU.SECURITY])],
      context: { seats: { [SKU.BASIC]: 0 } },
      expected: [
        expectEntry(SKU.BASIC, G1, 'Error', 'CountViolation'),
        expectEntry(SKU.SECURITY, G1, 'Error', 'CountViolation'),
      ],
    },
    // devices
    {
      name: 'a device is never location-checked, even in a tenant whose country prohibits every plan',
      principal: device(deviceId(1)),
      sources: [groupSource(G1, at(1), [SKU.DEVICE_APPS])],
      context: { country: 'KP' },
      expected: [expectEntry(SKU.DEVICE_APPS, G1, 'Active')],
    },
    {
      name: 'a device gets only the device SKUs of a source, and a user only the user SKUs',
      principal: device(deviceId(1)),
      sources: [groupSource(G1, at(1), [SKU.BASIC], [SKU.DEVICE_APPS]), groupSource(G2, at(1), [SKU.BASIC])],
      expected: [expectEntry(SKU.DEVICE_APPS, G1, 'Active')],
    },
  ];

  it.each(cases)('$name', (row) => {
    const context = evaluationContext(row.context);
    const result = evaluatePrincipal(context, row.principal, row.sources, row.previous ?? []);
    expect(view(result.entries)).toEqual(row.expected);
  });
});

describe('all or nothing per group source (seed 004)', () => {
  it('a group whose second SKU has no seat leaves both entries in error and takes no seat of the first', () => {
    const context = evaluationContext({ seats: { [SKU.BASIC]: 3, [SKU.SECURITY]: 0 } });
    const budget = context.budget;
    const result = evaluatePrincipal(
      context,
      user(U),
      [groupSource(G1, at(1), [SKU.BASIC], [SKU.SECURITY])],
      [],
    );
    expect(view(result.entries)).toEqual([
      expectEntry(SKU.BASIC, G1, 'Error', 'CountViolation'),
      expectEntry(SKU.SECURITY, G1, 'Error', 'CountViolation'),
    ]);
    expect(budget.available(SKU.BASIC)).toBe(3);
    expect(result.seatsTaken).toEqual([]);
  });

  it('one group failing does not hold back another group or a direct source', () => {
    const result = evaluatePrincipal(
      evaluationContext({ seats: { [SKU.BASIC]: 0, [SKU.SECURITY]: 5, [SKU.CHATONLY]: 5 } }),
      user(U),
      [
        groupSource(G1, at(1), [SKU.BASIC]),
        groupSource(G2, at(2), [SKU.SECURITY]),
        directSource(SKU.CHATONLY, at(3)),
      ],
      [],
    );
    expect(view(result.entries)).toEqual([
      expectEntry(SKU.CHATONLY, null, 'Active'),
      expectEntry(SKU.BASIC, G1, 'Error', 'CountViolation'),
      expectEntry(SKU.SECURITY, G2, 'Active'),
    ]);
  });

  it('a direct source carrying two SKUs is split, each with its own verdict', () => {
    const source: LicenseSource = {
      groupId: null,
      since: at(1),
      licenses: [
        { skuId: SKU.BASIC, disabledPlans: [] },
        { skuId: SKU.SECURITY, disabledPlans: [] },
      ],
    };
    const result = evaluatePrincipal(
      evaluationContext({ seats: { [SKU.BASIC]: 1, [SKU.SECURITY]: 0 } }),
      user(U),
      [source],
      [],
    );
    expect(view(result.entries)).toEqual([
      expectEntry(SKU.BASIC, null, 'Active'),
      expectEntry(SKU.SECURITY, null, 'Error', 'CountViolation'),
    ]);
  });
});

describe('sources are considered in a fixed order (rules.md §3)', () => {
  const conflicting = (basicSince: string, premiumSince: string) => [
    groupSource(G2, basicSince, [SKU.BASIC]),
    groupSource(G1, premiumSince, [SKU.PREMIUM]),
  ];

  it('without history, the source that reached the user first wins a conflict', () => {
    const result = evaluatePrincipal(evaluationContext(), user(U), conflicting(at(1), at(2)), []);
    expect(view(result.entries)).toEqual([
      expectEntry(SKU.PREMIUM, G1, 'Error', 'MutuallyExclusiveViolation'),
      expectEntry(SKU.BASIC, G2, 'Active'),
    ]);
  });

  it('with equal times, the lower group id goes first', () => {
    const result = evaluatePrincipal(evaluationContext(), user(U), conflicting(at(1), at(1)), []);
    expect(view(result.entries)).toEqual([
      expectEntry(SKU.PREMIUM, G1, 'Active'),
      expectEntry(SKU.BASIC, G2, 'Error', 'MutuallyExclusiveViolation'),
    ]);
  });

  it('a source already granted goes first: a working license is never revoked because another arrived', () => {
    const result = evaluatePrincipal(evaluationContext(), user(U), conflicting(at(5), at(1)), [
      entry(SKU.BASIC, G2, 'Active'),
    ]);
    expect(view(result.entries)).toEqual([
      expectEntry(SKU.PREMIUM, G1, 'Error', 'MutuallyExclusiveViolation'),
      expectEntry(SKU.BASIC, G2, 'Active'),
    ]);
  });

  it('the order of the sources given does not change the result', () => {
    const sources = [
      groupSource(G2, at(3), [SKU.BASIC]),
      directSource(SKU.SECURITY, at(2)),
      groupSource(G1, at(1), [SKU.PREMIUM]),
    ];
    const forward = evaluatePrincipal(evaluationContext(), user(U), sources, []);
    const backward = evaluatePrincipal(evaluationContext(), user(U), [...sources].reverse(), []);
    expect(backward.entries).toEqual(forward.entries);
    expect(view(forward.entries)).toEqual([
      expectEntry(SKU.SECURITY, null, 'Active'),
      expectEntry(SKU.PREMIUM, G1, 'Active'),
      expectEntry(SKU.BASIC, G2, 'Error', 'MutuallyExclusiveViolation'),
    ]);
  });
});

describe('seats: one per principal per SKU', () => {
  it('two sources of one SKU take a single seat', () => {
    const context = evaluationContext({ seats: { [SKU.BASIC]: 1 } });
    const result = evaluatePrincipal(
      context,
      user(U),
      [directSource(SKU.BASIC, at(1)), groupSource(G1, at(2), [SKU.BASIC])],
      [],
    );
    expect(view(result.entries)).toEqual([
      expectEntry(SKU.BASIC, null, 'Active'),
      expectEntry(SKU.BASIC, G1, 'Active'),
    ]);
    expect(result.seatsTaken).toEqual([SKU.BASIC]);
    expect([...result.heldSkus]).toEqual([SKU.BASIC]);
    expect(context.budget.available(SKU.BASIC)).toBe(0);
  });

  it('losing every source of a SKU gives its seat back', () => {
    const context = evaluationContext({ seats: { [SKU.BASIC]: 0 } });
    const result = evaluatePrincipal(context, user(U), [], [entry(SKU.BASIC, G1, 'Active')]);
    expect(result.entries).toEqual([]);
    expect(result.seatsReleased).toEqual([SKU.BASIC]);
    expect(context.budget.available(SKU.BASIC)).toBe(1);
  });

  it('losing one of two sources of a SKU keeps the seat', () => {
    const context = evaluationContext({ seats: { [SKU.BASIC]: 0 } });
    const result = evaluatePrincipal(
      context,
      user(U),
      [groupSource(G1, at(1), [SKU.BASIC])],
      [entry(SKU.BASIC, null, 'Active'), entry(SKU.BASIC, G1, 'Active')],
    );
    expect(view(result.entries)).toEqual([expectEntry(SKU.BASIC, G1, 'Active')]);
    expect(result.seatsTaken).toEqual([]);
    expect(result.seatsReleased).toEqual([]);
  });

  it('a source replacing another of the same SKU in one step keeps the seat without needing a free one', () => {
    const result = evaluatePrincipal(
      evaluationContext({ seats: { [SKU.BASIC]: 0 } }),
      user(U),
      [groupSource(G2, at(5), [SKU.BASIC])],
      [entry(SKU.BASIC, G1, 'Active')],
    );
    expect(view(result.entries)).toEqual([expectEntry(SKU.BASIC, G2, 'Active')]);
    expect(result.seatsTaken).toEqual([]);
    expect(result.seatsReleased).toEqual([]);
  });

  it('a source that falls into error gives its seat back', () => {
    const context = evaluationContext({ seats: { [SKU.BASIC]: 0 } });
    const result = evaluatePrincipal(
      context,
      user(U, 'IR'),
      [groupSource(G1, at(1), [SKU.BASIC])],
      [entry(SKU.BASIC, G1, 'Active')],
    );
    expect(view(result.entries)).toEqual([
      expectEntry(SKU.BASIC, G1, 'Error', 'ProhibitedInUsageLocationViolation'),
    ]);
    expect(result.seatsReleased).toEqual([SKU.BASIC]);
  });
});

describe('entry bookkeeping', () => {
  it('an entry starts waiting for a seat when it first gets CountViolation, and keeps that time while it waits', () => {
    const source = groupSource(G1, at(1), [SKU.BASIC]);
    const first = evaluatePrincipal(
      evaluationContext({ seats: { [SKU.BASIC]: 0 }, now: at(10) }),
      user(U),
      [source],
      [],
    );
    expect(first.entries[0]?.waitingSince).toBe(at(10));
    const second = evaluatePrincipal(
      evaluationContext({ seats: { [SKU.BASIC]: 0 }, now: at(20) }),
      user(U),
      [source],
      first.entries,
    );
    expect(second.entries[0]?.waitingSince).toBe(at(10));
    expect(second.entries[0]?.lastUpdatedDateTime).toBe(at(10));
    expect(second.changed).toBe(false);
    const granted = evaluatePrincipal(
      evaluationContext({ seats: { [SKU.BASIC]: 1 }, now: at(30) }),
      user(U),
      [source],
      second.entries,
    );
    expect(granted.entries[0]).toMatchObject({
      state: 'Active',
      waitingSince: null,
      lastUpdatedDateTime: at(30),
    });
    expect(granted.changed).toBe(true);
  });

  it('an entry stored waiting without a waiting time starts waiting now', () => {
    const stored = { ...entry(SKU.BASIC, G1, 'Error', 'CountViolation'), waitingSince: null };
    const result = evaluatePrincipal(
      evaluationContext({ seats: { [SKU.BASIC]: 0 }, now: at(40) }),
      user(U),
      [groupSource(G1, at(1), [SKU.BASIC])],
      [stored],
    );
    expect(result.entries[0]).toMatchObject({ error: 'CountViolation', waitingSince: at(40) });
  });

  it('an unchanged entry keeps its lastUpdatedDateTime; a changed one gets the evaluation time', () => {
    const previous = [entry(SKU.BASIC, G1, 'Active', 'None', { since: at(1) })];
    const same = evaluatePrincipal(
      evaluationContext({ now: at(50) }),
      user(U),
      [groupSource(G1, at(1), [SKU.BASIC])],
      previous,
    );
    expect(same.entries[0]?.lastUpdatedDateTime).toBe(at(1));
    expect(same.changed).toBe(false);
    const disabledNow = evaluatePrincipal(
      evaluationContext({ now: at(50) }),
      user(U),
      [groupSource(G1, at(1), [SKU.BASIC, PLAN.DOCS])],
      previous,
    );
    expect(disabledNow.entries[0]).toMatchObject({ disabledPlans: [PLAN.DOCS], lastUpdatedDateTime: at(50) });
    expect(disabledNow.changed).toBe(true);
  });

  it('entries come out direct first, then by group id, then by SKU id, with disabled plans sorted and unique', () => {
    const result = evaluatePrincipal(
      evaluationContext(),
      user(U),
      [
        groupSource(G2, at(1), [SKU.SECURITY], [SKU.CHATONLY]),
        groupSource(G1, at(2), [SKU.BASIC, PLAN.SITES_STD, PLAN.DOCS, PLAN.DOCS]),
        directSource(SKU.INSIGHTS, at(3)),
      ],
      [],
    );
    expect(result.entries.map((e) => [e.assignedByGroup, e.skuId, e.disabledPlans])).toEqual([
      [null, SKU.INSIGHTS, []],
      [G1, SKU.BASIC, [PLAN.DOCS, PLAN.SITES_STD].sort()],
      [G2, SKU.SECURITY, []],
      [G2, SKU.CHATONLY, []],
    ]);
  });

  it('reports whether the principal ends with a working mailbox', () => {
    const withMailbox = evaluatePrincipal(
      evaluationContext(),
      user(U),
      [groupSource(G1, at(1), [SKU.BASIC])],
      [],
    );
    const withoutMailbox = evaluatePrincipal(
      evaluationContext(),
      user(U),
      [groupSource(G1, at(1), [SKU.BASIC, PLAN.MAIL_STD])],
      [],
    );
    expect(withMailbox.mailboxActive).toBe(true);
    expect(withoutMailbox.mailboxActive).toBe(false);
  });

  it('a source of no SKU for this kind of principal leaves no entry', () => {
    const result = evaluatePrincipal(
      evaluationContext(),
      user(U),
      [groupSource(G1, at(1), [SKU.DEVICE_APPS])],
      [],
    );
    expect(result.entries).toEqual([]);
    expect(result.changed).toBe(false);
  });

  it('the seat budget given decides, and a counting budget never goes below zero', () => {
    const budget = new CountingSeatBudget([[SKU.BASIC, -4]]);
    expect(budget.available(SKU.BASIC)).toBe(0);
    expect(budget.tryTake([SKU.BASIC], U)).toBe(false);
    budget.release(SKU.BASIC);
    expect(budget.tryTake([SKU.BASIC], U)).toBe(true);
    expect(budget.netTaken().get(SKU.BASIC)).toBe(0);
  });
});

describe('a SKU the tenant does not subscribe to (reason 5, Other)', () => {
  it('fails the whole source with Other and gives back the seat taken for its other SKU', () => {
    const context = evaluationContext({ seats: { [SKU.BASIC]: 2 } });
    const result = evaluatePrincipal(
      context,
      user(U),
      [groupSource(G1, at(1), [SKU.BASIC], [SKU.SECURITY])],
      [],
    );
    expect(view(result.entries)).toEqual([
      expectEntry(SKU.BASIC, G1, 'Error', 'Other'),
      expectEntry(SKU.SECURITY, G1, 'Error', 'Other'),
    ]);
    expect(context.budget.available(SKU.BASIC)).toBe(2);
    expect(result.seatsTaken).toEqual([]);
  });
});

describe('the reason reported is the first failing one against what the principal ends up holding', () => {
  it('a source that found no seat before a conflicting source was granted reports the conflict', () => {
    const result = evaluatePrincipal(
      evaluationContext({ seats: { [SKU.BASIC]: 0, [SKU.PREMIUM]: 5 } }),
      user(U),
      [groupSource(G1, at(1), [SKU.BASIC]), groupSource(G2, at(2), [SKU.PREMIUM])],
      [],
    );
    expect(view(result.entries)).toEqual([
      expectEntry(SKU.BASIC, G1, 'Error', 'MutuallyExclusiveViolation'),
      expectEntry(SKU.PREMIUM, G2, 'Active'),
    ]);
  });

  it('a source refused a mailbox before a conflicting source was granted reports the conflict', () => {
    const result = evaluatePrincipal(
      evaluationContext({ heldAddresses: [ALEX] }),
      user(U, 'US', [ALEX]),
      [groupSource(G1, at(1), [SKU.BASIC]), groupSource(G2, at(2), [SKU.PREMIUM, PLAN.MAIL_ENT])],
      [],
    );
    expect(view(result.entries)).toEqual([
      expectEntry(SKU.BASIC, G1, 'Error', 'MutuallyExclusiveViolation'),
      expectEntry(SKU.PREMIUM, G2, 'Active', 'None', [PLAN.MAIL_ENT]),
    ]);
  });

  it('a source that fails for lack of a seat and conflicts with nothing stays in CountViolation', () => {
    const result = evaluatePrincipal(
      evaluationContext({ seats: { [SKU.BASIC]: 0, [SKU.SECURITY]: 5 } }),
      user(U),
      [groupSource(G1, at(1), [SKU.BASIC]), groupSource(G2, at(2), [SKU.SECURITY])],
      [],
    );
    expect(view(result.entries)).toEqual([
      expectEntry(SKU.BASIC, G1, 'Error', 'CountViolation'),
      expectEntry(SKU.SECURITY, G2, 'Active'),
    ]);
  });
});

describe('history decides conflicts: the source granted first keeps its license', () => {
  it('an older source that was in error when a conflicting one was granted stays behind it, and the invariants agree', () => {
    const t = newTenant({ seats: { [SKU.BASIC]: 0, [SKU.PREMIUM]: 5 } });
    t.tenant.addPrincipal(user(U));
    t.tenant.addGroup(securityGroup(G1));
    t.tenant.addGroup(securityGroup(G2));
    t.tenant.assignGroupLicenses(G1, add([SKU.BASIC]));
    t.tenant.assignGroupLicenses(G2, add([SKU.PREMIUM]));
    t.tenant.addMember(G1, U, 'user');
    t.clock.advance();
    t.tenant.addMember(G2, U, 'user');
    t.clock.advance();
    t.tenant.setUnits(SKU.BASIC, units(1));
    // A direct BASIC without the conflicting plans takes the BASIC seat: G1 could now have it, but PREMIUM came first.
    expect(t.tenant.assignUserLicenses(U, add([SKU.BASIC, PLAN.MAIL_STD, PLAN.SITES_STD])).ok).toBe(true);
    expect(view(t.tenant.entriesOf(U))).toEqual([
      expectEntry(SKU.BASIC, null, 'Active', 'None', [PLAN.MAIL_STD, PLAN.SITES_STD]),
      expectEntry(SKU.BASIC, G1, 'Error', 'MutuallyExclusiveViolation'),
      expectEntry(SKU.PREMIUM, G2, 'Active'),
    ]);
    expect(checkInvariants(t.catalog, observe(t.tenant), t.clock.now())).toEqual([]);
  });
});
