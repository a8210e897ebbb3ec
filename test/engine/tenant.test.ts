import { describe, expect, it } from 'vitest';
import { evaluateTenant, type PrincipalSnapshot, type TenantSnapshot } from '../../src/engine/tenant.js';
import { device, expectEntry, user, view } from './support/builders.js';
import { SKU, testCatalog } from './support/catalog.js';
import { at, deviceId, groupId, userId } from './support/ids.js';
import { units } from './support/tenant.js';

// The from-scratch evaluation of a whole tenant: the oracle of rules.md §7.3.

const G1 = groupId(1);
const G2 = groupId(2);
const NOW = at(1000);

function member(
  id: string,
  memberOf: readonly [string, number][],
  extra: Partial<PrincipalSnapshot> = {},
): PrincipalSnapshot {
  return {
    facts: user(id),
    deleted: false,
    directLicenses: [],
    memberOf: memberOf.map(([groupId, joined]) => ({ groupId, joinedAt: at(joined) })),
    ...extra,
  };
}

function snapshot(
  principals: PrincipalSnapshot[],
  seats: Record<string, number>,
  licensedAt = 10,
): TenantSnapshot {
  return {
    settings: { countryLetterCode: 'US', licenseErrorHealing: 'automatic' },
    subscriptions: Object.entries(seats).map(([skuId, n]) => ({ skuId, prepaidUnits: units(n) })),
    principals,
    groups: [
      {
        id: G1,
        licenses: [{ skuId: SKU.BASIC, disabledPlans: [] }],
        licensedSince: at(licensedAt),
        memberOf: [],
      },
      {
        id: G2,
        licenses: [{ skuId: SKU.DEVICE_APPS, disabledPlans: [] }],
        licensedSince: at(licensedAt),
        memberOf: [],
      },
    ],
  };
}

function stateOf(result: ReturnType<typeof evaluateTenant>, id: string): string {
  const entry = result.principals.get(id)?.entries[0];
  return entry ? (entry.state === 'Active' ? 'Active' : entry.error) : 'none';
}

describe('evaluating a tenant from scratch', () => {
  it('contested seats go in the order sources reached their principals, then by principal id', () => {
    // Users 1–3 joined before the assignment (reached at t10, ties by id); user 4 joined at t5 too; user 0 at t20.
    const result = evaluateTenant(
      testCatalog,
      snapshot(
        [
          member(userId(0), [[G1, 20]]),
          member(userId(3), [[G1, 1]]),
          member(userId(1), [[G1, 2]]),
          member(userId(4), [[G1, 5]]),
          member(userId(2), [[G1, 3]]),
        ],
        { [SKU.BASIC]: 3 },
      ),
      NOW,
    );
    expect([0, 1, 2, 3, 4].map((n) => stateOf(result, userId(n)))).toEqual([
      'CountViolation',
      'Active',
      'Active',
      'Active',
      'CountViolation',
    ]);
    expect(result.consumedUnits.get(SKU.BASIC)).toBe(3);
  });

  it('a member who joined after the assignment is reached at its join time', () => {
    const result = evaluateTenant(
      testCatalog,
      snapshot([member(userId(1), [[G1, 30]]), member(userId(2), [[G1, 20]])], { [SKU.BASIC]: 1 }),
      NOW,
    );
    expect([stateOf(result, userId(1)), stateOf(result, userId(2))]).toEqual(['CountViolation', 'Active']);
  });

  it('a soft-deleted user keeps Disabled entries for its sources and consumes no seat', () => {
    const deleted = member(userId(1), [[G1, 1]], {
      deleted: true,
      directLicenses: [{ skuId: SKU.SECURITY, disabledPlans: [], since: at(3) }],
    });
    const result = evaluateTenant(
      testCatalog,
      snapshot([deleted, member(userId(2), [[G1, 2]])], { [SKU.BASIC]: 1, [SKU.SECURITY]: 1 }),
      NOW,
    );
    expect(view(result.principals.get(userId(1))?.entries ?? [])).toEqual([
      expectEntry(SKU.SECURITY, null, 'Disabled'),
      expectEntry(SKU.BASIC, G1, 'Disabled'),
    ]);
    expect(stateOf(result, userId(2))).toBe('Active');
    expect(result.consumedUnits.get(SKU.SECURITY)).toBeUndefined();
  });

  it('a principal without sources has no entries, and a tenant whose units were lowered grants nothing new', () => {
    const s = snapshot([member(userId(1), []), member(userId(2), [[G1, 1]])], { [SKU.BASIC]: 0 });
    const result = evaluateTenant(testCatalog, s, NOW);
    expect(result.principals.get(userId(1))?.entries).toEqual([]);
    expect(stateOf(result, userId(2))).toBe('CountViolation');
  });

  it('the first principal reached gets the mailbox of a shared proxy address', () => {
    const shared = (id: string, joined: number): PrincipalSnapshot => ({
      ...member(id, [[G1, joined]]),
      facts: user(id, 'US', ['smtp:alex@contoso.com']),
    });
    const result = evaluateTenant(
      testCatalog,
      snapshot([shared(userId(1), 40), shared(userId(2), 30)], { [SKU.BASIC]: 5 }),
      NOW,
    );
    expect(stateOf(result, userId(2))).toBe('Active');
    expect(stateOf(result, userId(1))).toBe('UniquenessViolation');
    expect(result.principals.get(userId(2))?.mailboxActive).toBe(true);
  });

  it('direct licenses that reached a user at the same moment go by SKU id: the first of two conflicting ones wins', () => {
    const both = member(userId(1), [], {
      directLicenses: [
        { skuId: SKU.PREMIUM, disabledPlans: [], since: at(5) },
        { skuId: SKU.BASIC, disabledPlans: [], since: at(5) },
      ],
    });
    const result = evaluateTenant(testCatalog, snapshot([both], { [SKU.BASIC]: 1, [SKU.PREMIUM]: 1 }), NOW);
    expect(view(result.principals.get(userId(1))?.entries ?? [])).toEqual([
      expectEntry(SKU.BASIC, null, 'Active'),
      expectEntry(SKU.PREMIUM, null, 'Error', 'MutuallyExclusiveViolation'),
    ]);
  });

  it('devices get the device SKU, with a seat each', () => {
    const devices: PrincipalSnapshot[] = [1, 2].map((n) => ({
      facts: device(deviceId(n)),
      deleted: false,
      directLicenses: [],
      memberOf: [{ groupId: G2, joinedAt: at(n) }],
    }));
    const result = evaluateTenant(testCatalog, snapshot(devices, { [SKU.DEVICE_APPS]: 1 }), NOW);
    expect([stateOf(result, deviceId(1)), stateOf(result, deviceId(2))]).toEqual([
      'Active',
      'CountViolation',
    ]);
  });

  it('the same tenant gives the same answer, whatever the order of its principals', () => {
    const principals = Array.from({ length: 40 }, (_, i) => member(userId(i), [[G1, (i * 7) % 13]]));
    const forward = evaluateTenant(testCatalog, snapshot(principals, { [SKU.BASIC]: 25 }), NOW);
    const again = evaluateTenant(testCatalog, snapshot(principals, { [SKU.BASIC]: 25 }), NOW);
    const reversed = evaluateTenant(
      testCatalog,
      snapshot([...principals].reverse(), { [SKU.BASIC]: 25 }),
      NOW,
    );
    const asObject = (r: typeof forward) =>
      Object.fromEntries(
        [...r.principals].sort(([a], [b]) => (a < b ? -1 : 1)).map(([id, o]) => [id, o.entries]),
      );
    expect(asObject(again)).toEqual(asObject(forward));
    expect(asObject(reversed)).toEqual(asObject(forward));
  });

  it('handles a tenant of 100,000 principals (not timed here; the benchmark measures speed)', () => {
    const n = 100_000;
    const principals: PrincipalSnapshot[] = [];
    for (let i = 0; i < n; i++) {
      // Every tenth user also joined G1 after the assignment, one minute apart, so they are the last reached.
      principals.push(member(userId(i), [[G1, i % 10 === 9 ? 100 + i : 1]]));
    }
    const result = evaluateTenant(testCatalog, snapshot(principals, { [SKU.BASIC]: 95_000 }), NOW);
    expect(result.consumedUnits.get(SKU.BASIC)).toBe(95_000);
    // The 90,000 reached at the assignment all get seats; of the 10,000 late joiners the first 5,000 do.
    expect(stateOf(result, userId(0))).toBe('Active');
    expect(stateOf(result, userId(49_999))).toBe('Active');
    expect(stateOf(result, userId(50_009))).toBe('CountViolation');
    expect(stateOf(result, userId(99_998))).toBe('Active');
    let waiting = 0;
    for (const outcome of result.principals.values()) {
      if (outcome.entries[0]?.error === 'CountViolation') waiting++;
    }
    expect(waiting).toBe(5_000);
  });
});
