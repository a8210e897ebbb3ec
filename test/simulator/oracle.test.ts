// The simulator's oracle (src/simulator/oracle.ts): it finds nothing wrong with answers the rules allow, whichever
// way the order of events went, and names what is wrong in answers they do not — each case below feeds it a
// deliberately wrong service answer.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { loadCatalog, loadCatalogData } from '../../src/catalog/load.js';
import { evaluateTenant } from '../../src/engine/index.js';
import { planTenant } from '../../src/simulator/generate.js';
import {
  judgeTenant,
  type OracleLicense,
  type OracleTenant,
  type OracleUser,
  recordedTenant,
  type ServiceEntry,
} from '../../src/simulator/oracle.js';
import { type SimState, snapshotOf } from '../../src/simulator/state.js';

const catalog = loadCatalogData();

function sku(part: string): string {
  const found = catalog.skus.find((s) => s.skuPartNumber === part);
  if (!found) throw new Error(`no SKU ${part}`);
  return found.skuId;
}
function plan(part: string, name: string): string {
  const found = catalog.skus
    .find((s) => s.skuPartNumber === part)
    ?.servicePlans.find((p) => p.servicePlanName === name);
  if (!found) throw new Error(`no plan ${name} in ${part}`);
  return found.servicePlanId;
}

const E3 = sku('ENTERPRISEPACK');
const E1 = sku('STANDARDPACK');
const E5 = sku('ENTERPRISEPREMIUM');
const EMS = sku('EMS');
const AUDIO = sku('MCOMEETADV');
const DEVICE = sku('OFFICE_PROPLUS_DEVICE1');
const YAMMER = plan('ENTERPRISEPACK', 'YAMMER_ENTERPRISE');
const EXCHANGE_E1 = plan('STANDARDPACK', 'EXCHANGE_S_STANDARD');
const SHAREPOINT_E1 = plan('STANDARDPACK', 'SHAREPOINTSTANDARD');

const HR = 'g-hr';
const KIOSK = 'g-kiosk';
const LAB = 'g-lab';
const ANNEX = 'g-annex';

const license = (skuId: string, disabledPlans: string[] = []): OracleLicense => ({ skuId, disabledPlans });
const person = (id: string, more: Partial<OracleUser> = {}): OracleUser => ({
  id,
  usageLocation: 'US',
  proxyAddresses: [`SMTP:${id}@contoso.com`],
  deleted: false,
  direct: [],
  ...more,
});
const active = (skuId: string, group: string | null, disabledPlans: string[] = []): ServiceEntry => ({
  skuId,
  assignedByGroup: group,
  disabledPlans,
  state: 'Active',
  error: 'None',
});
const failed = (skuId: string, group: string | null, error: string, disabledPlans: string[] = []) => ({
  ...active(skuId, group, disabledPlans),
  state: 'Error',
  error,
});
const disabled = (skuId: string, group: string | null) => ({ ...active(skuId, group), state: 'Disabled' });

function tenantWith(more: Partial<OracleTenant>): OracleTenant {
  return {
    countryLetterCode: 'US',
    licenseErrorHealing: 'automatic',
    totals: new Map(),
    lowered: new Set(),
    users: [],
    devices: [],
    groups: [],
    memberships: [],
    ...more,
  };
}

type Answer = Record<string, readonly ServiceEntry[]>;

/** The checks that found something, with the principal (or SKU) each one names. */
function judged(tenant: OracleTenant, answer: Answer, consumed?: Record<string, number>) {
  const counted = new Map<string, number>();
  for (const entries of Object.values(answer)) {
    for (const skuId of new Set(
      entries.filter((e) => e.state === 'Active' || e.error === 'DependencyViolation').map((e) => e.skuId),
    ))
      counted.set(skuId, (counted.get(skuId) ?? 0) + 1);
  }
  return judgeTenant(catalog, tenant, {
    principals: new Map(Object.entries(answer).map(([id, entries]) => [id, { entries }])),
    consumedUnits: consumed ? new Map(Object.entries(consumed)) : counted,
  }).map((d) => [d.check, d.principalId ?? d.skuId]);
}

/** HR carries E3 (Yammer off) and EMS; users u1–u3 in it; `seats` of each. */
function hr(seats: number, more: Partial<OracleTenant> = {}): OracleTenant {
  return tenantWith({
    totals: new Map([
      [E3, seats],
      [EMS, seats],
    ]),
    users: ['u1', 'u2', 'u3'].map((id) => person(id)),
    groups: [{ id: HR, licenses: [license(E3, [YAMMER]), license(EMS)] }],
    memberships: ['u1', 'u2', 'u3'].map((id) => ({ groupId: HR, memberId: id, kind: 'user' as const })),
    ...more,
  });
}
const granted = [active(E3, HR, [YAMMER]), active(EMS, HR)];
const waiting = [failed(E3, HR, 'CountViolation', [YAMMER]), failed(EMS, HR, 'CountViolation')];

describe('the oracle', () => {
  it('accepts a tenant whose members all have their licenses', () => {
    expect(judged(hr(3), { u1: granted, u2: granted, u3: granted })).toEqual([]);
  });

  it('accepts any choice of who got the last seats, as long as the others wait', () => {
    expect(judged(hr(2), { u1: granted, u2: granted, u3: waiting })).toEqual([]);
    expect(judged(hr(2), { u1: waiting, u2: granted, u3: granted })).toEqual([]);
  });

  it('reports a source granted in part: all or nothing', () => {
    const half = [active(E3, HR, [YAMMER]), failed(EMS, HR, 'CountViolation')];
    expect(judged(hr(3), { u1: granted, u2: granted, u3: half })).toEqual([['verdict', 'u3']]);
  });

  it('reports more seats held than owned, and consumedUnits that do not count the holders', () => {
    expect(judged(hr(2), { u1: granted, u2: granted, u3: granted })).toEqual([
      ['seats', E3],
      ['seats', EMS],
    ]);
    expect(judged(hr(3), { u1: granted, u2: granted, u3: granted }, { [E3]: 2, [EMS]: 3 })).toEqual([
      ['seats', E3],
    ]);
  });

  it('lets seats held stay above Total only for SKUs whose units were lowered', () => {
    const lowered = hr(2, { lowered: new Set([E3, EMS]) });
    expect(judged(lowered, { u1: granted, u2: granted, u3: granted })).toEqual([]);
  });

  it('reports a waiter beside a free seat with automatic healing, not with manual', () => {
    expect(judged(hr(3), { u1: granted, u2: granted, u3: waiting })).toEqual([['idleSeat', 'u3']]);
    expect(
      judged(hr(3, { licenseErrorHealing: 'manual' }), { u1: granted, u2: granted, u3: waiting }),
    ).toEqual([]);
  });

  it('reports a missing entry, an entry with other disabled plans, and an entry with no source', () => {
    const yammerOn = [active(E3, HR), active(EMS, HR)];
    const stray = [...granted, failed(E1, KIOSK, 'CountViolation')];
    expect(judged(hr(3), { u1: [active(E3, HR, [YAMMER])], u2: yammerOn, u3: stray })).toEqual([
      ['entries', 'u1'],
      ['entries', 'u2'],
      ['entries', 'u3'],
    ]);
  });

  it('checks the usage location: the user’s own, or the tenant’s for group sources', () => {
    const tenant = hr(3, {
      users: [person('u1', { usageLocation: 'IR' }), person('u2', { usageLocation: null }), person('u3')],
    });
    const prohibited = [
      failed(E3, HR, 'ProhibitedInUsageLocationViolation', [YAMMER]),
      failed(EMS, HR, 'ProhibitedInUsageLocationViolation'),
    ];
    expect(judged(tenant, { u1: prohibited, u2: granted, u3: granted })).toEqual([]);
    expect(judged(tenant, { u1: granted, u2: granted, u3: granted })).toEqual([['verdict', 'u1']]);
    const inIran = { ...tenant, countryLetterCode: 'IR' };
    expect(judged(inIran, { u1: prohibited, u2: granted, u3: granted })).toEqual([['verdict', 'u2']]);
  });

  it('refuses a direct license to a user without a usage location', () => {
    const tenant = tenantWith({
      totals: new Map([[E3, 5]]),
      users: [person('u1', { usageLocation: null, direct: [license(E3)] })],
    });
    expect(judged(tenant, { u1: [failed(E3, null, 'ProhibitedInUsageLocationViolation')] })).toEqual([]);
    expect(judged(tenant, { u1: [active(E3, null)] })).toEqual([['verdict', 'u1']]);
  });

  describe('conflicting plans (E1 and E3 both carry an Exchange plan)', () => {
    const tenant = hr(3, {
      totals: new Map([
        [E3, 3],
        [EMS, 3],
        [E1, 3],
      ]),
      groups: [
        { id: HR, licenses: [license(E3, [YAMMER]), license(EMS)] },
        { id: KIOSK, licenses: [license(E1)] },
      ],
      memberships: [
        ...['u1', 'u2', 'u3'].map((id) => ({ groupId: HR, memberId: id, kind: 'user' as const })),
        { groupId: KIOSK, memberId: 'u1', kind: 'user' },
      ],
    });
    const excluded = [
      failed(E3, HR, 'MutuallyExclusiveViolation', [YAMMER]),
      failed(EMS, HR, 'MutuallyExclusiveViolation'),
    ];

    it('accepts either source winning, the other in MutuallyExclusiveViolation', () => {
      expect(judged(tenant, { u1: [...excluded, active(E1, KIOSK)], u2: granted, u3: granted })).toEqual([]);
      const kioskLost = [...granted, failed(E1, KIOSK, 'MutuallyExclusiveViolation')];
      expect(judged(tenant, { u1: kioskLost, u2: granted, u3: granted })).toEqual([]);
    });

    it('reports both granted, or both refused with nothing granted to conflict with', () => {
      expect(judged(tenant, { u1: [...granted, active(E1, KIOSK)], u2: granted, u3: granted })).toEqual([
        ['verdict', 'u1'],
        ['verdict', 'u1'],
      ]);
      const bothRefused = [...excluded, failed(E1, KIOSK, 'MutuallyExclusiveViolation')];
      expect(judged(tenant, { u1: bothRefused, u2: granted, u3: granted })).toEqual([
        ['verdict', 'u1'],
        ['verdict', 'u1'],
      ]);
    });

    it('sees no conflict once the conflicting plans are disabled in the assignment', () => {
      const off = [EXCHANGE_E1, SHAREPOINT_E1];
      const withoutThem = {
        ...tenant,
        groups: [
          { id: HR, licenses: [license(E3, [YAMMER]), license(EMS)] },
          { id: KIOSK, licenses: [license(E1, off)] },
        ],
      };
      const both = [...granted, active(E1, KIOSK, off)];
      expect(judged(withoutThem, { u1: both, u2: granted, u3: granted })).toEqual([]);
      // Exchange alone is not enough: E1's SharePoint excludes E3's.
      const exchangeOff = {
        ...withoutThem,
        groups: [
          { id: HR, licenses: [license(E3, [YAMMER]), license(EMS)] },
          { id: KIOSK, licenses: [license(E1, [EXCHANGE_E1])] },
        ],
      };
      const stillBoth = [...granted, active(E1, KIOSK, [EXCHANGE_E1])];
      expect(judged(exchangeOff, { u1: stillBoth, u2: granted, u3: granted })).toEqual([
        ['verdict', 'u1'],
        ['verdict', 'u1'],
      ]);
    });
  });

  describe('a shared proxy address', () => {
    const tenant = tenantWith({
      totals: new Map([[E3, 5]]),
      users: [
        person('alex', { proxyAddresses: ['SMTP:alex@contoso.com'] }),
        person('alexandra', { proxyAddresses: ['SMTP:alexandra@contoso.com', 'smtp:ALEX@contoso.com'] }),
      ],
      groups: [{ id: HR, licenses: [license(E3)] }],
      memberships: [
        { groupId: HR, memberId: 'alex', kind: 'user' },
        { groupId: HR, memberId: 'alexandra', kind: 'user' },
      ],
    });

    it('accepts one working mailbox on it, the other user refused', () => {
      const refused = [failed(E3, HR, 'UniquenessViolation')];
      expect(judged(tenant, { alex: [active(E3, HR)], alexandra: refused })).toEqual([]);
      expect(judged(tenant, { alex: refused, alexandra: [active(E3, HR)] })).toEqual([]);
    });

    it('reports two working mailboxes on it', () => {
      expect(judged(tenant, { alex: [active(E3, HR)], alexandra: [active(E3, HR)] })).toEqual([
        ['uniqueness', 'alexandra'],
        ['verdict', 'alex'],
        ['verdict', 'alexandra'],
      ]);
    });

    it('reports a refusal for an address no mailbox holds, with automatic healing', () => {
      const refused = [failed(E3, HR, 'UniquenessViolation')];
      expect(judged(tenant, { alex: [], alexandra: refused })).toEqual([
        ['entries', 'alex'],
        ['idleAddress', 'alexandra'],
      ]);
    });
  });

  describe('a dependency hold (rules.md §3)', () => {
    // Audio Conferencing directly; E5 (which brings MCOSTANDARD, its prerequisite) through a group it left.
    const tenant = tenantWith({
      totals: new Map([
        [AUDIO, 5],
        [E5, 5],
      ]),
      users: [person('u1', { direct: [license(AUDIO)] })],
      groups: [{ id: 'g-e5', licenses: [license(E5)] }],
    });

    it('accepts the departed source kept in DependencyViolation, its seat held', () => {
      const held = [active(AUDIO, null), failed(E5, 'g-e5', 'DependencyViolation')];
      expect(judged(tenant, { u1: held })).toEqual([]);
    });

    it('reports a hold nothing needs', () => {
      const needless = { ...tenant, users: [person('u1')] };
      expect(judged(needless, { u1: [failed(E5, 'g-e5', 'DependencyViolation')] })).toEqual([
        ['dependencyHold', 'u1'],
      ]);
    });
  });

  describe('devices', () => {
    // Lab carries the device SKU; Annex is nested in Lab; a user in Lab gets nothing of it.
    const tenant = tenantWith({
      totals: new Map([[DEVICE, 2]]),
      users: [person('u1')],
      devices: ['d1', 'd2'],
      groups: [{ id: LAB, licenses: [license(DEVICE)] }],
      memberships: [
        { groupId: LAB, memberId: 'd1', kind: 'device' },
        { groupId: LAB, memberId: 'u1', kind: 'user' },
        { groupId: LAB, memberId: ANNEX, kind: 'group' },
        { groupId: ANNEX, memberId: 'd2', kind: 'device' },
        { groupId: ANNEX, memberId: LAB, kind: 'group' },
      ],
    });

    it('licenses devices under the group through nesting (cycles harmless), users not', () => {
      expect(judged(tenant, { d1: [active(DEVICE, LAB)], d2: [active(DEVICE, LAB)], u1: [] })).toEqual([]);
    });

    it('reports a nested device left out, and a user given the device SKU', () => {
      expect(judged(tenant, { d1: [active(DEVICE, LAB)], d2: [], u1: [active(DEVICE, LAB)] })).toEqual([
        ['entries', 'u1'],
        ['entries', 'd2'],
      ]);
    });
  });

  it('does not expand nested groups for user SKUs', () => {
    const tenant = hr(3, {
      users: [person('u1'), person('u2'), person('u3'), person('nested')],
      memberships: [
        ...['u1', 'u2', 'u3'].map((id) => ({ groupId: HR, memberId: id, kind: 'user' as const })),
        { groupId: HR, memberId: 'g-emea', kind: 'group' },
        { groupId: 'g-emea', memberId: 'nested', kind: 'user' },
      ],
    });
    expect(judged(tenant, { u1: granted, u2: granted, u3: granted, nested: [] })).toEqual([]);
    expect(judged(tenant, { u1: granted, u2: granted, u3: waiting, nested: granted })).toEqual([
      ['entries', 'nested'],
      ['entries', 'nested'],
    ]);
  });

  it('counts one seat for a SKU held directly and through a group', () => {
    const tenant = tenantWith({
      totals: new Map([[E3, 1]]),
      users: [person('u1', { direct: [license(E3)] })],
      groups: [{ id: HR, licenses: [license(E3)] }],
      memberships: [{ groupId: HR, memberId: 'u1', kind: 'user' }],
    });
    expect(judged(tenant, { u1: [active(E3, null), active(E3, HR)] })).toEqual([]);
  });

  it('wants a soft-deleted user’s entries all Disabled', () => {
    const tenant = hr(3, {
      users: [person('u1', { deleted: true }), person('u2'), person('u3')],
    });
    const suspended = [disabled(E3, HR), disabled(EMS, HR)];
    expect(judged(tenant, { u1: suspended, u2: granted, u3: granted })).toEqual([]);
    const consumed = { [E3]: 2, [EMS]: 2 };
    expect(judged(tenant, { u1: granted, u2: granted, u3: granted }, consumed)).toEqual([
      ['suspended', 'u1'],
    ]);
  });

  it('derives assignedLicenses from the entries: one per SKU, disabling what every source disables', () => {
    const tenant = tenantWith({
      totals: new Map([[E3, 1]]),
      users: [person('u1', { direct: [license(E3)] })],
      groups: [{ id: HR, licenses: [license(E3, [YAMMER])] }],
      memberships: [{ groupId: HR, memberId: 'u1', kind: 'user' }],
    });
    const entries = [active(E3, null), active(E3, HR, [YAMMER])];
    const answer = (assignedLicenses: OracleLicense[]) =>
      judgeTenant(catalog, tenant, {
        principals: new Map([['u1', { entries, assignedLicenses }]]),
        consumedUnits: new Map([[E3, 1]]),
      }).map((d) => d.check);
    expect(answer([license(E3)])).toEqual([]);
    expect(answer([license(E3, [YAMMER])])).toEqual(['effective']);
    expect(answer([])).toEqual(['effective']);
  });

  it('accepts the engine’s own from-scratch evaluation of a generated tenant (short seats, conflicts, nesting)', () => {
    const now = '2026-01-01T00:00:00.000Z';
    const plan = planTenant(loadCatalog(), { users: 3000, groups: 20, devices: 60, seed: 5 }, now);
    const groups = { ...plan.state.groups };
    for (const a of plan.assignments) {
      const group = groups[a.groupId];
      if (group) groups[a.groupId] = { ...group, licenses: a.licenses, licensedSince: now };
    }
    const state: SimState = {
      ...plan.state,
      groups,
      baseUrl: '',
      tenant: {
        id: 't',
        displayName: 't',
        countryLetterCode: 'US',
        licenseErrorHealing: 'automatic',
        clientState: '',
      },
    };
    const evaluation = evaluateTenant(loadCatalog(), snapshotOf(state), now);
    const principals = new Map([...evaluation.principals].map(([id, o]) => [id, { entries: o.entries }]));
    const differences = judgeTenant(catalog, recordedTenant(state), {
      principals,
      consumedUnits: evaluation.consumedUnits,
    });
    expect(differences).toEqual([]);
    // The tenant is one where the rules bite: some wait for seats, some are refused for a conflict, their
    // location or a shared proxy address.
    const errors = new Set([...principals.values()].flatMap((p) => p.entries.map((e) => e.error)));
    expect(errors).toEqual(
      new Set([
        'None',
        'CountViolation',
        'MutuallyExclusiveViolation',
        'ProhibitedInUsageLocationViolation',
        'UniquenessViolation',
      ]),
    );
  });

  it('is written apart from the engine: it imports no engine code, only its data types', () => {
    const file = join(__dirname, '../../src/simulator/oracle.ts');
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
    const fromEngine = source.statements
      .filter(ts.isImportDeclaration)
      .filter((i) => ts.isStringLiteral(i.moduleSpecifier) && i.moduleSpecifier.text.includes('/engine/'))
      .filter((i) => !i.importClause?.isTypeOnly)
      .map((i) => (i.moduleSpecifier as ts.StringLiteral).text);
    expect(fromEngine).toEqual([]);
  });
});
