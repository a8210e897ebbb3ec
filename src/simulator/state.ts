import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { GroupLicensing, PrincipalSnapshot, TenantSnapshot } from '../engine/index.js';
import { parseSimpleRule, type RuleFacts, ruleMatches } from './membership-rule.js';

/**
 * The simulator's own record of what it sent to the service: the directory it created, the memberships, the
 * licenses it assigned, the units it bought and the lifecycle changes it made. `verify` recomputes the tenant from
 * this record alone and compares it with what the service reports.
 */
const license = z.object({ skuId: z.string(), disabledPlans: z.array(z.string()) });
const stateSchema = z.object({
  version: z.literal(1),
  seed: z.number(),
  baseUrl: z.string(),
  tenant: z.object({
    id: z.string(),
    displayName: z.string(),
    countryLetterCode: z.string(),
    licenseErrorHealing: z.enum(['automatic', 'manual']),
    clientState: z.string(),
  }),
  units: z.record(z.string(), z.object({ enabled: z.number(), warning: z.number() })),
  /** Highest units ever held below what was consumed: the SKUs whose units were lowered. */
  lowered: z.array(z.string()),
  users: z.record(
    z.string(),
    z.object({
      userPrincipalName: z.string(),
      displayName: z.string(),
      usageLocation: z.string().nullable(),
      proxyAddresses: z.array(z.string()),
      department: z.string(),
      /** Absent in records written before dynamic groups: enabled, as the import's default. */
      accountEnabled: z.boolean().optional(),
      deleted: z.boolean(),
      direct: z.array(license.extend({ since: z.string() })),
    }),
  ),
  devices: z.record(
    z.string(),
    /** `operatingSystem` absent: Windows, the import's default. */
    z.object({ displayName: z.string(), operatingSystem: z.string().optional() }),
  ),
  groups: z.record(
    z.string(),
    z.object({
      displayName: z.string(),
      kind: z.enum(['department', 'project', 'devices', 'nested', 'location']),
      securityEnabled: z.boolean(),
      /**
       * A dynamic group's rule and processing state. While `On` its members are the rule applied to the record
       * (`memberships` holds nothing for it); while `Paused`, `memberships` holds what the pause froze.
       */
      dynamic: z
        .object({
          membershipRule: z.string(),
          processingState: z.enum(['On', 'Paused']),
          savedAt: z.string(),
        })
        .optional(),
      licenses: z.array(license),
      licensedSince: z.string().nullable(),
    }),
  ),
  /** memberships[groupId][memberId] = { kind, joinedAt }: what was added by hand (see `groups[…].dynamic`). */
  memberships: z.record(
    z.string(),
    z.record(z.string(), z.object({ kind: z.enum(['user', 'device', 'group']), joinedAt: z.string() })),
  ),
  /** The next change-notification sequence number to use. */
  sequence: z.number(),
  events: z.number(),
});

export type SimState = z.infer<typeof stateSchema>;

export function saveState(file: string, state: SimState): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.tmp`;
  writeFileSync(temporary, JSON.stringify(state));
  renameSync(temporary, file);
}

export function loadState(file: string): SimState {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new Error(
      `No simulator state at ${file}: run \`npm run simulate -- generate\` first (or pass --state).`,
    );
  }
  const parsed = stateSchema.safeParse(JSON.parse(text));
  if (!parsed.success)
    throw new Error(`${file} is not a simulator state file: ${parsed.error.message.slice(0, 300)}`);
  return parsed.data;
}

/** What a rule reads of a user in the record. */
export function userRuleFacts(user: SimState['users'][string]): RuleFacts {
  return {
    department: user.department,
    usageLocation: user.usageLocation,
    accountEnabled: user.accountEnabled ?? true,
    displayName: user.displayName,
    userPrincipalName: user.userPrincipalName,
  };
}

/** What a rule reads of a device in the record (`deviceOSType` is its operating system). */
export function deviceRuleFacts(device: SimState['devices'][string]): RuleFacts {
  return {
    deviceOSType: device.operatingSystem ?? 'Windows',
    displayName: device.displayName,
    accountEnabled: true,
  };
}

/**
 * Every group's members as the record decides them: those added by hand, and for a dynamic group whose processing
 * is On, every user or device its rule matches in the record, judged by the simulator's own rule reader
 * (membership-rule.ts), not the service's. Soft-deleted users are matched too; nothing judges their memberships,
 * which the service leaves as they were until a restore checks them again.
 */
export function recordedMemberships(
  state: Pick<SimState, 'groups' | 'users' | 'devices' | 'memberships'>,
): SimState['memberships'] {
  const all: SimState['memberships'] = { ...state.memberships };
  for (const [groupId, group] of Object.entries(state.groups)) {
    if (group.dynamic?.processingState !== 'On') continue;
    const rule = parseSimpleRule(group.dynamic.membershipRule);
    const joinedAt = group.dynamic.savedAt;
    const members: SimState['memberships'][string] = {};
    if (rule.subject === 'user') {
      for (const [id, user] of Object.entries(state.users))
        if (ruleMatches(rule, 'user', userRuleFacts(user))) members[id] = { kind: 'user', joinedAt };
    } else {
      for (const [id, device] of Object.entries(state.devices))
        if (ruleMatches(rule, 'device', deviceRuleFacts(device))) members[id] = { kind: 'device', joinedAt };
    }
    all[groupId] = members;
  }
  return all;
}

/** The tenant as the simulator believes it to be, in the engine's terms (for the from-scratch recomputation). */
export function snapshotOf(state: SimState): TenantSnapshot {
  const memberOf = new Map<string, { groupId: string; joinedAt: string }[]>();
  for (const [groupId, members] of Object.entries(recordedMemberships(state))) {
    for (const [memberId, m] of Object.entries(members)) {
      const list = memberOf.get(memberId) ?? [];
      list.push({ groupId, joinedAt: m.joinedAt });
      memberOf.set(memberId, list);
    }
  }
  const principals: PrincipalSnapshot[] = [];
  for (const [id, user] of Object.entries(state.users)) {
    principals.push({
      facts: { id, kind: 'user', usageLocation: user.usageLocation, proxyAddresses: user.proxyAddresses },
      deleted: user.deleted,
      directLicenses: user.direct,
      memberOf: memberOf.get(id) ?? [],
    });
  }
  for (const id of Object.keys(state.devices)) {
    principals.push({
      facts: { id, kind: 'device', usageLocation: null, proxyAddresses: [] },
      deleted: false,
      directLicenses: [],
      memberOf: memberOf.get(id) ?? [],
    });
  }
  const groups: GroupLicensing[] = Object.entries(state.groups).map(([id, group]) => ({
    id,
    licenses: group.licenses,
    licensedSince: group.licensedSince,
    memberOf: memberOf.get(id) ?? [],
  }));
  return {
    settings: {
      countryLetterCode: state.tenant.countryLetterCode,
      licenseErrorHealing: state.tenant.licenseErrorHealing,
    },
    subscriptions: Object.entries(state.units).map(([skuId, u]) => ({
      skuId,
      prepaidUnits: { enabled: u.enabled, warning: u.warning, suspended: 0, lockedOut: 0 },
    })),
    principals,
    groups,
  };
}
