import { z } from 'zod';
import {
  type Catalog,
  type DirectLicense,
  effectiveLicenses,
  LICENSE_ERRORS,
  type LicenseEntry,
  type PrincipalFacts,
  type PrincipalKind,
} from '../engine/index.js';
import { guidProperty, principalPartition } from './keys.js';
import {
  CorruptEntityError,
  getBoolean,
  getJson,
  getString,
  putJson,
  type RawEntity,
  requireString,
} from './properties.js';

/** A membership as recorded on the member: the source of truth for "M is in G". */
export interface MemberOfEntry {
  readonly groupId: string;
  readonly joinedAt: string;
  /** The bucket of the group's member list that holds this member. */
  readonly bucket: number;
  /** The last change-notification sequence applied to this membership (for reordering), if any. */
  readonly sequence?: number;
}

/** A membership that ended, remembered for a while so a replayed or late "add" cannot resurrect it. */
export interface RemovedMembership {
  readonly groupId: string;
  readonly removedAt: string;
  readonly sequence?: number;
}

export interface DeviceProperties {
  readonly deviceId: string;
  readonly operatingSystem: string;
  readonly operatingSystemVersion: string;
  readonly alternativeSecurityIds: readonly unknown[];
}

/** Graph properties the directory mirror keeps but licensing does not read. */
export type Profile = Readonly<Record<string, string | number | boolean | null | readonly string[]>>;

/** A user or device as stored: directory facts, memberships and license state in one row. */
export interface PrincipalRecord {
  readonly tenantId: string;
  readonly id: string;
  readonly kind: PrincipalKind;
  readonly displayName: string;
  readonly userPrincipalName: string | null;
  readonly mailNickname: string | null;
  readonly usageLocation: string | null;
  readonly proxyAddresses: readonly string[];
  readonly accountEnabled: boolean;
  readonly department: string | null;
  readonly device: DeviceProperties | null;
  readonly profile: Profile;
  readonly createdDateTime: string;
  /** Set while soft-deleted. */
  readonly deletedDateTime: string | null;
  readonly directLicenses: readonly DirectLicense[];
  readonly memberOf: readonly MemberOfEntry[];
  readonly removedMemberships: readonly RemovedMembership[];
  readonly entries: readonly LicenseEntry[];
  readonly mailboxActive: boolean;
  /** One of its proxy addresses is shared with another user, so mailbox grants must claim it. */
  readonly sharedProxy: boolean;
  /** The sequence of the last lifecycle notification applied (soft delete, restore), for ordering replays. */
  readonly lifecycleSequence?: number;
  readonly etag?: string;
}

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
const profileSchema = z.record(z.string(), profileValue);

/** The row written for a principal. `L_<sku>` flags make `assignedLicenses/any(...)` a server-side filter. */
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
    n: record.displayName,
    nl: record.displayName.toLowerCase(),
    ae: record.accountEnabled,
    ct: record.createdDateTime,
    mb: record.mailboxActive,
    sp: record.sharedProxy,
    // Always written, so listings can filter on it (a missing property cannot be filtered on).
    dd: record.deletedDateTime !== null,
  };
  if (record.userPrincipalName !== null) entity.upn = record.userPrincipalName;
  if (record.mailNickname !== null) entity.mn = record.mailNickname;
  if (record.usageLocation !== null) entity.ul = record.usageLocation;
  if (record.department !== null) entity.dep = record.department;
  if (record.deletedDateTime !== null) entity.del = record.deletedDateTime;
  if (record.lifecycleSequence !== undefined) entity.lq = record.lifecycleSequence;
  if (record.proxyAddresses.length > 0) putJson(entity, 'px', record.proxyAddresses);
  if (record.device !== null) putJson(entity, 'dev', record.device);
  if (Object.keys(record.profile).length > 0) putJson(entity, 'pf', record.profile);
  if (record.directLicenses.length > 0) {
    putJson(
      entity,
      'dl',
      record.directLicenses.map((l) => ({ s: l.skuId, d: l.disabledPlans, t: l.since })),
    );
  }
  if (record.memberOf.length > 0) {
    putJson(
      entity,
      'mo',
      record.memberOf.map((m) => ({
        g: m.groupId,
        t: m.joinedAt,
        b: m.bucket,
        ...(m.sequence === undefined ? {} : { q: m.sequence }),
      })),
    );
  }
  if (record.removedMemberships.length > 0) {
    putJson(
      entity,
      'rm',
      record.removedMemberships.map((m) => ({
        g: m.groupId,
        t: m.removedAt,
        ...(m.sequence === undefined ? {} : { q: m.sequence }),
      })),
    );
  }
  if (record.entries.length > 0) {
    putJson(
      entity,
      'en',
      record.entries.map((e) => ({
        s: e.skuId,
        g: e.assignedByGroup,
        d: e.disabledPlans,
        st: e.state,
        e: e.error,
        u: e.lastUpdatedDateTime,
        t: e.since,
        w: e.waitingSince,
      })),
    );
  }
  if (record.deletedDateTime === null) {
    for (const license of effectiveLicenses(catalog, record.entries).assignedLicenses) {
      entity[guidProperty('L', license.skuId)] = true;
    }
    // Group outcome flags, exact with the row: G<group> = has entries from the group, E<group> = one of them is in
    // error. Group status counts and membersWithLicenseErrors are filters on them; no counter rows to keep.
    for (const entry of record.entries) {
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
  return {
    tenantId,
    id: entity.rowKey,
    kind: kind === 'u' ? 'user' : 'device',
    displayName: requireString(entity, 'n'),
    userPrincipalName: getString(entity, 'upn') ?? null,
    mailNickname: getString(entity, 'mn') ?? null,
    usageLocation: getString(entity, 'ul') ?? null,
    proxyAddresses: getJson(entity, 'px', z.array(z.string()), []),
    accountEnabled: getBoolean(entity, 'ae', true),
    department: getString(entity, 'dep') ?? null,
    device: getJson(entity, 'dev', deviceSchema.nullable(), null),
    profile: getJson(entity, 'pf', profileSchema, {}),
    createdDateTime: requireString(entity, 'ct'),
    deletedDateTime: getString(entity, 'del') ?? null,
    directLicenses: getJson(entity, 'dl', z.array(directSchema), []).map((l) => ({
      skuId: l.s,
      disabledPlans: l.d,
      since: l.t,
    })),
    memberOf: getJson(entity, 'mo', z.array(memberOfSchema), []).map((m) => ({
      groupId: m.g,
      joinedAt: m.t,
      bucket: m.b,
      ...(m.q === undefined ? {} : { sequence: m.q }),
    })),
    removedMemberships: getJson(entity, 'rm', z.array(removedSchema), []).map((m) => ({
      groupId: m.g,
      removedAt: m.t,
      ...(m.q === undefined ? {} : { sequence: m.q }),
    })),
    entries: getJson(entity, 'en', z.array(entrySchema), []).map((e) => ({
      skuId: e.s,
      assignedByGroup: e.g,
      disabledPlans: e.d,
      state: e.st,
      error: e.e,
      lastUpdatedDateTime: e.u,
      since: e.t,
      waitingSince: e.w,
    })),
    mailboxActive: getBoolean(entity, 'mb'),
    sharedProxy: getBoolean(entity, 'sp'),
    ...(typeof entity.lq === 'number' ? { lifecycleSequence: entity.lq } : {}),
    etag: entity.etag,
  };
}

/** Principal rows have GUID row keys; bookkeeping rows in the same partitions start with `~`. */
export function isPrincipalRow(entity: { rowKey?: string }): boolean {
  return typeof entity.rowKey === 'string' && !entity.rowKey.startsWith('~');
}
