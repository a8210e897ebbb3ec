import { describe, expect, it } from 'vitest';
import type { LicenseSource } from '../../src/engine/model.js';
import {
  type DirectLicense,
  deriveSources,
  type GroupLicensing,
  type MembershipEdge,
} from '../../src/engine/sources.js';
import { PLAN, SKU, testCatalog } from './support/catalog.js';
import { at, groupId } from './support/ids.js';

// rules.md §2: where a principal's licenses come from.

const G1 = groupId(1);
const G2 = groupId(2);
const G3 = groupId(3);
const G4 = groupId(4);

function group(
  id: string,
  licenses: GroupLicensing['licenses'],
  memberOf: readonly MembershipEdge[] = [],
  licensedSince: string | null = licenses.length > 0 ? at(0) : null,
): GroupLicensing {
  return { id, licenses, licensedSince, memberOf };
}

function lookup(...groups: GroupLicensing[]) {
  const byId = new Map(groups.map((g) => [g.id, g] as const));
  return (id: string) => byId.get(id);
}

const mixed = [
  { skuId: SKU.BASIC, disabledPlans: [PLAN.DOCS] },
  { skuId: SKU.DEVICE_APPS, disabledPlans: [] },
];

describe('sources of a user (rules.md §2, user SKUs)', () => {
  it('a direct assignment is a source of its own with no group', () => {
    const direct: DirectLicense[] = [{ skuId: SKU.BASIC, disabledPlans: [PLAN.CHAT], since: at(5) }];
    expect(deriveSources(testCatalog, 'user', direct, [], lookup())).toEqual<LicenseSource[]>([
      { groupId: null, since: at(5), licenses: [{ skuId: SKU.BASIC, disabledPlans: [PLAN.CHAT] }] },
    ]);
  });

  it('each direct SKU is a separate source', () => {
    const direct: DirectLicense[] = [
      { skuId: SKU.BASIC, disabledPlans: [], since: at(1) },
      { skuId: SKU.SECURITY, disabledPlans: [], since: at(2) },
    ];
    const sources = deriveSources(testCatalog, 'user', direct, [], lookup());
    expect(sources.map((s) => s.licenses.map((l) => l.skuId))).toEqual([[SKU.BASIC], [SKU.SECURITY]]);
  });

  it('a direct member of a licensed group gets one source with the group’s user SKUs only', () => {
    const sources = deriveSources(
      testCatalog,
      'user',
      [],
      [{ groupId: G1, joinedAt: at(3) }],
      lookup(group(G1, mixed)),
    );
    expect(sources).toEqual<LicenseSource[]>([
      { groupId: G1, since: at(3), licenses: [{ skuId: SKU.BASIC, disabledPlans: [PLAN.DOCS] }] },
    ]);
  });

  it('a member of a nested group gets nothing from the outer group (only first-level members are licensed)', () => {
    // G2 is a member of G1; the user is in G2 only. G1 carries BASIC, G2 carries nothing.
    const sources = deriveSources(
      testCatalog,
      'user',
      [],
      [{ groupId: G2, joinedAt: at(1) }],
      lookup(
        group(G1, [{ skuId: SKU.BASIC, disabledPlans: [] }]),
        group(G2, [], [{ groupId: G1, joinedAt: at(1) }]),
      ),
    );
    expect(sources).toEqual([]);
  });

  it('a group with only device SKUs gives a user nothing', () => {
    const sources = deriveSources(
      testCatalog,
      'user',
      [],
      [{ groupId: G1, joinedAt: at(1) }],
      lookup(group(G1, [{ skuId: SKU.DEVICE_APPS, disabledPlans: [] }])),
    );
    expect(sources).toEqual([]);
  });

  it('an unlicensed group, or one the lookup does not know, gives nothing', () => {
    const sources = deriveSources(
      testCatalog,
      'user',
      [],
      [
        { groupId: G1, joinedAt: at(1) },
        { groupId: G2, joinedAt: at(1) },
      ],
      lookup(group(G1, [])),
    );
    expect(sources).toEqual([]);
  });

  it.each([
    { what: 'the member joined after the assignment', licensedSince: at(2), joinedAt: at(7), since: at(7) },
    {
      what: 'the assignment came after the member joined',
      licensedSince: at(9),
      joinedAt: at(4),
      since: at(9),
    },
  ])('a group source reaches the user at the later of assignment and join: $what', (row) => {
    const sources = deriveSources(
      testCatalog,
      'user',
      [],
      [{ groupId: G1, joinedAt: row.joinedAt }],
      lookup(group(G1, [{ skuId: SKU.BASIC, disabledPlans: [] }], [], row.licensedSince)),
    );
    expect(sources.map((s) => s.since)).toEqual([row.since]);
  });

  it.each([
    { order: 'later first', joins: [8, 6] },
    { order: 'earlier first', joins: [6, 8] },
  ])('a duplicated membership edge counts once, from the earliest join ($order)', (row) => {
    const sources = deriveSources(
      testCatalog,
      'user',
      [],
      row.joins.map((minute) => ({ groupId: G1, joinedAt: at(minute) })),
      lookup(group(G1, [{ skuId: SKU.BASIC, disabledPlans: [] }])),
    );
    expect(sources).toHaveLength(1);
    expect(sources[0]?.since).toBe(at(6));
  });
});

describe('sources of a device (rules.md §2, device SKUs)', () => {
  const deviceSku = [{ skuId: SKU.DEVICE_APPS, disabledPlans: [] }];

  it('a direct assignment is never a device source', () => {
    const direct: DirectLicense[] = [{ skuId: SKU.DEVICE_APPS, disabledPlans: [], since: at(1) }];
    expect(deriveSources(testCatalog, 'device', direct, [], lookup())).toEqual([]);
  });

  it('a device member of the group gets the group’s device SKU and not its user SKUs', () => {
    const sources = deriveSources(
      testCatalog,
      'device',
      [],
      [{ groupId: G1, joinedAt: at(1) }],
      lookup(group(G1, mixed)),
    );
    expect(sources).toEqual<LicenseSource[]>([
      { groupId: G1, since: at(1), licenses: [{ skuId: SKU.DEVICE_APPS, disabledPlans: [] }] },
    ]);
  });

  it('a device in a group nested two levels deep gets the outer group’s device SKU', () => {
    // device ∈ G3 ⊂ G2 ⊂ G1; G1 carries the device SKU.
    const sources = deriveSources(
      testCatalog,
      'device',
      [],
      [{ groupId: G3, joinedAt: at(1) }],
      lookup(
        group(G1, deviceSku, [], at(0)),
        group(G2, [], [{ groupId: G1, joinedAt: at(2) }]),
        group(G3, [], [{ groupId: G2, joinedAt: at(3) }]),
      ),
    );
    expect(sources).toEqual<LicenseSource[]>([{ groupId: G1, since: at(3), licenses: deviceSku }]);
  });

  it('nested groups that form a cycle are walked once and end', () => {
    // G1 ⊂ G2 ⊂ G3 ⊂ G1, device in G1; G3 carries the SKU.
    const sources = deriveSources(
      testCatalog,
      'device',
      [],
      [{ groupId: G1, joinedAt: at(1) }],
      lookup(
        group(G1, [], [{ groupId: G2, joinedAt: at(1) }]),
        group(G2, [], [{ groupId: G3, joinedAt: at(1) }]),
        group(G3, deviceSku, [{ groupId: G1, joinedAt: at(1) }], at(0)),
      ),
    );
    expect(sources.map((s) => s.groupId)).toEqual([G3]);
  });

  it('through several paths the source reaches the device at the earliest path (each path at its latest join)', () => {
    // Path A: device ∈ G2 (t1) ⊂ G1 (t9) → t9. Path B: device ∈ G3 (t4) ⊂ G4 (t2) ⊂ G1 (t3) → t4.
    const sources = deriveSources(
      testCatalog,
      'device',
      [],
      [
        { groupId: G2, joinedAt: at(1) },
        { groupId: G3, joinedAt: at(4) },
      ],
      lookup(
        group(G1, deviceSku, [], at(0)),
        group(G2, [], [{ groupId: G1, joinedAt: at(9) }]),
        group(G3, [], [{ groupId: G4, joinedAt: at(2) }]),
        group(G4, [], [{ groupId: G1, joinedAt: at(3) }]),
      ),
    );
    expect(sources).toEqual<LicenseSource[]>([{ groupId: G1, since: at(4), licenses: deviceSku }]);
  });

  it('a nested group the lookup does not know ends that path', () => {
    const sources = deriveSources(
      testCatalog,
      'device',
      [],
      [{ groupId: G2, joinedAt: at(1) }],
      lookup(group(G1, deviceSku)),
    );
    expect(sources).toEqual([]);
  });
});
