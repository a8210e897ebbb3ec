import { ruleMatches } from '../membership-rule.js';
import { devices, type ImportedUser, importDirectory, users } from './directory.js';
import {
  active,
  type ExpectedEntry,
  expectEntries,
  expectOutcomes,
  watchProcessing,
} from './expectations.js';
import {
  assignGroupLicense,
  createDynamicGroup,
  expectConsumed,
  groupMembers,
  listDevices,
  listUsers,
  patchGroup,
  patchUser,
  readGroupRule,
  readUser,
} from './graph.js';
import { checkInvariants } from './invariants.js';
import type { Scenario } from './run.js';

/**
 * S13 — Dynamic groups (issue 18): a department rule licensed with E3; a department PATCH moves the license; a move
 * between two licensed dynamic groups keeps the seat with none to spare; Paused freezes the members until turned On
 * again; a rule edit re-evaluates the tenant; a device rule licenses devices. Every group's members are judged by
 * the simulator's own reading of its rule (../membership-rule.ts) against what the scenario set on each user,
 * never by the service's.
 */
export async function dynamicGroups(s: Scenario): Promise<void> {
  const salesCount = s.size(50, 6);
  const hrCount = s.size(20, 3);
  const financeCount = s.size(20, 3);
  const marketingCount = s.size(10, 2);
  const windowsCount = s.size(30, 4);
  const otherCount = s.size(10, 2);
  const e3 = s.catalog.sku('ENTERPRISEPACK').skuId;
  const apps = s.catalog.sku('OFFICE_PROPLUS_DEVICE1').skuId;

  // What the scenario set on each principal: the facts rules read.
  const people = new Map<string, { department: string; accountEnabled: boolean }>();
  const systems = new Map<string, string>();
  const rules = new Map<string, string>();
  /** Members a Paused group froze. */
  const frozen = new Map<string, ReadonlySet<string>>();
  /** The groups carrying E3, in the order they got it. */
  const e3Groups: string[] = [];
  const membersOf = (groupId: string): ReadonlySet<string> => {
    const held = frozen.get(groupId);
    if (held) return held;
    const rule = rules.get(groupId) ?? '';
    const matching = new Set<string>();
    for (const [id, facts] of people) if (ruleMatches(rule, 'user', facts)) matching.add(id);
    for (const [id, os] of systems) if (ruleMatches(rule, 'device', { deviceOSType: os })) matching.add(id);
    return matching;
  };
  const expectMembers = async (groupId: string) => {
    const listed = (await groupMembers(s, groupId)).map((m) => m.id);
    const want = membersOf(groupId);
    s.expectSet(
      `members of ${s.label(groupId)}`,
      want,
      listed,
      `${s.label(groupId)}: ${want.size} members, ${frozen.has(groupId) ? 'frozen while Paused' : `those its rule ${rules.get(groupId)} matches`}`,
    );
  };
  const expectRule = async (groupId: string, processingState: 'On' | 'Paused') => {
    const shown = await readGroupRule(s, groupId);
    s.expect(
      `the rule of ${s.label(groupId)} (GET /groups/{id}?$select=membershipRule…)`,
      {
        groupTypes: ['DynamicMembership'],
        membershipRule: rules.get(groupId),
        membershipRuleProcessingState: processingState,
        status: 'Succeeded',
        errorMessage: null,
      },
      {
        groupTypes: shown.groupTypes,
        membershipRule: shown.membershipRule,
        membershipRuleProcessingState: shown.membershipRuleProcessingState,
        status: shown.membershipRuleProcessingStatus?.status,
        errorMessage: shown.membershipRuleProcessingStatus?.errorMessage,
      },
      `${s.label(groupId)}: processing ${processingState}, membershipRuleProcessingStatus Succeeded`,
    );
  };
  /** A user's entries: E3 Active through every E3 group it belongs to. */
  const expectedE3 = (userId: string): ExpectedEntry[] =>
    e3Groups.filter((g) => membersOf(g).has(userId)).map((g) => active(e3, g));
  const expectUsers = async () => expectOutcomes(s, 'users', await listUsers(s), (u) => expectedE3(u.id));
  const move = async (userId: string, department: string) => {
    const person = people.get(userId);
    if (!person) throw new Error(`unknown user ${userId}`);
    await patchUser(s, userId, { department });
    person.department = department;
  };
  const someone = (department: string, skip: readonly string[] = []): string => {
    const found = [...people].find(
      ([id, p]) => p.department === department && p.accountEnabled && !skip.includes(id),
    );
    if (!found) throw new Error(`no enabled user in ${department}`);
    return found[0];
  };

  const seats = salesCount + 1 + hrCount;
  s.step(
    `buy ${seats} E3 (Sales and HR exactly) and ${windowsCount} OFFICE_PROPLUS_DEVICE1; import ${salesCount} sellers ` +
      `(two written "sales") and a disabled one, ${hrCount} in HR, ${financeCount} in Finance, ${marketingCount} in ` +
      `Marketing and a disabled one; ${windowsCount} Windows devices and ${otherCount} others`,
  );
  await s.operator.setUnits(s.tenant.id, 'ENTERPRISEPACK', seats);
  await s.operator.setUnits(s.tenant.id, 'OFFICE_PROPLUS_DEVICE1', windowsCount);
  const staff = (prefix: string, count: number, department: (i: number) => string, accountEnabled = true) =>
    users(s, prefix, count).map(
      (u, i): ImportedUser => ({ ...u, department: department(i), accountEnabled }),
    );
  const imported = [
    ...staff('Seller', salesCount, (i) => (i < 2 ? 'sales' : 'Sales')),
    ...staff('Seller (disabled)', 1, () => 'Sales', false),
    ...staff('HR', hrCount, () => 'HR'),
    ...staff('Finance', financeCount, () => 'Finance'),
    ...staff('Marketing', marketingCount, () => 'Marketing'),
    ...staff('Marketing (disabled)', 1, () => 'Marketing', false),
  ];
  for (const u of imported)
    people.set(u.id, { department: u.department ?? '', accountEnabled: u.accountEnabled ?? true });
  const pcs = [
    ...devices(s, 'PC', windowsCount).map((d) => ({ ...d, operatingSystem: 'Windows' })),
    ...devices(s, 'MAC', otherCount).map((d, i) => ({
      ...d,
      operatingSystem: i % 2 === 0 ? 'MacMDM' : 'iOS',
    })),
  ];
  for (const d of pcs) systems.set(d.id, d.operatingSystem);
  await importDirectory(s, { users: imported, devices: pcs });

  s.step('dynamic group "Sales" with rule user.department -eq "Sales", licensed with E3');
  const sales = await createDynamicGroup(s, 'Sales', 'user.department -eq "Sales"');
  rules.set(sales, 'user.department -eq "Sales"');
  await s.idle();
  await expectRule(sales, 'On');
  await expectMembers(sales);
  await assignGroupLicense(s, sales, [{ skuId: e3, disabledPlans: [] }], []);
  e3Groups.push(sales);
  await watchProcessing(s, sales);
  await s.idle();
  await expectUsers();
  await expectConsumed(s, { ENTERPRISEPACK: salesCount + 1 });

  const joiner = someone('Finance');
  const leaver = someone('Sales');
  s.step(`PATCH department: ${s.label(joiner)} Finance → Sales, ${s.label(leaver)} Sales → Finance`);
  await move(joiner, 'Sales');
  // The PATCH answers once the user is in line with the rules: the license came with it.
  expectEntries(s, `${s.label(joiner)} as the PATCH returns`, await readUser(s, joiner), expectedE3(joiner));
  await move(leaver, 'Finance');
  expectEntries(s, `${s.label(leaver)} as the PATCH returns`, await readUser(s, leaver), expectedE3(leaver));
  await s.idle();
  await expectMembers(sales);
  await expectUsers();
  await expectConsumed(s, { ENTERPRISEPACK: salesCount + 1 });

  s.step('dynamic group "HR" with rule user.department -eq "HR", licensed with E3: no seat left to spare');
  const hr = await createDynamicGroup(s, 'HR', 'user.department -eq "HR"');
  rules.set(hr, 'user.department -eq "HR"');
  await assignGroupLicense(s, hr, [{ skuId: e3, disabledPlans: [] }], []);
  e3Groups.push(hr);
  await watchProcessing(s, hr);
  await s.idle();
  await expectRule(hr, 'On');
  await expectMembers(hr);
  await expectUsers();
  await expectConsumed(s, { ENTERPRISEPACK: seats });

  const mover = someone('Sales', [joiner]);
  s.step(`PATCH department of ${s.label(mover)} Sales → HR, with every E3 seat taken`);
  await move(mover, 'HR');
  expectEntries(
    s,
    `${s.label(mover)} as the PATCH returns (the seat moved from Sales to HR)`,
    await readUser(s, mover),
    expectedE3(mover),
  );
  await s.idle();
  await expectMembers(sales);
  await expectMembers(hr);
  await expectUsers();
  await expectConsumed(s, { ENTERPRISEPACK: seats });

  const hrLeaver = someone('HR', [mover]);
  const hrJoiner = someone('Finance', [leaver]);
  s.step(
    `pause HR, then PATCH ${s.label(hrLeaver)} HR → Finance and ${s.label(hrJoiner)} Finance → HR: members frozen`,
  );
  frozen.set(hr, membersOf(hr));
  await patchGroup(s, hr, { membershipRuleProcessingState: 'Paused' });
  await move(hrLeaver, 'Finance');
  await move(hrJoiner, 'HR');
  await s.idle();
  await expectRule(hr, 'Paused');
  await expectMembers(hr);
  await expectUsers();
  await expectConsumed(s, { ENTERPRISEPACK: seats });

  s.step('turn HR processing On again: it catches up with the departments');
  frozen.delete(hr);
  await patchGroup(s, hr, { membershipRuleProcessingState: 'On' });
  await s.idle();
  await expectRule(hr, 'On');
  await expectMembers(hr);
  await expectUsers();
  await expectConsumed(s, { ENTERPRISEPACK: seats });

  const edited = 'user.department -in ["Sales","Marketing"] -and user.accountEnabled -eq true';
  s.step(`buy ${marketingCount} more E3; edit the rule of Sales to ${edited}`);
  await s.operator.setUnits(s.tenant.id, 'ENTERPRISEPACK', seats + marketingCount);
  await patchGroup(s, sales, { membershipRule: edited });
  rules.set(sales, edited);
  await s.idle();
  await expectRule(sales, 'On');
  await expectMembers(sales);
  await expectUsers();
  // The disabled seller left; the enabled marketers joined.
  await expectConsumed(s, { ENTERPRISEPACK: seats + marketingCount - 1 });

  s.step(
    'dynamic group "Windows devices" with rule device.deviceOSType -eq "Windows", licensed with the device SKU',
  );
  const windows = await createDynamicGroup(s, 'Windows devices', 'device.deviceOSType -eq "Windows"');
  rules.set(windows, 'device.deviceOSType -eq "Windows"');
  await assignGroupLicense(s, windows, [{ skuId: apps, disabledPlans: [] }], []);
  await watchProcessing(s, windows);
  await s.idle();
  await expectRule(windows, 'On');
  await expectMembers(windows);
  const licensedDevices = membersOf(windows);
  expectOutcomes(s, 'devices', await listDevices(s), (d) =>
    licensedDevices.has(d.id) ? [active(apps, windows)] : [],
  );
  await expectUsers();
  await expectConsumed(s, {
    ENTERPRISEPACK: seats + marketingCount - 1,
    OFFICE_PROPLUS_DEVICE1: windowsCount,
  });

  await checkInvariants(s);
}
