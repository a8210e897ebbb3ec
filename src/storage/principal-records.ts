import { z } from 'zod';
import type {
  DeviceProperties,
  MemberOfEntry,
  PrincipalRecord,
  Profile,
  RemovedMembership,
} from '../application/records.js';
import { type Catalog, effectiveLicenses, LICENSE_ERRORS, type PrincipalFacts } from '../engine/index.js';
import { guidProperty, principalPartition } from './keys.js';
import { CorruptEntityError, getBoolean, getJson, getString, putJson, type RawEntity } from './properties.js';

export type { DeviceProperties, MemberOfEntry, PrincipalRecord, Profile, RemovedMembership };

export function factsOf(record: PrincipalRecord): PrincipalFacts {
  return {
    id: record.id,
    kind: record.kind,
    usageLocation: record.usageLocation,
    proxyAddresses: record.proxyAddresses,
  };
}

const entrySchema = z.object({
  s: z.string(),
  g: z.string().nullable(),
  d: z.array(z.string()),
  st: z.enum(['Active', 'Error', 'Disabled']),
  e: z.enum([...LICENSE_ERRORS, 'None']),
  u: z.string(),
  t: z.string(),
  w: z.string().nullable(),
});
const directSchema = z.object({ s: z.string(), d: z.array(z.string()), t: z.string() });
const memberOfSchema = z.object({
  g: z.string(),
  t: z.string(),
  b: z.number().int(),
  q: z.number().optional(),
});
const removedSchema = z.object({ g: z.string(), t: z.string(), q: z.number().optional() });
const deviceSchema = z.object({
  deviceId: z.string(),
  operatingSystem: z.string(),
  operatingSystemVersion: z.string(),
  alternativeSecurityIds: z.array(z.unknown()),
});
const profileValue = z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(z.string())]);

/** Everything not filtered on, in one JSON property: fewer properties is less work for the SDK and for Azurite. */
const bodySchema = z.object({
  n: z.string(),
  ct: z.string(),
  mn: z.string().nullable().optional(),
  dep: z.string().nullable().optional(),
  mb: z.boolean().optional(),
  sp: z.boolean().optional(),
  lq: z.number().optional(),
  px: z.array(z.string()).optional(),
  dev: deviceSchema.nullable().optional(),
  pf: z.record(z.string(), profileValue).optional(),
  dl: z.array(directSchema).optional(),
  mo: z.array(memberOfSchema).optional(),
  rm: z.array(removedSchema).optional(),
  en: z.array(entrySchema).optional(),
});

/**
 * The row written for a principal. Properties that filters need stay separate: kind `k`, deleted `dd` (and `del`,
 * when), `nl` (lower-case display name), `upn`, `ul` (usage location), `ae`, and the flags `L<sku>` (holds a seat:
 * `assignedLicenses/any(...)`), `G<group>`/`E<group>` (has entries from the group / one in error: group status and
 * `membersWithLicenseErrors`) and `mr` (refused a mailbox: the sweep's safety net for addresses). Everything else
 * is one JSON property `d`.
 */
export function encodePrincipal(
  catalog: Catalog,
  record: PrincipalRecord,
): Record<string, unknown> & {
  partitionKey: string;
  rowKey: string;
} {
  const entity: Record<string, unknown> & { partitionKey: string; rowKey: string } = {
    partitionKey: principalPartition(record.tenantId, record.id),
    rowKey: record.id,
    k: record.kind === 'user' ? 'u' : 'd',
    nl: record.displayName.toLowerCase(),
    ae: record.accountEnabled,
    // Always written, so listings can filter on it (a missing property cannot be filtered on).
    dd: record.deletedDateTime !== null,
  };
  if (record.userPrincipalName !== null) entity.upn = record.userPrincipalName;
  if (record.usageLocation !== null) entity.ul = record.usageLocation;
  if (record.deletedDateTime !== null) entity.del = record.deletedDateTime;
  const body: z.input<typeof bodySchema> = { n: record.displayName, ct: record.createdDateTime };
  if (record.mailNickname !== null) body.mn = record.mailNickname;
  if (record.department !== null) body.dep = record.department;
  if (record.mailboxActive) body.mb = true;
  if (record.sharedProxy) body.sp = true;
  if (record.lifecycleSequence !== undefined) body.lq = record.lifecycleSequence;
  if (record.proxyAddresses.length > 0) body.px = [...record.proxyAddresses];
  if (record.device !== null)
    body.dev = { ...record.device, alternativeSecurityIds: [...record.device.alternativeSecurityIds] };
  if (Object.keys(record.profile).length > 0) {
    const profile: Record<string, string | number | boolean | null | string[]> = {};
    for (const [key, value] of Object.entries(record.profile)) {
      profile[key] = typeof value === 'object' && value !== null ? [...value] : value;
    }
    body.pf = profile;
  }
  if (record.directLicenses.length > 0) {
    body.dl = record.directLicenses.map((l) => ({ s: l.skuId, d: [...l.disabledPlans], t: l.since }));
  }
  if (record.memberOf.length > 0) {
    body.mo = record.memberOf.map((m) => ({
      g: m.groupId,
      t: m.joinedAt,
      b: m.bucket,
      ...(m.sequence === undefined ? {} : { q: m.sequence }),
    }));
  }
  if (record.removedMemberships.length > 0) {
    body.rm = record.removedMemberships.map((m) => ({
      g: m.groupId,
      t: m.removedAt,
      ...(m.sequence === undefined ? {} : { q: m.sequence }),
    }));
  }
  if (record.entries.length > 0) {
    body.en = record.entries.map((e) => ({
      s: e.skuId,
      g: e.assignedByGroup,
      d: [...e.disabledPlans],
      st: e.state,
      e: e.error,
      u: e.lastUpdatedDateTime,
      t: e.since,
      w: e.waitingSince,
    }));
  }
  putJson(entity, 'd', body);
  if (record.deletedDateTime === null) {
    for (const license of effectiveLicenses(catalog, record.entries).assignedLicenses) {
      entity[guidProperty('L', license.skuId)] = true;
    }
    // Group outcome flags, exact with the row: no counter rows to keep in step.
    for (const entry of record.entries) {
      if (entry.error === 'UniquenessViolation') entity.mr = true;
      if (entry.assignedByGroup === null) continue;
      entity[guidProperty('G', entry.assignedByGroup)] = true;
      if (entry.state === 'Error') entity[guidProperty('E', entry.assignedByGroup)] = true;
    }
  }
  return entity;
}

export function decodePrincipal(tenantId: string, entity: RawEntity): PrincipalRecord {
  const kind = getString(entity, 'k');
  if (kind !== 'u' && kind !== 'd') throw new CorruptEntityError(entity, 'k must be u or d');
  const body = getJson(entity, 'd', bodySchema, undefined);
  if (!body) throw new CorruptEntityError(entity, 'd is missing');
  return {
    tenantId,
    id: entity.rowKey,
    kind: kind === 'u' ? 'user' : 'device',
    displayName: body.n,
    userPrincipalName: getString(entity, 'upn') ?? null,
    mailNickname: body.mn ?? null,
    usageLocation: getString(entity, 'ul') ?? null,
    proxyAddresses: body.px ?? [],
    accountEnabled: getBoolean(entity, 'ae', true),
    department: body.dep ?? null,
    device: body.dev ?? null,
    profile: body.pf ?? {},
    createdDateTime: body.ct,
    deletedDateTime: getString(entity, 'del') ?? null,
    directLicenses: (body.dl ?? []).map((l) => ({ skuId: l.s, disabledPlans: l.d, since: l.t })),
    memberOf: (body.mo ?? []).map((m) => ({
      groupId: m.g,
      joinedAt: m.t,
      bucket: m.b,
      ...(m.q === undefined ? {} : { sequence: m.q }),
    })),
    removedMemberships: (body.rm ?? []).map((m) => ({
      groupId: m.g,
      removedAt: m.t,
      ...(m.q === undefined ? {} : { sequence: m.q }),
    })),
    entries: (body.en ?? []).map((e) => ({
      skuId: e.s,
      assignedByGroup: e.g,
      disabledPlans: e.d,
      state: e.st,
      error: e.e,
      lastUpdatedDateTime: e.u,
      since: e.t,
      waitingSince: e.w,
    })),
    mailboxActive: body.mb === true,
    sharedProxy: body.sp === true,
    ...(body.lq === undefined ? {} : { lifecycleSequence: body.lq }),
    etag: entity.etag,
  };
}

/** Principal rows have GUID row keys; bookkeeping rows in the same partitions start with `~`. */
export function isPrincipalRow(entity: { rowKey?: string }): boolean {
  return typeof entity.rowKey === 'string' && !entity.rowKey.startsWith('~');
}
