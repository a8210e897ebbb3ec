// The simulator's side of dynamic groups: its own rule reader (src/simulator/membership-rule.ts), the members the
// record decides for a dynamic group, and `verify` and the oracle finding a dynamic group whose members are wrong.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { loadCatalog, loadCatalogData } from '../../src/catalog/load.js';
import { planTenant } from '../../src/simulator/generate.js';
import { parseSimpleRule, type RuleFacts, ruleMatches } from '../../src/simulator/membership-rule.js';
import { judgeTenant, recordedTenant, type ServiceEntry } from '../../src/simulator/oracle.js';
import { recordedMemberships, type SimState } from '../../src/simulator/state.js';
import { membershipDifferences, ruleDifferences } from '../../src/simulator/verify.js';

const sales: RuleFacts = { department: 'Sales', usageLocation: 'DE', accountEnabled: true };

describe('the simulator’s rule reader', () => {
  const cases: [rule: string, subject: 'user' | 'device', facts: RuleFacts, expected: boolean][] = [
    ['user.department -eq "Sales"', 'user', sales, true],
    ['user.department -eq "sales"', 'user', sales, true],
    ['user.department -eq "SALES"', 'user', { department: 'sales' }, true],
    ['user.department -eq "Sales"', 'user', { department: 'Sales Ops' }, false],
    ['user.department -eq "Sales"', 'user', { department: null }, false],
    ['user.department -eq "Sales"', 'user', { department: '' }, false],
    ['user.department -eq "Sales"', 'user', {}, false],
    ['user.department -ne "Sales"', 'user', { department: 'HR' }, true],
    ['user.department -ne "Sales"', 'user', { department: 'SALES' }, false],
    ['user.department -ne "Sales"', 'user', { department: null }, true],
    ['user.usageLocation -in ["DE","FR"]', 'user', { usageLocation: 'FR' }, true],
    ['user.usageLocation -in ["DE","FR"]', 'user', { usageLocation: 'fr' }, true],
    ['user.usageLocation -in ["de", "fr"]', 'user', { usageLocation: 'DE' }, true],
    ['user.usageLocation -in ["DE","FR"]', 'user', { usageLocation: 'US' }, false],
    ['user.usageLocation -in ["DE","FR"]', 'user', { usageLocation: null }, false],
    ['user.accountEnabled -eq true', 'user', { accountEnabled: true }, true],
    ['user.accountEnabled -eq true', 'user', { accountEnabled: false }, false],
    ['user.accountEnabled -eq false', 'user', { accountEnabled: false }, true],
    ['user.department -eq "Sales" -and user.accountEnabled -eq true', 'user', sales, true],
    [
      'user.department -eq "Sales" -AND user.accountEnabled -eq true',
      'user',
      { ...sales, accountEnabled: false },
      false,
    ],
    ['(user.department -eq "Sales") -and (user.usageLocation -in ["US"])', 'user', sales, false],
    ['user.Department -EQ "Sales"', 'user', sales, true],
    ['device.deviceOSType -eq "Windows"', 'device', { deviceOSType: 'Windows' }, true],
    ['device.deviceOSType -eq "windows"', 'device', { deviceOSType: 'WINDOWS' }, true],
    ['device.deviceOSType -eq "Windows"', 'device', { deviceOSType: 'MacMDM' }, false],
    // A rule of one kind never selects the other.
    ['device.deviceOSType -eq "Windows"', 'user', { deviceOSType: 'Windows' }, false],
    ['user.department -eq "Sales"', 'device', sales, false],
  ];
  it.each(cases)('%s for a %s with %j is %s', (rule, subject, facts, expected) => {
    expect(ruleMatches(rule, subject, facts)).toBe(expected);
  });

  it.each([
    'user.department -startsWith "Sa"',
    'user.department -eq Sales',
    'user.department -in "Sales"',
    'user.department -eq ["Sales"]',
    'user.department -eq "Sales" -or user.department -eq "HR"',
    'user.department -eq "Sales" -and device.deviceOSType -eq "Windows"',
  ])('refuses a form it does not read: %s', (rule) => {
    expect(() => parseSimpleRule(rule)).toThrow(/cannot read the membership rule/);
  });

  it('is written apart from the engine: it imports nothing from it', () => {
    for (const name of ['membership-rule.ts', 'state.ts']) {
      const file = join(__dirname, '../../src/simulator', name);
      const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
      const fromEngine = source.statements
        .filter(ts.isImportDeclaration)
        .filter((i) => ts.isStringLiteral(i.moduleSpecifier) && i.moduleSpecifier.text.includes('/engine/'))
        .filter((i) => !i.importClause?.isTypeOnly)
        .map((i) => (i.moduleSpecifier as ts.StringLiteral).text);
      expect(fromEngine, name).toEqual([]);
    }
  });
});

const E3 = loadCatalog().skuByPartNumber('ENTERPRISEPACK')?.skuId ?? '';
const GROUP = '0a000000-0000-4000-8000-000000000001';
const ALEX = '0b000000-0000-4000-8000-000000000001';
const BLAIR = '0b000000-0000-4000-8000-000000000002';
const CASEY = '0b000000-0000-4000-8000-000000000003';

/** A record with one dynamic group, "Sales team", licensed with E3, and three users. */
function salesTenant(): SimState {
  const user = (name: string, department: string, accountEnabled = true) => ({
    userPrincipalName: `${name}@contoso.com`,
    displayName: name,
    usageLocation: 'US',
    proxyAddresses: [],
    department,
    accountEnabled,
    deleted: false,
    direct: [],
  });
  return {
    version: 1,
    seed: 1,
    baseUrl: '',
    tenant: {
      id: 't',
      displayName: 't',
      countryLetterCode: 'US',
      licenseErrorHealing: 'automatic',
      clientState: '',
    },
    units: { [E3]: { enabled: 10, warning: 0 } },
    lowered: [],
    users: {
      [ALEX]: user('alex', 'Sales'),
      [BLAIR]: user('blair', 'sales'),
      [CASEY]: user('casey', 'Sales', false),
    },
    devices: {},
    groups: {
      [GROUP]: {
        displayName: 'Sales team',
        kind: 'department',
        securityEnabled: true,
        licenses: [{ skuId: E3, disabledPlans: [] }],
        licensedSince: '2026-01-01T00:00:00.000Z',
        dynamic: {
          membershipRule: 'user.department -eq "Sales" -and user.accountEnabled -eq true',
          processingState: 'On',
          savedAt: '2026-01-01T00:00:00.000Z',
        },
      },
    },
    memberships: {},
    sequence: 1,
    events: 0,
  };
}

const activeE3: ServiceEntry = {
  skuId: E3,
  assignedByGroup: GROUP,
  disabledPlans: [],
  state: 'Active',
  error: 'None',
};

describe('verify and the oracle on a dynamic group', () => {
  it('expect the members the rule matches in the record, whatever the case of the department', () => {
    expect(Object.keys(recordedMemberships(salesTenant())[GROUP] ?? {}).sort()).toEqual([ALEX, BLAIR]);
    expect(membershipDifferences(salesTenant(), new Map([[GROUP, new Set([ALEX, BLAIR])]]))).toEqual([]);
  });

  it('report a matching user missing from the group, and a member the rule does not match', () => {
    const differences = membershipDifferences(salesTenant(), new Map([[GROUP, new Set([ALEX, CASEY])]]));
    expect(differences.map((d) => [d.kind, d.id])).toEqual([
      ['membership', BLAIR],
      ['membership', CASEY],
    ]);
    expect(differences[0]?.message).toMatch(
      /should be a member of group .* but is not \(rule .* matches .*"sales"/,
    );
    expect(differences[1]?.message).toMatch(/listed in group .* but should not be \(rule .* does not match/);
  });

  it('follow the record: after a department move the mover is expected elsewhere', () => {
    const state = salesTenant();
    const blair = state.users[BLAIR];
    if (blair) blair.department = 'Finance';
    expect(membershipDifferences(state, new Map([[GROUP, new Set([ALEX, BLAIR])]])).map((d) => d.id)).toEqual(
      [BLAIR],
    );
    // Paused: the record's frozen members are expected, not the rule's.
    const group = state.groups[GROUP];
    if (group?.dynamic) group.dynamic = { ...group.dynamic, processingState: 'Paused' };
    state.memberships[GROUP] = {
      [ALEX]: { kind: 'user', joinedAt: '' },
      [BLAIR]: { kind: 'user', joinedAt: '' },
    };
    expect(membershipDifferences(state, new Map([[GROUP, new Set([ALEX, BLAIR])]]))).toEqual([]);
  });

  it('the oracle judges the dynamic group as a license source of every user its rule matches', () => {
    const judge = (entries: Record<string, ServiceEntry[]>, consumed: number) =>
      judgeTenant(loadCatalogData(), recordedTenant(salesTenant()), {
        principals: new Map([ALEX, BLAIR, CASEY].map((id) => [id, { entries: entries[id] ?? [] }])),
        consumedUnits: new Map([[E3, consumed]]),
      });
    expect(judge({ [ALEX]: [activeE3], [BLAIR]: [activeE3] }, 2)).toEqual([]);
    // Blair matches the rule (lower-case "sales") but the service gave her nothing; Casey is disabled.
    expect(
      judge({ [ALEX]: [activeE3], [CASEY]: [activeE3] }, 2).map((d) => [d.check, d.principalId]),
    ).toEqual([
      ['entries', BLAIR],
      ['entries', CASEY],
    ]);
  });

  it('reports a rule or a processing status the service shows differently', () => {
    const dynamic = salesTenant().groups[GROUP]?.dynamic;
    if (!dynamic) throw new Error('no rule');
    const shown = {
      membershipRule: dynamic.membershipRule,
      membershipRuleProcessingState: 'On' as const,
      membershipRuleProcessingStatus: {
        status: 'Succeeded' as const,
        lastMembershipUpdated: null,
        errorMessage: null,
      },
    };
    expect(ruleDifferences(GROUP, 'Sales team', dynamic, shown)).toEqual([]);
    expect(
      ruleDifferences(GROUP, 'Sales team', dynamic, {
        ...shown,
        membershipRule: 'user.department -eq "Sales"',
        membershipRuleProcessingStatus: {
          status: 'Failed',
          lastMembershipUpdated: null,
          errorMessage: 'boom',
        },
      }).map((d) => d.message),
    ).toEqual([
      expect.stringMatching(/the rule is "user.department -eq \\"Sales\\"", the simulator saved/),
      expect.stringMatching(/membershipRuleProcessingStatus is Failed while the tenant is idle \(boom\)/),
    ]);
  });
});

describe('the generator’s dynamic groups', () => {
  it('plans department, location and device rules that carry licenses, and members the rules decide', () => {
    const plan = planTenant(
      loadCatalog(),
      { users: 400, groups: 12, devices: 30, seed: 3 },
      '2026-01-01T00:00:00.000Z',
    );
    const rules = plan.dynamicGroups.map((g) => g.membershipRule);
    expect(rules).toEqual(
      expect.arrayContaining([
        'user.department -eq "HR" -and user.accountEnabled -eq true',
        'user.usageLocation -in ["DE","FR","NL","ES","SE"]',
        'device.deviceOSType -eq "Windows"',
      ]),
    );
    const licensed = new Set(plan.assignments.map((a) => a.groupId));
    for (const group of plan.dynamicGroups)
      expect(licensed.has(group.plannedId), group.displayName).toBe(true);
    // The import lines never carry a dynamic group or a member of one.
    const dynamicIds = new Set(plan.dynamicGroups.map((g) => g.plannedId));
    const text = JSON.stringify([...plan.lines, ...plan.nestedLines]);
    for (const id of dynamicIds) expect(text).not.toContain(id);
    const members = recordedMemberships(plan.state);
    for (const group of plan.dynamicGroups)
      expect(Object.keys(members[group.plannedId] ?? {}).length, group.displayName).toBeGreaterThan(0);
    const users = Object.values(plan.state.users);
    expect(users.some((u) => u.accountEnabled === false)).toBe(true);
    expect(users.some((u) => u.department !== '' && u.department === u.department.toLowerCase())).toBe(true);
  });
});
