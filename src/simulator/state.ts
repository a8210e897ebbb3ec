import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { GroupLicensing, PrincipalSnapshot, TenantSnapshot } from '../engine/index.js';

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
      deleted: z.boolean(),
      direct: z.array(license.extend({ since: z.string() })),
    }),
  ),
  devices: z.record(z.string(), z.object({ displayName: z.string() })),
  groups: z.record(
    z.string(),
    z.object({
      displayName: z.string(),
      kind: z.enum(['department', 'project', 'devices', 'nested']),
      securityEnabled: z.boolean(),
      licenses: z.array(license),
      licensedSince: z.string().nullable(),
    }),
  ),
  /** memberships[groupId][memberId] = { kind, joinedAt } */
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

/** The tenant as the simulator believes it to be, in the engine's terms (for the from-scratch recomputation). */
export function snapshotOf(state: SimState): TenantSnapshot {
  const memberOf = new Map<string, { groupId: string; joinedAt: string }[]>();
  for (const [groupId, members] of Object.entries(state.memberships)) {
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
