import { describe, expect, it } from 'vitest';
import { licensingFailureText } from '../../src/api/wording.js';
import type { ProxyAddressView } from '../../src/engine/evaluate.js';
import type { LicensingFailure, Result } from '../../src/engine/failures.js';
import { normalizeGuid } from '../../src/engine/ids.js';
import type {
  GroupFacts,
  GroupLicenseAssignment,
  LicenseEntry,
  PrincipalFacts,
} from '../../src/engine/model.js';
import {
  type AssignLicenseRequest,
  type LicenseChange,
  validateDirectLicenseChange,
  validateGroupLicenseChange,
} from '../../src/engine/validation.js';
import { entry, user } from './support/builders.js';
import { PLAN, SKU, testCatalog } from './support/catalog.js';
import { groupId, skuGuid, userId } from './support/ids.js';
import { add, distributionList, microsoft365Group, remove, securityGroup, units } from './support/tenant.js';

// rules.md §3–§4 request validation; each failure is checked in the exact words of api.md "Licensing messages"
// (the engine gives the code and facts, src/api/wording.ts the words).

const G1 = groupId(1);
const G2 = groupId(2);
const NOT_BOUGHT = skuGuid(99);
const ALL_BOUGHT = new Set(testCatalog.skus.map((s) => s.skuId));

function messageOf(result: Result<LicenseChange>): string {
  return result.ok ? 'ok' : licensingFailureText(result.failure);
}

function failureOf(result: Result<LicenseChange>): LicensingFailure | undefined {
  return result.ok ? undefined : result.failure;
}

interface GroupCase {
  readonly name: string;
  readonly request: AssignLicenseRequest;
  readonly group?: GroupFacts;
  readonly current?: readonly GroupLicenseAssignment[];
  readonly deviceSkuOwners?: ReadonlyMap<string, string>;
  readonly subscribed?: ReadonlySet<string>;
  readonly message: string;
}

describe('validating a group assignLicense (rules.md §4)', () => {
  const cases: GroupCase[] = [
    { name: 'a bought SKU on a security group is accepted', request: add([SKU.BASIC]), message: 'ok' },
    {
      name: 'a SKU the tenant did not buy is refused',
      request: add([SKU.BASIC]),
      subscribed: new Set([SKU.SECURITY]),
      message: `License ${SKU.BASIC} does not correspond to a valid company License.`,
    },
    {
      name: 'a SKU id that is not in the catalog is refused',
      request: add([NOT_BOUGHT]),
      message: `License ${NOT_BOUGHT} does not correspond to a valid company License.`,
    },
    {
      name: 'a SKU id that is not a GUID is refused, naming it as given',
      request: add(['E3']),
      message: 'License E3 does not correspond to a valid company License.',
    },
    {
      name: 'a removed SKU that is not a GUID is refused too',
      request: remove('nope'),
      message: 'License nope does not correspond to a valid company License.',
    },
    {
      name: 'a disabled plan that is not in the SKU is refused',
      request: add([SKU.BASIC, PLAN.MEET]),
      message: `The disabled plan ${PLAN.MEET} is not a valid service plan for license ${SKU.BASIC}.`,
    },
    {
      name: 'a disabled plan that is not a GUID is refused, naming it as given',
      request: add([SKU.BASIC, 'Yammer']),
      message: `The disabled plan Yammer is not a valid service plan for license ${SKU.BASIC}.`,
    },
    {
      name: 'a distribution list cannot carry user licenses',
      request: add([SKU.BASIC]),
      group: distributionList(G1),
      message: `Licenses cannot be assigned to group ${G1}: only security-enabled groups (securityEnabled: true) can carry licenses.`,
    },
    {
      name: 'a Microsoft 365 group that is not security-enabled cannot carry user licenses',
      request: add([SKU.BASIC]),
      group: microsoft365Group(G1),
      message: `Licenses cannot be assigned to group ${G1}: only security-enabled groups (securityEnabled: true) can carry licenses.`,
    },
    {
      name: 'a security-enabled Microsoft 365 group can carry user licenses',
      request: add([SKU.BASIC]),
      group: microsoft365Group(G1, true),
      message: 'ok',
    },
    {
      name: 'a device SKU goes to a distribution list',
      request: add([SKU.DEVICE_APPS]),
      group: distributionList(G1),
      message: 'ok',
    },
    {
      name: 'a device SKU does not go to a Microsoft 365 group, even a security-enabled one',
      request: add([SKU.DEVICE_APPS]),
      group: microsoft365Group(G1, true),
      message: `Licenses cannot be assigned to group ${G1}: device licenses go to security groups or distribution lists, not Microsoft 365 groups.`,
    },
    {
      name: 'a device SKU does not go to a group that is neither security group nor distribution list',
      request: add([SKU.DEVICE_APPS]),
      group: { id: G1, securityEnabled: false, mailEnabled: false, groupTypes: [] },
      message: `Licenses cannot be assigned to group ${G1}: the group is neither a security group nor a distribution list.`,
    },
    {
      name: 'a device SKU already carried by another group is refused',
      request: add([SKU.DEVICE_APPS]),
      deviceSkuOwners: new Map([[SKU.DEVICE_APPS, G2]]),
      message: `License ${SKU.DEVICE_APPS} is a device license and is already assigned to group ${G2}. A device license can be assigned to one group only; move it with moveLicense.`,
    },
    {
      name: 'the group that carries a device SKU may change it',
      request: add([SKU.DEVICE_APPS, PLAN.APPS]),
      current: [{ skuId: SKU.DEVICE_APPS, disabledPlans: [] }],
      deviceSkuOwners: new Map([[SKU.DEVICE_APPS, G1]]),
      message: 'ok',
    },
    {
      name: 'a group carries at most one device SKU',
      request: add([SKU.DEVICE_KIOSK]),
      current: [{ skuId: SKU.DEVICE_APPS, disabledPlans: [] }],
      deviceSkuOwners: new Map([[SKU.DEVICE_APPS, G1]]),
      message: `Group ${G1} can carry only one device license subscription.`,
    },
    {
      name: 'a dependent plan without its prerequisite in the same group is refused (seed 002)',
      request: add([SKU.MEETING]),
      message: `License assignment failed because service plan ${PLAN.MEET} depends on the service plan(s) ${PLAN.CHAT}.`,
    },
    {
      name: 'the message lists every plan that would satisfy the dependency',
      request: add([SKU.INSIGHTS]),
      message: `License assignment failed because service plan ${PLAN.ANALYTICS} depends on the service plan(s) ${PLAN.MAIL_STD}, ${PLAN.MAIL_ENT}.`,
    },
    {
      name: 'a dependent plan with its prerequisite from another SKU of the same group is accepted',
      request: add([SKU.MEETING], [SKU.CHATONLY]),
      message: 'ok',
    },
    {
      name: 'a SKU carrying both the dependent plan and its prerequisite is accepted',
      request: add([SKU.PREMIUM]),
      message: 'ok',
    },
    {
      name: 'disabling the prerequisite while the dependent plan stays enabled is refused',
      request: add([SKU.PREMIUM, PLAN.CHAT]),
      message: `License assignment failed because service plan ${PLAN.MEET} depends on the service plan(s) ${PLAN.CHAT}.`,
    },
    {
      name: 'a prerequisite already carried by the group counts',
      request: add([SKU.MEETING]),
      current: [{ skuId: SKU.CHATONLY, disabledPlans: [] }],
      message: 'ok',
    },
    {
      name: 'removing the prerequisite that the group’s dependent plan needs is refused',
      request: remove(SKU.CHATONLY),
      current: [
        { skuId: SKU.CHATONLY, disabledPlans: [] },
        { skuId: SKU.MEETING, disabledPlans: [] },
      ],
      message: `License assignment failed because service plan ${PLAN.MEET} depends on the service plan(s) ${PLAN.CHAT}.`,
    },
    {
      name: 'the same SKU twice in addLicenses is refused',
      request: add([SKU.BASIC], [SKU.BASIC, PLAN.DOCS]),
      message: `License ${SKU.BASIC} appears more than once in addLicenses.`,
    },
    {
      name: 'a SKU both added and removed is refused',
      request: { addLicenses: [{ skuId: SKU.BASIC, disabledPlans: [] }], removeLicenses: [SKU.BASIC] },
      message: `License ${SKU.BASIC} cannot be both added and removed in one request.`,
    },
  ];

  it.each(cases)('$name', (row) => {
    const result = validateGroupLicenseChange(
      {
        catalog: testCatalog,
        subscribedSkuIds: row.subscribed ?? ALL_BOUGHT,
        group: row.group ?? securityGroup(G1),
        current: row.current ?? [],
        deviceSkuOwners: row.deviceSkuOwners ?? new Map(),
      },
      row.request,
    );
    expect(messageOf(result)).toBe(row.message);
  });

  it('returns the group’s full new license set, with what was added, updated and removed', () => {
    const result = validateGroupLicenseChange(
      {
        catalog: testCatalog,
        subscribedSkuIds: ALL_BOUGHT,
        group: securityGroup(G1),
        current: [
          { skuId: SKU.SECURITY, disabledPlans: [] },
          { skuId: SKU.BASIC, disabledPlans: [] },
          { skuId: SKU.CHATONLY, disabledPlans: [] },
        ],
        deviceSkuOwners: new Map(),
      },
      {
        addLicenses: [
          {
            skuId: SKU.BASIC.toUpperCase(),
            disabledPlans: [PLAN.SITES_STD, PLAN.DOCS.toUpperCase(), PLAN.DOCS],
          },
          { skuId: SKU.INSIGHTS, disabledPlans: [] },
          { skuId: SKU.SECURITY, disabledPlans: [] },
        ],
        removeLicenses: [SKU.CHATONLY, SKU.CHATONLY, SKU.PREMIUM],
      },
    );
    expect(result).toEqual({
      ok: true,
      value: {
        licenses: [
          { skuId: SKU.BASIC, disabledPlans: [PLAN.DOCS, PLAN.SITES_STD].sort() },
          { skuId: SKU.SECURITY, disabledPlans: [] },
          { skuId: SKU.INSIGHTS, disabledPlans: [] },
        ],
        added: [SKU.INSIGHTS],
        updated: [SKU.BASIC],
        removed: [SKU.CHATONLY],
      },
    });
  });

  it('swaps one SKU for another in a single request', () => {
    const result = validateGroupLicenseChange(
      {
        catalog: testCatalog,
        subscribedSkuIds: ALL_BOUGHT,
        group: securityGroup(G1),
        current: [{ skuId: SKU.BASIC, disabledPlans: [] }],
        deviceSkuOwners: new Map(),
      },
      { addLicenses: [{ skuId: SKU.PREMIUM, disabledPlans: [] }], removeLicenses: [SKU.BASIC] },
    );
    expect(result.ok && result.value).toEqual({
      licenses: [{ skuId: SKU.PREMIUM, disabledPlans: [] }],
      added: [SKU.PREMIUM],
      updated: [],
      removed: [SKU.BASIC],
    });
  });

  it('removing licenses from a group that may no longer carry them is allowed', () => {
    const result = validateGroupLicenseChange(
      {
        catalog: testCatalog,
        subscribedSkuIds: ALL_BOUGHT,
        group: distributionList(G1),
        current: [{ skuId: SKU.BASIC, disabledPlans: [] }],
        deviceSkuOwners: new Map(),
      },
      remove(SKU.BASIC),
    );
    expect(result.ok && result.value.licenses).toEqual([]);
  });
});

const U = userId(1);
const OTHER = userId(2);

interface DirectCase {
  readonly name: string;
  readonly request: AssignLicenseRequest;
  readonly user?: PrincipalFacts;
  readonly entries?: readonly LicenseEntry[];
  /** Total and consumed units per SKU; every SKU of the catalog is bought with 10 free seats otherwise. */
  readonly seats?: Readonly<Record<string, readonly [number, number]>>;
  readonly heldAddresses?: readonly string[];
  /** The expected message; a list when api.md leaves the order of the named plans open. */
  readonly message: string | readonly string[];
}

describe('validating a direct assignLicense (rules.md §3–§4)', () => {
  const cases: DirectCase[] = [
    {
      name: 'a bought SKU for a user with a usage location and a free seat is accepted',
      request: add([SKU.BASIC]),
      message: 'ok',
    },
    {
      name: 'a user without usage location is refused: direct assignment does not inherit the tenant country',
      request: add([SKU.BASIC]),
      user: user(U, null),
      message: 'License assignment cannot be done for user with invalid usage location.',
    },
    {
      name: 'a user whose usage location prohibits an enabled plan is refused with the usage-location message',
      request: add([SKU.SECURITY]),
      user: user(U, 'RU'),
      message: 'License assignment cannot be done for user with invalid usage location.',
    },
    {
      name: 'disabling the prohibited plan makes the location acceptable',
      request: add([SKU.SECURITY, PLAN.GUARD]),
      user: user(U, 'RU'),
      message: 'ok',
    },
    {
      name: 'removing licenses needs no usage location',
      request: remove(SKU.BASIC),
      user: user(U, null),
      entries: [entry(SKU.BASIC, null, 'Active')],
      message: 'ok',
    },
    {
      name: 'a device SKU cannot be assigned to a user',
      request: add([SKU.DEVICE_APPS]),
      message: `License ${SKU.DEVICE_APPS} does not correspond to a valid company License.`,
    },
    {
      name: 'a SKU the tenant did not buy is refused',
      request: add([SKU.BASIC]),
      seats: { [SKU.SECURITY]: [10, 0] },
      message: `License ${SKU.BASIC} does not correspond to a valid company License.`,
    },
    {
      name: 'a SKU with no seat left is refused',
      request: add([SKU.BASIC]),
      seats: { [SKU.BASIC]: [5, 5] },
      message: `Subscription ${SKU.BASIC} does not have any available licenses.`,
    },
    {
      name: 'a SKU whose units were lowered below consumption is refused',
      request: add([SKU.BASIC]),
      seats: { [SKU.BASIC]: [3, 5] },
      message: `Subscription ${SKU.BASIC} does not have any available licenses.`,
    },
    {
      name: 'the usage location is checked before the seats',
      request: add([SKU.BASIC]),
      user: user(U, null),
      seats: { [SKU.BASIC]: [5, 5] },
      message: 'License assignment cannot be done for user with invalid usage location.',
    },
    {
      name: 'a SKU the user already consumes through a group needs no free seat',
      request: add([SKU.BASIC]),
      entries: [entry(SKU.BASIC, G1, 'Active')],
      seats: { [SKU.BASIC]: [5, 5] },
      message: 'ok',
    },
    {
      name: 'a SKU the user waits for through a group still needs a free seat',
      request: add([SKU.BASIC]),
      entries: [entry(SKU.BASIC, G1, 'Error', 'CountViolation')],
      seats: { [SKU.BASIC]: [5, 5] },
      message: `Subscription ${SKU.BASIC} does not have any available licenses.`,
    },
    {
      name: 'a plan exclusive with a plan the user holds through a group is refused, naming both plans',
      request: add([SKU.PREMIUM]),
      entries: [entry(SKU.BASIC, G1, 'Active')],
      message: `License assignment failed because service plans ${PLAN.MAIL_ENT}, ${PLAN.MAIL_STD} are mutually exclusive.`,
    },
    {
      name: 'a plan exclusive with another directly assigned plan is refused (the pair in either order)',
      request: add([SKU.PREMIUM, PLAN.MAIL_ENT]),
      entries: [entry(SKU.BASIC, null, 'Active')],
      message: [
        `License assignment failed because service plans ${PLAN.SITES_ENT}, ${PLAN.SITES_STD} are mutually exclusive.`,
        `License assignment failed because service plans ${PLAN.SITES_STD}, ${PLAN.SITES_ENT} are mutually exclusive.`,
      ],
    },
    {
      name: 'a group source in error does not conflict',
      request: add([SKU.PREMIUM]),
      entries: [entry(SKU.BASIC, G1, 'Error', 'CountViolation')],
      message: 'ok',
    },
    {
      name: 'disabling the conflicting plans makes the assignment acceptable',
      request: add([SKU.PREMIUM, PLAN.MAIL_ENT, PLAN.SITES_ENT]),
      entries: [entry(SKU.BASIC, G1, 'Active')],
      message: 'ok',
    },
    {
      name: 'a dependent plan without its prerequisite anywhere is refused',
      request: add([SKU.MEETING]),
      message: `License assignment failed because service plan ${PLAN.MEET} depends on the service plan(s) ${PLAN.CHAT}.`,
    },
    {
      name: 'a dependent plan whose prerequisite comes through a group is accepted',
      request: add([SKU.MEETING]),
      entries: [entry(SKU.CHATONLY, G1, 'Active')],
      message: 'ok',
    },
    {
      name: 'a dependent plan whose prerequisite comes through a group in error is refused',
      request: add([SKU.MEETING]),
      entries: [entry(SKU.CHATONLY, G1, 'Error', 'CountViolation')],
      message: `License assignment failed because service plan ${PLAN.MEET} depends on the service plan(s) ${PLAN.CHAT}.`,
    },
    {
      name: 'removing the direct prerequisite of a directly assigned plan is refused',
      request: remove(SKU.CHATONLY),
      entries: [entry(SKU.CHATONLY, null, 'Active'), entry(SKU.MEETING, null, 'Active')],
      message: `License assignment failed because service plan ${PLAN.MEET} depends on the service plan(s) ${PLAN.CHAT}.`,
    },
    {
      name: 'removing a license the user holds only through a group is refused',
      request: remove(SKU.BASIC),
      entries: [entry(SKU.BASIC, G1, 'Active')],
      message:
        'User license is inherited from a group membership and it cannot be removed directly from the user.',
    },
    {
      name: 'removing a license that a group gives but that is in error is refused the same way',
      request: remove(SKU.BASIC),
      entries: [entry(SKU.BASIC, G1, 'Error', 'CountViolation')],
      message:
        'User license is inherited from a group membership and it cannot be removed directly from the user.',
    },
    {
      name: 'removing the direct license of a SKU also held through a group is accepted',
      request: remove(SKU.BASIC),
      entries: [entry(SKU.BASIC, null, 'Active'), entry(SKU.BASIC, G1, 'Active')],
      message: 'ok',
    },
    {
      name: 'removing a bought SKU the user does not have is a no-op',
      request: remove(SKU.BASIC),
      message: 'ok',
    },
    {
      name: 'a mailbox plan for a user whose proxy address another mailbox holds is refused',
      request: add([SKU.BASIC]),
      user: user(U, 'US', ['SMTP:alex@contoso.com']),
      heldAddresses: ['smtp:alex@contoso.com'],
      message:
        "License assignment failed because proxy address SMTP:alex@contoso.com is already used by another user's mailbox.",
    },
    {
      name: 'a user who already has a working mailbox is not checked again',
      request: add([SKU.PREMIUM, PLAN.SITES_ENT]),
      user: user(U, 'US', ['smtp:alex@contoso.com']),
      entries: [entry(SKU.SECURITY, G1, 'Active'), entry(SKU.CHATONLY, null, 'Active')],
      heldAddresses: [],
      message: 'ok',
    },
  ];

  it.each(cases)('$name', (row) => {
    const seats = row.seats ?? Object.fromEntries(testCatalog.skus.map((s) => [s.skuId, [10, 0] as const]));
    const held = new Set(row.heldAddresses ?? []);
    const proxyAddresses: ProxyAddressView = { isHeldByAnother: (address) => held.has(address) };
    const result = validateDirectLicenseChange(
      {
        catalog: testCatalog,
        subscriptions: new Map(
          Object.entries(seats).map(([skuId, [total, consumed]]) => [
            skuId,
            { skuId, prepaidUnits: units(total), consumedUnits: consumed },
          ]),
        ),
        user: row.user ?? user(U),
        entries: row.entries ?? [],
        proxyAddresses,
      },
      row.request,
    );
    const expected = typeof row.message === 'string' ? [row.message] : row.message;
    expect(expected).toContain(messageOf(result));
  });

  it('returns the user’s new direct license set; group entries are not part of it', () => {
    const result = validateDirectLicenseChange(
      {
        catalog: testCatalog,
        subscriptions: new Map(
          testCatalog.skus.map((s) => [
            s.skuId,
            { skuId: s.skuId, prepaidUnits: units(10), consumedUnits: 0 },
          ]),
        ),
        user: user(U),
        entries: [
          entry(SKU.SECURITY, null, 'Active'),
          entry(SKU.CHATONLY, null, 'Active'),
          entry(SKU.BASIC, G1, 'Active'),
        ],
        proxyAddresses: { isHeldByAnother: () => false },
      },
      {
        addLicenses: [{ skuId: SKU.SECURITY, disabledPlans: [PLAN.GUARD] }],
        removeLicenses: [SKU.CHATONLY],
      },
    );
    expect(result).toEqual({
      ok: true,
      value: {
        licenses: [{ skuId: SKU.SECURITY, disabledPlans: [PLAN.GUARD] }],
        added: [],
        updated: [SKU.SECURITY],
        removed: [SKU.CHATONLY],
      },
    });
  });

  it('a failure carries a stable code and its facts; the words are the edge’s', () => {
    const result = validateDirectLicenseChange(
      {
        catalog: testCatalog,
        subscriptions: new Map([[SKU.BASIC, { skuId: SKU.BASIC, prepaidUnits: units(1), consumedUnits: 1 }]]),
        user: user(OTHER),
        entries: [],
        proxyAddresses: { isHeldByAnother: () => false },
      },
      add([SKU.BASIC]),
    );
    expect(failureOf(result)).toEqual({ code: 'NoAvailableLicenses', skuId: SKU.BASIC });
    expect(messageOf(result)).toBe(`Subscription ${SKU.BASIC} does not have any available licenses.`);
  });
});

describe('GUIDs from requests', () => {
  it.each([
    { raw: ' 6FD2C87F-B296-42F0-B197-1E91E994B900 ', normalized: '6fd2c87f-b296-42f0-b197-1e91e994b900' },
    { raw: '6fd2c87f-b296-42f0-b197-1e91e994b90', normalized: undefined },
    { raw: '{6fd2c87f-b296-42f0-b197-1e91e994b900}', normalized: undefined },
    { raw: 'ENTERPRISEPACK', normalized: undefined },
  ])('$raw normalizes to $normalized', (row) => {
    expect(normalizeGuid(row.raw)).toBe(row.normalized);
  });
});
