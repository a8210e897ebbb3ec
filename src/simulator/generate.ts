import type { Client } from '@microsoft/microsoft-graph-client';
import { groupSchema } from '../contract/graph.js';
import type { Catalog } from '../engine/index.js';
import type { Progress } from './progress.js';
import { Random } from './random.js';
import { graphClient, type OperatorClient } from './service.js';
import { recordedMemberships, type SimState } from './state.js';

export interface GenerateOptions {
  readonly users: number;
  readonly groups: number;
  readonly devices: number;
  readonly seed: number;
  /** Units bought as a share of demand: a little short, so some members wait (default 0.97). */
  readonly supply?: number;
  readonly healing?: 'automatic' | 'manual';
}

const FIRST = [
  'Adele',
  'Alex',
  'Allan',
  'Ben',
  'Bianca',
  'Carlos',
  'Chen',
  'Christie',
  'Debra',
  'Diego',
  'Elena',
  'Emily',
  'Enrico',
  'Fatima',
  'Grady',
  'Hana',
  'Henrietta',
  'Ibrahim',
  'Isaiah',
  'Jan',
  'Johanna',
  'Joni',
  'Kenji',
  'Lee',
  'Lidia',
  'Lynne',
  'Megan',
  'Miriam',
  'Nestor',
  'Noor',
  'Olga',
  'Patti',
  'Pradeep',
  'Priya',
  'Raul',
  'Sakura',
  'Sofia',
  'Tomás',
  'Ulla',
  'Vikram',
  'Wei',
  'Yara',
  'Zoe',
];
const LAST = [
  'Adams',
  'Brown',
  'Chen',
  'Diaz',
  'Evans',
  'Fischer',
  'García',
  'Gupta',
  'Hansen',
  'Ito',
  'Jones',
  'Kim',
  'Kowalski',
  'Larsen',
  'Lopez',
  'Martin',
  'Müller',
  'Nakamura',
  'Nguyen',
  'Okafor',
  'Patel',
  'Rossi',
  'Santos',
  'Schmidt',
  'Silva',
  'Smith',
  'Tanaka',
  'Taylor',
  'Wagner',
  'Wilson',
  'Yamada',
];
export const DEPARTMENTS = [
  'HR',
  'Sales',
  'Engineering',
  'Finance',
  'Marketing',
  'Support',
  'Legal',
  'IT',
  'Operations',
  'Research',
  'Facilities',
  'Executive',
];
/** Frontline departments get Office 365 F3, whose Exchange Kiosk plan conflicts with E3's. */
const FRONTLINE = new Set(['Support', 'Facilities']);
const COUNTRIES = ['US', 'US', 'US', 'GB', 'DE', 'FR', 'NL', 'IN', 'JP', 'CA', 'AU', 'BR', 'ES', 'SE'];
const PROHIBITED = ['IR', 'KP', 'CU', 'SY'];
const PROJECT_SKUS = ['POWER_BI_PRO', 'VISIOCLIENT', 'STANDARDPACK', 'AAD_PREMIUM_P2', null, null] as const;
/** The countries of the "Europe" dynamic group's first rule (churn edits it). */
export const EUROPE = ['DE', 'FR', 'NL', 'ES', 'SE'];
/** Device operating systems, Windows most often; the device rule selects Windows. */
const OPERATING_SYSTEMS = ['Windows', 'Windows', 'Windows', 'MacMDM', 'iOS'];

/** A department group's rule: its enabled users, the department compared case-insensitively as Entra does. */
export function departmentRule(department: string, enabledOnly = true): string {
  return `user.department -eq "${department}"${enabledOnly ? ' -and user.accountEnabled -eq true' : ''}`;
}

/** The "Europe" group's rule over these countries. */
export function locationRule(countries: readonly string[]): string {
  return `user.usageLocation -in [${countries.map((c) => `"${c}"`).join(',')}]`;
}

export const WINDOWS_RULE = 'device.deviceOSType -eq "Windows"';
const DOMAIN = 'contoso.com';
const createdGroupSchema = groupSchema.pick({ id: true });

function ascii(name: string): string {
  return name
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^A-Za-z]/g, '')
    .toLowerCase();
}

/** A dynamic group of the plan: created through the Graph API (the import takes no rules), so its id is the service's. */
export interface PlannedDynamicGroup {
  /** The id the plan uses for it until the service gives it one. */
  readonly plannedId: string;
  readonly displayName: string;
  readonly mailNickname: string;
  readonly membershipRule: string;
}

interface Plan {
  readonly lines: unknown[];
  readonly nestedLines: unknown[];
  readonly dynamicGroups: PlannedDynamicGroup[];
  readonly state: Omit<SimState, 'tenant' | 'baseUrl'>;
  /** Licensed groups in the order they get their licenses. */
  readonly assignments: { groupId: string; licenses: { skuId: string; disabledPlans: string[] }[] }[];
}

/**
 * Builds a realistic tenant from a seed: named users with user principal names, departments (a few written in
 * lower case) and countries (some without a usage location, a few in prohibited countries), a few disabled
 * accounts, proxy addresses with a small share of duplicates, dynamic department groups (the department's enabled
 * users), a dynamic "Europe" group by usage location, project groups with overlapping members and nesting, device
 * groups (a dynamic one of the Windows devices carries the device SKU), and subscriptions bought a little short of
 * demand. Pure: the same options give the same tenant.
 */
export function planTenant(catalog: Catalog, options: GenerateOptions, now: string): Plan {
  const random = new Random(options.seed);
  const sku = (part: string) => {
    const found = catalog.skuByPartNumber(part);
    if (!found) throw new Error(`catalog has no ${part}`);
    return found;
  };
  const plan = (part: string, name: string) => {
    const id = [...sku(part).planNames].find(([, n]) => n === name)?.[0];
    if (!id) throw new Error(`${part} has no ${name}`);
    return id;
  };
  const groups: SimState['groups'] = {};
  const memberships: SimState['memberships'] = {};
  const lines: unknown[] = [];
  const nestedLines: unknown[] = [];
  const dynamicGroups: PlannedDynamicGroup[] = [];
  const addDynamicGroup = (
    kind: SimState['groups'][string]['kind'],
    displayName: string,
    membershipRule: string,
  ) => {
    const plannedId = random.uuid();
    groups[plannedId] = {
      displayName,
      kind,
      securityEnabled: true,
      licenses: [],
      licensedSince: null,
      dynamic: { membershipRule, processingState: 'On', savedAt: now },
    };
    dynamicGroups.push({
      plannedId,
      displayName,
      mailNickname: ascii(displayName).slice(0, 60) || 'group',
      membershipRule,
    });
    return plannedId;
  };
  const addGroup = (kind: SimState['groups'][string]['kind'], displayName: string) => {
    const id = random.uuid();
    groups[id] = { displayName, kind, securityEnabled: true, licenses: [], licensedSince: null };
    memberships[id] = {};
    lines.push({
      type: 'group',
      id,
      displayName,
      mailNickname: ascii(displayName).slice(0, 60) || 'group',
      securityEnabled: true,
      mailEnabled: false,
    });
    return id;
  };

  const departmentCount = Math.max(1, Math.min(DEPARTMENTS.length, Math.floor(options.groups / 3)));
  const departments = DEPARTMENTS.slice(0, departmentCount).map((name) => ({
    name,
    id: addDynamicGroup('department', `${name} Department`, departmentRule(name)),
  }));
  const europe =
    options.groups >= 6 ? addDynamicGroup('location', 'Europe', locationRule(EUROPE)) : undefined;
  // Devices: the Windows ones are licensed through a device rule; the lab groups nest without a license of their
  // own (the device SKU may sit on one group only).
  const deviceGroups: string[] = [];
  let windows: string | undefined;
  if (options.devices > 0 && options.groups >= 4) {
    windows = addDynamicGroup('devices', 'Windows devices', WINDOWS_RULE);
    deviceGroups.push(addGroup('devices', 'Lab devices'), addGroup('devices', 'Lab annex'));
  }
  const projectCount = Math.max(
    0,
    options.groups -
      departments.length -
      deviceGroups.length -
      (windows === undefined ? 0 : 1) -
      (europe === undefined ? 0 : 1),
  );
  const projects = Array.from({ length: projectCount }, (_, i) =>
    addGroup('project', `Project ${String.fromCharCode(65 + (i % 26))}${i >= 26 ? Math.floor(i / 26) : ''}`),
  );

  // Nesting: a project group inside another (users of it are NOT licensed by the outer one, rules.md §2), and the
  // lab annex inside the lab. Dynamic groups take no members by hand, nested groups included.
  const nest = (parent: string, child: string) => {
    const members = memberships[parent];
    if (!members) return;
    members[child] = { kind: 'group', joinedAt: now };
    nestedLines.push({ type: 'member', groupId: parent, memberId: child });
  };
  if (projects[0] && projects[1]) nest(projects[1], projects[0]);
  if (deviceGroups[0] && deviceGroups[1]) nest(deviceGroups[0], deviceGroups[1]);

  // Group licenses: E3 + EMS for office departments, F3 + EMS for frontline ones, assorted SKUs on projects.
  const yammer = plan('ENTERPRISEPACK', 'YAMMER_ENTERPRISE');
  const assignments: Plan['assignments'] = [];
  departments.forEach((department, i) => {
    const main = FRONTLINE.has(department.name) ? sku('DESKLESSPACK').skuId : sku('ENTERPRISEPACK').skuId;
    const licenses = [
      { skuId: main, disabledPlans: main === sku('ENTERPRISEPACK').skuId && i % 3 === 0 ? [yammer] : [] },
      { skuId: sku('EMS').skuId, disabledPlans: [] },
    ];
    assignments.push({ groupId: department.id, licenses });
  });
  projects.forEach((groupId, i) => {
    const part = PROJECT_SKUS[i % PROJECT_SKUS.length];
    if (part) assignments.push({ groupId, licenses: [{ skuId: sku(part).skuId, disabledPlans: [] }] });
  });
  if (europe)
    assignments.push({
      groupId: europe,
      licenses: [{ skuId: sku('POWER_BI_PRO').skuId, disabledPlans: [] }],
    });
  if (windows) {
    assignments.push({
      groupId: windows,
      licenses: [{ skuId: sku('OFFICE_PROPLUS_DEVICE1').skuId, disabledPlans: [] }],
    });
  }

  const users: SimState['users'] = {};
  const addresses: string[] = [];
  const projectShare = projects.length > 0 ? Math.min(0.5, 1.5 / projects.length) : 0;
  for (let i = 0; i < options.users; i++) {
    const id = random.uuid();
    const first = random.pick(FIRST);
    const last = random.pick(LAST);
    const userPrincipalName = `${ascii(first)}.${ascii(last)}${i}@${DOMAIN}`;
    // Directory data is messy: a few departments are written in lower case (rules compare case-insensitively).
    const departmentName = random.pick(departments.length > 0 ? departments.map((d) => d.name) : DEPARTMENTS);
    const department = random.chance(0.05) ? departmentName.toLowerCase() : departmentName;
    const accountEnabled = !random.chance(0.02);
    const roll = random.next();
    const usageLocation =
      roll < 0.05
        ? null
        : roll < 0.055
          ? random.pick(PROHIBITED)
          : roll < 0.065
            ? random.pick(['CN', 'RU'])
            : random.pick(COUNTRIES);
    const proxyAddresses = [`SMTP:${userPrincipalName}`];
    if (addresses.length > 0 && random.chance(0.003)) proxyAddresses.push(`smtp:${random.pick(addresses)}`);
    addresses.push(userPrincipalName);
    const memberOf: string[] = [];
    for (const project of projects) if (random.chance(projectShare)) memberOf.push(project);
    for (const groupId of memberOf) {
      const members = memberships[groupId];
      if (members) members[id] = { kind: 'user', joinedAt: now };
    }
    users[id] = {
      userPrincipalName,
      displayName: `${first} ${last}`,
      usageLocation,
      proxyAddresses,
      department,
      accountEnabled,
      deleted: false,
      direct: [],
    };
    lines.push({
      type: 'user',
      id,
      userPrincipalName,
      displayName: `${first} ${last}`,
      usageLocation,
      department,
      accountEnabled,
      proxyAddresses,
      memberOf,
    });
  }
  const devices: SimState['devices'] = {};
  for (let i = 0; i < options.devices; i++) {
    const id = random.uuid();
    const displayName = `LAB-${String(i).padStart(5, '0')}`;
    const operatingSystem = random.pick(OPERATING_SYSTEMS);
    devices[id] = { displayName, operatingSystem };
    const memberOf =
      deviceGroups.length > 0 ? [random.chance(0.7) ? (deviceGroups[0] ?? '') : (deviceGroups[1] ?? '')] : [];
    for (const groupId of memberOf) {
      const members = memberships[groupId];
      if (members) members[id] = { kind: 'device', joinedAt: now };
    }
    lines.push({ type: 'device', id, displayName, deviceId: random.uuid(), operatingSystem, memberOf });
  }

  // Units: a little short of how many principals each SKU could reach (dynamic groups: whom their rules match).
  const allMemberships = recordedMemberships({ groups, users, devices, memberships });
  const demand = new Map<string, Set<string>>();
  for (const assignment of assignments) {
    const reach = membersReached(
      allMemberships,
      assignment.groupId,
      catalog.sku(assignment.licenses[0]?.skuId ?? '')?.assignableTo ?? 'user',
    );
    for (const license of assignment.licenses) {
      const set = demand.get(license.skuId) ?? new Set<string>();
      for (const id of reach) set.add(id);
      demand.set(license.skuId, set);
    }
  }
  const supply = options.supply ?? 0.97;
  const units: SimState['units'] = {};
  for (const [skuId, reached] of demand)
    units[skuId] = { enabled: Math.max(1, Math.floor(reached.size * supply)), warning: 0 };

  return {
    lines,
    nestedLines,
    dynamicGroups,
    assignments,
    state: {
      version: 1,
      seed: options.seed,
      units,
      lowered: [],
      users,
      devices,
      groups,
      memberships,
      sequence: 1,
      events: 0,
    },
  };
}

function membersReached(
  memberships: SimState['memberships'],
  groupId: string,
  kind: 'user' | 'device',
): Set<string> {
  const reached = new Set<string>();
  const seen = new Set([groupId]);
  const pending = [groupId];
  while (pending.length > 0) {
    const id = pending.pop() ?? '';
    for (const [memberId, member] of Object.entries(memberships[id] ?? {})) {
      if (member.kind === kind) reached.add(memberId);
      if (kind === 'device' && member.kind === 'group' && !seen.has(memberId)) {
        seen.add(memberId);
        pending.push(memberId);
      }
    }
  }
  return reached;
}

/**
 * Lines per import request. Each request ends by writing what it buffered, so bigger requests fill transactions
 * (25,000 users put ~100 rows in each of the 256 partitions of a table) and rewrite the group member lists fewer
 * times; four requests still show progress on a 100,000-user tenant.
 */
export const IMPORT_CHUNK = 25_000;

/**
 * Provisions a planned tenant through the service: the tenant and its subscriptions through the operator API, the
 * directory through the NDJSON import (in chunks, with progress), the dynamic groups through `POST /groups` (each
 * starts an evaluation of the whole tenant), then the group licenses through the Graph API — without waiting for
 * the rules' evaluations, which the service must reconcile with the license jobs.
 */
export async function provisionTenant(
  operator: OperatorClient,
  catalog: Catalog,
  options: GenerateOptions,
  progress: Progress,
): Promise<{ state: SimState; graph: Client; timings: Record<string, number> }> {
  const timings: Record<string, number> = {};
  const now = new Date().toISOString();
  const plan = planTenant(catalog, options, now);
  let started = Date.now();
  const tenant = await operator.createTenant(
    `Simulated tenant ${options.seed}`,
    'US',
    options.healing ?? 'automatic',
  );
  for (const [skuId, units] of Object.entries(plan.state.units))
    await operator.setUnits(tenant.id, skuId, units.enabled, units.warning);

  const bar = progress.bar('Importing the directory', plan.lines.length + plan.nestedLines.length);
  for (let i = 0; i < plan.lines.length; i += IMPORT_CHUNK) {
    const chunk = plan.lines.slice(i, i + IMPORT_CHUNK);
    const result = await operator.import(tenant.id, chunk);
    if (result.errors.length > 0)
      throw new Error(`the import refused lines: ${JSON.stringify(result.errors.slice(0, 5))}`);
    bar.increment(chunk.length);
  }
  if (plan.nestedLines.length > 0) {
    const result = await operator.import(tenant.id, plan.nestedLines);
    if (result.errors.length > 0)
      throw new Error(`the import refused lines: ${JSON.stringify(result.errors.slice(0, 5))}`);
    bar.increment(plan.nestedLines.length);
  }
  bar.stop();
  timings.importSeconds = (Date.now() - started) / 1000;

  started = Date.now();
  const graph = graphClient(operator.baseUrl, await operator.token(tenant.id));
  const groups = { ...plan.state.groups };
  const serviceIds = new Map<string, string>();
  for (const dynamic of plan.dynamicGroups) {
    const created = createdGroupSchema.parse(
      await graph.api('/groups').post({
        displayName: dynamic.displayName,
        mailNickname: dynamic.mailNickname,
        securityEnabled: true,
        mailEnabled: false,
        groupTypes: ['DynamicMembership'],
        membershipRule: dynamic.membershipRule,
        membershipRuleProcessingState: 'On',
      }),
    );
    const group = groups[dynamic.plannedId];
    delete groups[dynamic.plannedId];
    const savedAt = new Date().toISOString();
    if (group)
      groups[created.id] = {
        ...group,
        dynamic: { membershipRule: dynamic.membershipRule, processingState: 'On', savedAt },
      };
    serviceIds.set(dynamic.plannedId, created.id);
  }
  timings.dynamicGroupsSeconds = (Date.now() - started) / 1000;

  started = Date.now();
  const assign = progress.bar('Assigning group licenses', plan.assignments.length);
  for (const planned of plan.assignments) {
    const groupId = serviceIds.get(planned.groupId) ?? planned.groupId;
    await graph
      .api(`/groups/${groupId}/assignLicense`)
      .post({ addLicenses: planned.licenses, removeLicenses: [] });
    const group = groups[groupId];
    if (group)
      groups[groupId] = {
        ...group,
        licenses: planned.licenses,
        licensedSince: new Date().toISOString(),
      };
    assign.increment(1);
  }
  assign.stop();
  timings.assignSeconds = (Date.now() - started) / 1000;
  return {
    state: {
      ...plan.state,
      groups,
      baseUrl: operator.baseUrl,
      tenant: {
        id: tenant.id,
        displayName: tenant.displayName,
        countryLetterCode: tenant.countryLetterCode,
        licenseErrorHealing: tenant.licenseErrorHealing,
        clientState: tenant.webhook.clientState,
      },
    },
    graph,
    timings,
  };
}
