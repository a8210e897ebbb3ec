import fc from 'fast-check';
import type { Catalog } from '../../../src/engine/catalog.js';
import type { Guid, TenantSettings } from '../../../src/engine/model.js';
import { ReferenceTenant } from '../../../src/engine/reference.js';
import { totalUnits } from '../../../src/engine/seats.js';
import { SKU, testCatalog } from './catalog.js';
import { deviceId, groupId, TestClock, userId } from './ids.js';
import { distributionList, securityGroup, units } from './tenant.js';

/**
 * Random tenants and event sequences for the property tests. Principals and groups are small indices (so that
 * events hit the same few objects often); the harness turns them into ids and skips events the API would refuse
 * outright (touching a hard-deleted user, changing a soft-deleted one).
 */

export type MemberKind = 'user' | 'device' | 'group';

export type TenantEvent =
  | {
      readonly kind: 'join' | 'leave';
      readonly group: number;
      readonly member: number;
      readonly memberKind: MemberKind;
    }
  | {
      readonly kind: 'groupAssign';
      readonly group: number;
      readonly sku: number;
      readonly disabled: readonly number[];
    }
  | { readonly kind: 'groupUnassign'; readonly group: number; readonly sku: number }
  | { readonly kind: 'groupSwap'; readonly group: number; readonly from: number; readonly to: number }
  | { readonly kind: 'moveDevice'; readonly from: number; readonly to: number }
  | {
      readonly kind: 'directAssign';
      readonly user: number;
      readonly sku: number;
      readonly disabled: readonly number[];
    }
  | { readonly kind: 'directRemove'; readonly user: number; readonly sku: number }
  | { readonly kind: 'units'; readonly sku: number; readonly count: number }
  | { readonly kind: 'softDelete' | 'restore' | 'hardDelete' | 'reprocessUser'; readonly user: number }
  | { readonly kind: 'reprocessGroup'; readonly group: number }
  | { readonly kind: 'location'; readonly user: number; readonly location: string | null }
  | { readonly kind: 'proxy'; readonly user: number; readonly addresses: readonly string[] }
  | { readonly kind: 'healing'; readonly mode: TenantSettings['licenseErrorHealing'] };

export interface TenantShape {
  readonly users: number;
  readonly devices: number;
  readonly groups: number;
  readonly country: string;
  readonly healing: TenantSettings['licenseErrorHealing'];
  readonly locations: readonly (string | null)[];
  readonly addresses: readonly (readonly string[])[];
  /** Initial units per SKU of `skus`. */
  readonly seats: readonly number[];
}

export interface Scenario {
  readonly shape: TenantShape;
  /** Each event with the minutes the clock moves before it (0 makes ties). */
  readonly events: readonly (readonly [number, TenantEvent])[];
}

export interface ScenarioOptions {
  /** SKUs events may use (indices refer to this list). */
  readonly skus: readonly Guid[];
  /** Address pool: a small one makes mailboxes contested, `'unique'` gives every user its own address. */
  readonly addresses: readonly string[] | 'unique';
  /** Initial units: a small range contests seats; a large one with `unitsAtLeast` keeps them uncontested. */
  readonly seats: { readonly min: number; readonly max: number };
  readonly maxEvents: number;
}

const LOCATIONS = [null, 'US', 'US', 'GB', 'CN', 'IR'] as const;

export function scenarioArbitrary(options: ScenarioOptions): fc.Arbitrary<Scenario> {
  const skuCount = options.skus.length;
  return fc
    .record({
      users: fc.integer({ min: 1, max: 6 }),
      devices: fc.integer({ min: 0, max: 3 }),
      groups: fc.integer({ min: 1, max: 4 }),
      country: fc.constantFrom('US', 'GB', 'CN'),
      healing: fc.constantFrom<TenantSettings['licenseErrorHealing']>('automatic', 'automatic', 'manual'),
      seats: fc.array(fc.integer(options.seats), { minLength: skuCount, maxLength: skuCount }),
    })
    .chain((base) => {
      const address =
        options.addresses === 'unique'
          ? fc.constant<readonly string[]>([])
          : fc.uniqueArray(fc.constantFrom(...options.addresses), { maxLength: 2 });
      const user = fc.nat({ max: base.users - 1 });
      const group = fc.nat({ max: base.groups - 1 });
      // The first three SKUs of the list come up more often, so that rules meet: list the interesting ones first.
      const sku = fc.oneof(
        { weight: 3, arbitrary: fc.nat({ max: Math.min(2, skuCount - 1) }) },
        { weight: 2, arbitrary: fc.nat({ max: skuCount - 1 }) },
      );
      // Mostly nothing disabled: random disabled plans often strip a prerequisite, which validation refuses.
      const disabled = fc.oneof(
        { weight: 3, arbitrary: fc.constant<readonly number[]>([]) },
        { weight: 1, arbitrary: fc.uniqueArray(fc.nat({ max: 5 }), { minLength: 1, maxLength: 2 }) },
      );
      const memberKinds: MemberKind[] =
        base.devices > 0 ? ['user', 'user', 'device', 'group'] : ['user', 'user', 'group'];
      const member = fc.constantFrom(...memberKinds).chain((memberKind) =>
        fc.record({
          memberKind: fc.constant(memberKind),
          member: fc.nat({
            max:
              (memberKind === 'user' ? base.users : memberKind === 'device' ? base.devices : base.groups) - 1,
          }),
        }),
      );
      const event: fc.Arbitrary<TenantEvent> = fc.oneof(
        {
          weight: 6,
          arbitrary: fc
            .record({ kind: fc.constant('join' as const), group })
            .chain((e) => member.map((m) => ({ ...e, ...m }))),
        },
        {
          weight: 4,
          arbitrary: fc
            .record({ kind: fc.constant('leave' as const), group })
            .chain((e) => member.map((m) => ({ ...e, ...m }))),
        },
        {
          weight: 4,
          arbitrary: fc.record({ kind: fc.constant('groupAssign' as const), group, sku, disabled }),
        },
        { weight: 2, arbitrary: fc.record({ kind: fc.constant('groupUnassign' as const), group, sku }) },
        {
          weight: 1,
          arbitrary: fc.record({ kind: fc.constant('groupSwap' as const), group, from: sku, to: sku }),
        },
        {
          weight: 1,
          arbitrary: fc.record({ kind: fc.constant('moveDevice' as const), from: group, to: group }),
        },
        {
          weight: 3,
          arbitrary: fc.record({ kind: fc.constant('directAssign' as const), user, sku, disabled }),
        },
        { weight: 1, arbitrary: fc.record({ kind: fc.constant('directRemove' as const), user, sku }) },
        {
          weight: 2,
          arbitrary: fc.record({
            kind: fc.constant('units' as const),
            sku,
            count: fc.integer(options.seats),
          }),
        },
        { weight: 1, arbitrary: fc.record({ kind: fc.constant('softDelete' as const), user }) },
        { weight: 1, arbitrary: fc.record({ kind: fc.constant('restore' as const), user }) },
        { weight: 1, arbitrary: fc.record({ kind: fc.constant('hardDelete' as const), user }) },
        { weight: 1, arbitrary: fc.record({ kind: fc.constant('reprocessUser' as const), user }) },
        { weight: 1, arbitrary: fc.record({ kind: fc.constant('reprocessGroup' as const), group }) },
        {
          weight: 2,
          arbitrary: fc.record({
            kind: fc.constant('location' as const),
            user,
            location: fc.constantFrom(...LOCATIONS),
          }),
        },
        {
          weight: 1,
          arbitrary: fc.record({ kind: fc.constant('proxy' as const), user, addresses: address }),
        },
        {
          weight: 1,
          arbitrary: fc.record({
            kind: fc.constant('healing' as const),
            mode: fc.constantFrom<TenantSettings['licenseErrorHealing']>('automatic', 'manual'),
          }),
        },
      );
      return fc.record({
        shape: fc.record({
          users: fc.constant(base.users),
          devices: fc.constant(base.devices),
          groups: fc.constant(base.groups),
          country: fc.constant(base.country),
          healing: fc.constant(base.healing),
          seats: fc.constant(base.seats),
          locations: fc.array(fc.constantFrom(...LOCATIONS), {
            minLength: base.users,
            maxLength: base.users,
          }),
          addresses: fc.array(address, { minLength: base.users, maxLength: base.users }),
        }),
        // A prelude gives every group a license and every user a group, so that later events meet licensed state.
        prelude: fc.tuple(
          fc.array(sku, { minLength: base.groups, maxLength: base.groups }),
          fc.array(group, { minLength: base.users, maxLength: base.users }),
        ),
        events: fc.array(fc.tuple(fc.nat({ max: 1 }), event), {
          maxLength: options.maxEvents,
          size: 'medium',
        }),
      });
    })
    .map(({ shape, prelude: [groupSkus, userGroups], events }) => {
      const prelude: [number, TenantEvent][] = [
        ...groupSkus.map((s, g): [number, TenantEvent] => [
          0,
          { kind: 'groupAssign', group: g, sku: s, disabled: [] },
        ]),
        ...userGroups.map((g, u): [number, TenantEvent] => [
          1,
          { kind: 'join', group: g, member: u, memberKind: 'user' },
        ]),
      ];
      return { shape, events: [...prelude, ...events] };
    });
}

/** A tenant built from a shape, with the harness state the properties need. */
export class Harness {
  readonly clock = new TestClock();
  readonly tenant: ReferenceTenant;
  /** SKUs whose units were set below what was consumed at the time (only they may exceed Total). */
  readonly lowered = new Set<Guid>();
  private readonly hardDeleted = new Set<Guid>();
  private readonly softDeleted = new Set<Guid>();

  constructor(
    readonly shape: TenantShape,
    readonly skus: readonly Guid[],
    private readonly uniqueAddresses: boolean,
    readonly catalog: Catalog = testCatalog,
  ) {
    this.tenant = new ReferenceTenant(
      catalog,
      { countryLetterCode: shape.country, licenseErrorHealing: shape.healing },
      this.clock.now,
    );
    skus.forEach((skuId, i) => {
      this.tenant.setUnits(skuId, units(shape.seats[i] ?? 0));
    });
    for (let i = 0; i < shape.users; i++) {
      this.tenant.addPrincipal({
        id: userId(i + 1),
        kind: 'user',
        usageLocation: shape.locations[i] ?? null,
        proxyAddresses: this.addressesFor(i, shape.addresses[i] ?? []),
      });
    }
    for (let i = 0; i < shape.devices; i++) {
      this.tenant.addPrincipal({
        id: deviceId(i + 1),
        kind: 'device',
        usageLocation: null,
        proxyAddresses: [],
      });
    }
    // Group 1 is a distribution list (it may carry device SKUs only); the rest are security groups.
    for (let i = 0; i < shape.groups; i++) {
      this.tenant.addGroup(
        i === 0 && shape.groups > 1 ? distributionList(groupId(1)) : securityGroup(groupId(i + 1)),
      );
    }
  }

  private addressesFor(user: number, pooled: readonly string[]): string[] {
    return this.uniqueAddresses ? [`smtp:user${user + 1}@contoso.com`] : [...pooled];
  }

  private sku(index: number): Guid {
    const sku = this.skus[index];
    if (sku === undefined) throw new Error(`no SKU ${index}`);
    return sku;
  }

  private disabledPlans(skuId: Guid, indices: readonly number[]): string[] {
    const plans = this.catalog.sku(skuId)?.planIds ?? [];
    return [...new Set(indices.map((i) => plans[i]).filter((p): p is string => p !== undefined))];
  }

  private memberId(kind: MemberKind, index: number): Guid {
    return kind === 'user' ? userId(index + 1) : kind === 'device' ? deviceId(index + 1) : groupId(index + 1);
  }

  /** Whether the user can be acted on at all (not hard-deleted), and changed (not soft-deleted). */
  private present(id: Guid): boolean {
    return !this.hardDeleted.has(id);
  }

  private active(id: Guid): boolean {
    return this.present(id) && !this.softDeleted.has(id);
  }

  apply(event: TenantEvent): void {
    const t = this.tenant;
    switch (event.kind) {
      case 'join':
      case 'leave': {
        const member = this.memberId(event.memberKind, event.member);
        if (event.memberKind !== 'group' && !this.active(member)) return;
        if (event.kind === 'join') t.addMember(groupId(event.group + 1), member, event.memberKind);
        else t.removeMember(groupId(event.group + 1), member);
        return;
      }
      case 'groupAssign': {
        const skuId = this.sku(event.sku);
        t.assignGroupLicenses(groupId(event.group + 1), {
          addLicenses: [{ skuId, disabledPlans: this.disabledPlans(skuId, event.disabled) }],
          removeLicenses: [],
        });
        return;
      }
      case 'groupUnassign':
        t.assignGroupLicenses(groupId(event.group + 1), {
          addLicenses: [],
          removeLicenses: [this.sku(event.sku)],
        });
        return;
      case 'groupSwap': {
        if (event.from === event.to) return;
        t.assignGroupLicenses(groupId(event.group + 1), {
          addLicenses: [{ skuId: this.sku(event.to), disabledPlans: [] }],
          removeLicenses: [this.sku(event.from)],
        });
        return;
      }
      case 'moveDevice': {
        const from = groupId(event.from + 1);
        const carried = t
          .groupLicenses(from)
          .find((l) => this.catalog.sku(l.skuId)?.assignableTo === 'device');
        if (carried && event.from !== event.to)
          t.moveDeviceLicense(from, carried.skuId, groupId(event.to + 1));
        return;
      }
      case 'directAssign': {
        const id = userId(event.user + 1);
        const skuId = this.sku(event.sku);
        if (!this.active(id)) return;
        t.assignUserLicenses(id, {
          addLicenses: [{ skuId, disabledPlans: this.disabledPlans(skuId, event.disabled) }],
          removeLicenses: [],
        });
        return;
      }
      case 'directRemove': {
        const id = userId(event.user + 1);
        if (this.active(id))
          t.assignUserLicenses(id, { addLicenses: [], removeLicenses: [this.sku(event.sku)] });
        return;
      }
      case 'units': {
        const skuId = this.sku(event.sku);
        if (event.count < t.consumedUnits(skuId)) this.lowered.add(skuId);
        t.setUnits(skuId, units(event.count));
        return;
      }
      case 'softDelete': {
        const id = userId(event.user + 1);
        if (!this.present(id)) return;
        t.softDelete(id);
        this.softDeleted.add(id);
        return;
      }
      case 'restore': {
        const id = userId(event.user + 1);
        if (!this.present(id)) return;
        t.restore(id);
        this.softDeleted.delete(id);
        return;
      }
      case 'hardDelete': {
        const id = userId(event.user + 1);
        if (!this.present(id)) return;
        t.hardDelete(id);
        this.hardDeleted.add(id);
        return;
      }
      case 'reprocessUser': {
        const id = userId(event.user + 1);
        if (this.active(id)) t.reprocessUser(id);
        return;
      }
      case 'reprocessGroup':
        t.reprocessGroup(groupId(event.group + 1));
        return;
      case 'location': {
        const id = userId(event.user + 1);
        if (this.active(id)) t.updateUser(id, { usageLocation: event.location });
        return;
      }
      case 'proxy': {
        const id = userId(event.user + 1);
        if (this.active(id))
          t.updateUser(id, { proxyAddresses: this.addressesFor(event.user, event.addresses) });
        return;
      }
      case 'healing':
        t.setHealing(event.mode);
        return;
    }
  }

  /** Total units per SKU as the tenant stands. */
  totals(): Map<Guid, number> {
    return new Map(
      this.tenant.snapshot().subscriptions.map((s) => [s.skuId, totalUnits(s.prepaidUnits)] as const),
    );
  }
}

/** Every SKU of the test catalog, which between them exercise every rule. */
export const ALL_SKUS: readonly Guid[] = [
  SKU.BASIC,
  SKU.MEETING,
  SKU.PREMIUM,
  SKU.CHATONLY,
  SKU.SECURITY,
  SKU.INSIGHTS,
  SKU.DEVICE_APPS,
  SKU.DEVICE_KIOSK,
];

/** The SKUs without mutually exclusive plans between them (PREMIUM excludes BASIC's mailbox and sites). */
export const NON_CONFLICTING_SKUS: readonly Guid[] = ALL_SKUS.filter((s) => s !== SKU.PREMIUM);
