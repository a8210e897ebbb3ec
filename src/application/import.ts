import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { GroupRecord } from '../storage/group-records.js';
import { InFlight, inParallel } from '../storage/in-flight.js';
import { shardOf } from '../storage/keys.js';
import { bucketOf, type MemberKind, type MemberRef } from '../storage/members.js';
import { type AppContext, faultPoint } from './context.js';
import { newUserRecord } from './directory.js';
import { reevaluateAllRules } from './dynamic-groups.js';
import { NotFoundError } from './errors.js';
import { reprocessOwed } from './group-licensing.js';
import { claimNameHeldByNobody } from './names.js';
import {
  IMPORT_OUTBOX_LEASE_MS,
  type OutboxEntry,
  outboxEntry,
  recordOutbox,
  relayOutbox,
} from './outbox.js';
import { updatePrincipals } from './principal-updates.js';
import { deviceProfileFields, deviceProfileOf, userProfileFields, userProfileOf } from './profile.js';
import type { MemberOfEntry, PrincipalRecord } from './records.js';

const guid = z
  .string()
  .regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/)
  .transform((s) => s.toLowerCase());
const country = z
  .string()
  .regex(/^[A-Za-z]{2}$/)
  .transform((s) => s.toUpperCase());

const userLine = z
  .object({
    type: z.literal('user'),
    id: guid.optional(),
    userPrincipalName: z
      .string()
      .min(3)
      .max(113)
      .regex(/^[^@\s]+@[^@\s]+$/),
    displayName: z.string().min(1).max(256),
    mailNickname: z.string().min(1).max(64).optional(),
    accountEnabled: z.boolean().default(true),
    usageLocation: country.nullable().optional(),
    department: z.string().max(64).nullable().optional(),
    proxyAddresses: z.array(z.string().min(3).max(256)).max(50).optional(),
    ...userProfileFields,
    /** Groups the user belongs to, written with the user (faster than `member` lines). */
    memberOf: z.array(guid).max(1000).optional(),
  })
  .strict();
const groupLine = z
  .object({
    type: z.literal('group'),
    id: guid.optional(),
    displayName: z.string().min(1).max(256),
    mailNickname: z.string().min(1).max(64).optional(),
    description: z.string().max(1024).nullable().optional(),
    securityEnabled: z.boolean().default(true),
    mailEnabled: z.boolean().default(false),
    groupTypes: z.array(z.string()).max(5).default([]),
  })
  .strict();
const deviceLine = z
  .object({
    type: z.literal('device'),
    id: guid.optional(),
    displayName: z.string().min(1).max(256),
    deviceId: guid.optional(),
    operatingSystem: z.string().max(64).default('Windows'),
    operatingSystemVersion: z.string().max(64).default('10.0'),
    accountEnabled: z.boolean().default(true),
    ...deviceProfileFields,
    memberOf: z.array(guid).max(1000).optional(),
  })
  .strict();
const memberLine = z.object({ type: z.literal('member'), groupId: guid, memberId: guid }).strict();
export const importLine = z.discriminatedUnion('type', [userLine, groupLine, deviceLine, memberLine]);
export type ImportLine = z.infer<typeof importLine>;

/** Why a line of an import was not written: a code and its facts; the edge words it (src/api/wording.ts). */
export type ImportLineProblem =
  /** The line is not a valid object of the import's schema; `detail` is the schema's account of it. */
  | { readonly code: 'InvalidLine'; readonly detail: string }
  | { readonly code: 'UserPrincipalNameTaken'; readonly userPrincipalName: string }
  | { readonly code: 'ObjectIdTaken'; readonly id: string };

export type ImportLineError = { readonly line: number } & ImportLineProblem;

export interface ImportResult {
  readonly users: number;
  readonly groups: number;
  readonly devices: number;
  readonly members: number;
  readonly errors: readonly ImportLineError[];
}

export type ImportProgress = (counts: {
  lines: number;
  users: number;
  groups: number;
  devices: number;
  members: number;
}) => void;

/** Lines are parsed as they arrive and written in 100-row transactions per partition; buffers stay bounded. */
const FLUSH_AT = 100;
const MEMBER_BUFFER = 5000;
/**
 * Inline memberships only touch group-side lists, and each flush rewrites every bucket they touch: buffering many
 * (~10 MB at this size) rewrites each bucket row fewer times.
 */
const INLINE_BUFFER = 100_000;
/** Transactions of different partitions written at once: the import is bound by round trips, not by storage. */
const WRITES_IN_FLIGHT = 6;
const MAX_REPORTED_ERRORS = 1000;
/** Groups named per outbox row of an import (a few kilobytes). */
const GROUPS_PER_OUTBOX_ROW = 500;

/** A line's object waiting for a full transaction of its batch (and a user for its name first). */
interface PendingRow {
  readonly line: number;
  readonly record?: PrincipalRecord;
  readonly group?: GroupRecord;
  readonly name?: { readonly batch: string; readonly id: string; readonly userPrincipalName: string };
}

/**
 * The streamed NDJSON import of the operator API (api.md): users, groups, devices and memberships, provisioning a
 * 100,000-user tenant in seconds. Objects are written in entity-group transactions (a failing transaction is
 * retried line by line so only the bad lines are reported); memberships go to the group's member list and the
 * member's own row. Principals that join groups already carrying licenses are queued for evaluation.
 */
/** The outbox row owing every dynamic group's evaluation after an import, if the tenant has a rule to follow. */
async function oweRuleEvaluation(
  ctx: AppContext,
  tenantId: string,
  importId: string,
): Promise<OutboxEntry | undefined> {
  const rules = (await ctx.tenants.partition(tenantId))?.membershipRules;
  if (![...(rules?.values() ?? [])].some((r) => r.processingState === 'On')) return undefined;
  const entry = outboxEntry(
    ctx,
    { reevaluateRules: true },
    { id: `${importId}.rules`, leaseMs: IMPORT_OUTBOX_LEASE_MS },
  );
  return recordOutbox(ctx, tenantId, entry);
}

export async function importDirectory(
  ctx: AppContext,
  tenantId: string,
  lines: AsyncIterable<{ line: number; value: unknown }>,
  onProgress?: ImportProgress,
): Promise<ImportResult> {
  if (!(await ctx.tenants.read(tenantId))) throw new NotFoundError(tenantId);
  const now = ctx.now().toISOString();
  const errors: ImportLineError[] = [];
  const fail = (line: number, problem: ImportLineProblem) => {
    if (errors.length < MAX_REPORTED_ERRORS) errors.push({ line, ...problem });
  };
  const counts = { lines: 0, users: 0, groups: 0, devices: 0, members: 0 };
  const kinds = new Map<string, MemberKind>();
  // Users wait for their user principal name (names are partitioned by name, principals by id), then for a full
  // transaction of their principal partition; groups for a full transaction of theirs.
  const nameBuffers = new Map<string, PendingRow[]>();
  const principalBuffers = new Map<string, PendingRow[]>();
  const groupBuffers = new Map<string, PendingRow[]>();
  // Memberships given inline on user and device lines only touch the group-side lists (bucket first, as
  // everywhere); `member` lines also change the member's row, which must exist first.
  const inlineMembers = new Map<string, MemberRef[]>();
  let bufferedInline = 0;
  const membersByGroup = new Map<string, MemberRef[]>();
  const memberOfByPrincipal = new Map<string, MemberOfEntry[]>();
  let bufferedMembers = 0;
  const refusedWithInline = new Map<string, readonly string[]>();
  const withProxies: PrincipalRecord[] = [];
  const unresolved = new Set<string>();

  // Groups that gain members are reprocessed at the end if they carry licenses. Before any membership of a group is
  // written, the reprocess is owed in the outbox (rows `out|{import}.{n}`, a few hundred groups each), so an import
  // that dies before its end still has its groups reprocessed, by the sweep.
  const importId = randomUUID();
  // Dynamic groups see the imported principals through a new evaluation of every rule at the end, owed first.
  const rulesOwed = await oweRuleEvaluation(ctx, tenantId, importId);
  const owedGroups = new Set<string>();
  const owedRows: string[] = [];
  let owing: Promise<void> = Promise.resolve();
  const owe = async (groupIds: Iterable<string>) => {
    const fresh = [...new Set(groupIds)].filter((id) => !owedGroups.has(id));
    for (const id of fresh) owedGroups.add(id);
    if (fresh.length > 0) {
      owing = owing.then(async () => {
        for (let i = 0; i < fresh.length; i += GROUPS_PER_OUTBOX_ROW) {
          const work = { reprocess: fresh.slice(i, i + GROUPS_PER_OUTBOX_ROW) };
          const id = `${importId}.${owedRows.length}`;
          await recordOutbox(ctx, tenantId, outboxEntry(ctx, work, { id, leaseMs: IMPORT_OUTBOX_LEASE_MS }));
          owedRows.push(id);
        }
      });
    }
    // Also waits for rows another flush started for groups this one shares.
    await owing;
  };

  const refuse = (row: PendingRow, problem: ImportLineProblem) => {
    fail(row.line, problem);
    if (row.record && row.record.memberOf.length > 0) {
      refusedWithInline.set(
        row.record.id,
        row.record.memberOf.map((m) => m.groupId),
      );
    }
  };
  const flushPrincipals = async (partition: string) => {
    const rows = principalBuffers.get(partition) ?? [];
    principalBuffers.delete(partition);
    await owe(rows.flatMap((row) => row.record?.memberOf.map((m) => m.groupId) ?? []));
    for (const row of await writePrincipals(ctx, tenantId, rows, refuse)) {
      if (row.record?.kind === 'user') counts.users++;
      else counts.devices++;
      if (row.record && row.record.proxyAddresses.length > 0) withProxies.push(row.record);
    }
  };
  const queuePrincipal = async (row: PendingRow) => {
    const batch = ctx.directory.batchOf('principal', tenantId, row.record?.id ?? '');
    const buffer = principalBuffers.get(batch) ?? [];
    buffer.push(row);
    principalBuffers.set(batch, buffer);
    if (buffer.length >= FLUSH_AT) await flushPrincipals(batch);
  };
  const flushNames = async (partition: string) => {
    const rows = nameBuffers.get(partition) ?? [];
    nameBuffers.delete(partition);
    if (rows.length === 0) return;
    const taken = new Set(await createNames(ctx, tenantId, rows));
    for (const row of rows) {
      if (taken.has(row))
        refuse(row, {
          code: 'UserPrincipalNameTaken',
          userPrincipalName: row.record?.userPrincipalName ?? '',
        });
      else await queuePrincipal(row);
    }
  };
  const flushGroups = async (partition: string) => {
    const rows = groupBuffers.get(partition) ?? [];
    groupBuffers.delete(partition);
    // Read the count after the write: `counts.groups += await …` would add to the value read before it, and
    // flushes run concurrently.
    const written = await writeGroups(ctx, rows, refuse);
    counts.groups += written.length;
  };
  // Full transactions of different partitions are written concurrently; everything a later step depends on
  // (names before their principals, objects before `member` lines) is drained first.
  const flight = new InFlight(WRITES_IN_FLIGHT);
  const flushAllObjects = async () => {
    for (const partition of [...nameBuffers.keys()]) await flight.add(() => flushNames(partition));
    await flight.drain();
    for (const partition of [...principalBuffers.keys()]) await flight.add(() => flushPrincipals(partition));
    for (const partition of [...groupBuffers.keys()]) await flight.add(() => flushGroups(partition));
    await flight.drain();
  };
  const flushInline = async () => {
    const lists = [...inlineMembers];
    await owe(lists.map(([groupId]) => groupId));
    inlineMembers.clear();
    bufferedInline = 0;
    await inParallel(lists, 4, async ([groupId, refs]) => {
      await ctx.members.apply(tenantId, groupId, refs, []);
    });
  };
  const flushMembers = async () => {
    if (membersByGroup.size === 0) return;
    await flushAllObjects();
    await owe(membersByGroup.keys());
    await applyMemberships(ctx, tenantId, membersByGroup, memberOfByPrincipal, kinds, unresolved);
    membersByGroup.clear();
    memberOfByPrincipal.clear();
    bufferedMembers = 0;
  };

  for await (const { line, value } of lines) {
    counts.lines++;
    const parsed = importLine.safeParse(value);
    if (!parsed.success) {
      const detail = parsed.error.issues.map((i) => `${i.path.join('.') || 'line'}: ${i.message}`).join('; ');
      fail(line, { code: 'InvalidLine', detail });
      continue;
    }
    const item = parsed.data;
    if (item.type === 'user' || item.type === 'device') {
      const base = principalFromLine(tenantId, item, now);
      const memberOf = (item.memberOf ?? []).map((groupId) => ({
        groupId,
        joinedAt: now,
        bucket: bucketOf(base.id),
      }));
      const record: PrincipalRecord = { ...base, memberOf };
      for (const entry of memberOf) {
        const list = inlineMembers.get(entry.groupId) ?? [];
        list.push({ id: record.id, kind: record.kind, joinedAt: now });
        inlineMembers.set(entry.groupId, list);
        bufferedInline++;
        counts.members++;
      }
      kinds.set(record.id, record.kind);
      const row: PendingRow = { line, record };
      if (record.kind === 'user' && record.userPrincipalName) {
        const name = {
          batch: ctx.names.batchOf(tenantId, record.userPrincipalName),
          id: record.id,
          userPrincipalName: record.userPrincipalName,
        };
        const buffer = nameBuffers.get(name.batch) ?? [];
        buffer.push({ ...row, name });
        nameBuffers.set(name.batch, buffer);
        if (buffer.length >= FLUSH_AT) await flight.add(() => flushNames(name.batch));
      } else {
        await queuePrincipal(row);
      }
    } else if (item.type === 'group') {
      const group: GroupRecord = {
        tenantId,
        id: item.id ?? randomUUID(),
        displayName: item.displayName,
        description: item.description ?? null,
        mailNickname:
          item.mailNickname ?? (item.displayName.replace(/[^A-Za-z0-9]/g, '').slice(0, 64) || 'group'),
        securityEnabled: item.securityEnabled,
        mailEnabled: item.mailEnabled,
        groupTypes: item.groupTypes,
        createdDateTime: now,
        memberOf: [],
        removedMemberships: [],
      };
      kinds.set(group.id, 'group');
      const batch = ctx.directory.batchOf('group', tenantId, group.id);
      const buffer = groupBuffers.get(batch) ?? [];
      buffer.push({ line, group });
      groupBuffers.set(batch, buffer);
      if (buffer.length >= FLUSH_AT) await flight.add(() => flushGroups(batch));
    } else {
      let kind = kinds.get(item.memberId);
      if (kind === undefined) {
        // Not created by this import: its kind is looked up when the memberships are applied.
        kind = 'user';
        unresolved.add(item.memberId);
      }
      const list = membersByGroup.get(item.groupId) ?? [];
      list.push({ id: item.memberId, kind, joinedAt: now });
      membersByGroup.set(item.groupId, list);
      const entries = memberOfByPrincipal.get(item.memberId) ?? [];
      entries.push({ groupId: item.groupId, joinedAt: now, bucket: bucketOf(item.memberId) });
      memberOfByPrincipal.set(item.memberId, entries);
      bufferedMembers++;
      counts.members++;
    }
    if (bufferedInline >= INLINE_BUFFER) await flushInline();
    if (bufferedMembers >= MEMBER_BUFFER) await flushMembers();
    if (onProgress && counts.lines % 1000 === 0) onProgress(counts);
  }
  await flushInline();
  await flushAllObjects();
  await flushMembers();
  // Inline memberships of refused lines must not linger in the group-side lists.
  const phantoms = new Map<string, string[]>();
  for (const [id, groups] of refusedWithInline)
    for (const g of groups) phantoms.set(g, [...(phantoms.get(g) ?? []), id]);
  for (const [groupId, ids] of phantoms) await ctx.members.apply(tenantId, groupId, [], ids);
  await registerImportedAddresses(ctx, tenantId, withProxies);
  faultPoint(ctx, 'import:memberships-written');
  // Last, once the members' rows and addresses are all written: a reprocess evaluates every member of the group,
  // the new ones included (inline `memberOf` and `member` lines alike); queuing it settles what the outbox owes.
  for (const id of owedRows) await reprocessOwed(ctx, tenantId, id);
  if (rulesOwed) {
    await reevaluateAllRules(ctx, tenantId);
    await relayOutbox(ctx, tenantId, rulesOwed);
  }
  onProgress?.(counts);
  return {
    users: counts.users,
    groups: counts.groups,
    devices: counts.devices,
    members: counts.members,
    errors,
  };
}

/**
 * Records the imported users' proxy addresses in bulk and flags the users who share one (only they are checked for
 * uniqueness when licensed). A partial transaction on retry is harmless: present users are merged, not repeated.
 */
async function registerImportedAddresses(
  ctx: AppContext,
  tenantId: string,
  records: readonly PrincipalRecord[],
): Promise<void> {
  const sharing = new Set<string>();
  for (let i = 0; i < records.length; i += 20_000) {
    const pairs = records
      .slice(i, i + 20_000)
      .flatMap((r) => r.proxyAddresses.map((address) => ({ address, userId: r.id })));
    for (const id of await ctx.proxies.registerMany(tenantId, pairs)) sharing.add(id);
  }
  if (sharing.size === 0) return;
  await updatePrincipals(ctx, tenantId, [...sharing], {
    reservationId: randomUUID(),
    mutate: (record) => (record.sharedProxy ? record : { ...record, sharedProxy: true }),
  });
}

function principalFromLine(
  tenantId: string,
  item: Extract<ImportLine, { type: 'user' | 'device' }>,
  now: string,
): PrincipalRecord {
  if (item.type === 'user') {
    return newUserRecord(
      tenantId,
      {
        ...(item.id ? { id: item.id } : {}),
        userPrincipalName: item.userPrincipalName,
        displayName: item.displayName,
        mailNickname: item.mailNickname ?? item.userPrincipalName.split('@')[0] ?? item.displayName,
        accountEnabled: item.accountEnabled,
        usageLocation: item.usageLocation ?? null,
        department: item.department ?? null,
        proxyAddresses: item.proxyAddresses ?? [],
        profile: userProfileOf(item),
      },
      now,
    );
  }
  const user = newUserRecord(
    tenantId,
    {
      ...(item.id ? { id: item.id } : {}),
      userPrincipalName: '',
      displayName: item.displayName,
      mailNickname: '',
      accountEnabled: item.accountEnabled,
    },
    now,
  );
  return {
    ...user,
    kind: 'device',
    userPrincipalName: null,
    mailNickname: null,
    device: {
      deviceId: item.deviceId ?? randomUUID(),
      operatingSystem: item.operatingSystem,
      operatingSystemVersion: item.operatingSystemVersion,
      alternativeSecurityIds: [],
    },
    profile: deviceProfileOf(item),
  };
}

/** Creates the principals of one batch; a line whose id is taken is refused (and its name let go). */
async function writePrincipals(
  ctx: AppContext,
  tenantId: string,
  rows: readonly PendingRow[],
  refuse: (row: PendingRow, problem: ImportLineProblem) => void,
): Promise<PendingRow[]> {
  const records = rows.flatMap((row) => (row.record ? [row.record] : []));
  const taken = new Set((await ctx.directory.createPrincipals(records)).map((record) => record.id));
  const written: PendingRow[] = [];
  for (const row of rows) {
    const id = row.record?.id ?? '';
    if (!taken.has(id)) {
      written.push(row);
      continue;
    }
    refuse(row, { code: 'ObjectIdTaken', id });
    if (row.name) await ctx.names.release(tenantId, row.name.userPrincipalName);
  }
  return written;
}

/** Creates the groups of one batch; a line whose id is taken is refused. */
async function writeGroups(
  ctx: AppContext,
  rows: readonly PendingRow[],
  refuse: (row: PendingRow, problem: ImportLineProblem) => void,
): Promise<PendingRow[]> {
  const groups = rows.flatMap((row) => (row.group ? [row.group] : []));
  const taken = new Set((await ctx.directory.createGroups(groups)).map((group) => group.id));
  const written: PendingRow[] = [];
  for (const row of rows) {
    const id = row.group?.id ?? '';
    if (taken.has(id)) refuse(row, { code: 'ObjectIdTaken', id });
    else written.push(row);
  }
  return written;
}

/** Reserves the names of one batch; returns the rows whose name is taken (by a user that exists). */
async function createNames(
  ctx: AppContext,
  tenantId: string,
  rows: readonly PendingRow[],
): Promise<PendingRow[]> {
  const names = rows.flatMap((row) => (row.name ? [row.name] : []));
  const held = new Set(await ctx.names.reserveMany(tenantId, names));
  const taken: PendingRow[] = [];
  for (const row of rows) {
    if (!row.name || !held.has(row.name.userPrincipalName)) continue;
    // Held by a name row whose user never came to exist (a create that died): take it over.
    if (!(await claimNameHeldByNobody(ctx, tenantId, row.name.userPrincipalName, row.name.id)))
      taken.push(row);
  }
  return taken;
}

/**
 * Applies buffered memberships: the group-side lists in bulk, then each member's own row (read, add the groups,
 * write back with its ETag).
 */
async function applyMemberships(
  ctx: AppContext,
  tenantId: string,
  membersByGroup: ReadonlyMap<string, MemberRef[]>,
  memberOfByPrincipal: ReadonlyMap<string, MemberOfEntry[]>,
  kinds: Map<string, MemberKind>,
  unresolved: Set<string>,
): Promise<void> {
  if (membersByGroup.size === 0) return;
  // Members whose kind is unknown (created before this import) are resolved now.
  const toResolve = [...unresolved].filter((id) => memberOfByPrincipal.has(id));
  if (toResolve.length > 0) {
    const found = await ctx.directory.principals(tenantId, toResolve);
    for (const id of toResolve) {
      const principal = found.get(id);
      if (principal) kinds.set(id, principal.kind);
      else if (await ctx.directory.group(tenantId, id)) kinds.set(id, 'group');
      else kinds.delete(id);
      unresolved.delete(id);
    }
  }
  for (const [groupId, refs] of membersByGroup) {
    const known = refs.filter((r) => kinds.has(r.id)).map((r) => ({ ...r, kind: kinds.get(r.id) ?? r.kind }));
    if (known.length > 0) await ctx.members.apply(tenantId, groupId, known, []);
  }
  const principalIds = [...memberOfByPrincipal.keys()].filter(
    (id) => kinds.get(id) === 'user' || kinds.get(id) === 'device',
  );
  const nestedGroupIds = [...memberOfByPrincipal.keys()].filter((id) => kinds.get(id) === 'group');
  const byShard = new Map<number, string[]>();
  for (const id of principalIds) {
    const shard = shardOf(id);
    byShard.set(shard, [...(byShard.get(shard) ?? []), id]);
  }
  for (const [shard, ids] of byShard) {
    // Many members of one shard: one range read of it beats a point read each.
    const preloaded =
      ids.length > 20
        ? await ctx.directory.principalShards(tenantId, shard, shard + 1, new Set(ids))
        : undefined;
    await updatePrincipals(ctx, tenantId, ids, {
      reservationId: randomUUID(),
      ...(preloaded ? { preloaded } : {}),
      mutate: (record) => {
        const additions = (memberOfByPrincipal.get(record.id) ?? []).filter(
          (m) => !record.memberOf.some((e) => e.groupId === m.groupId),
        );
        return additions.length === 0 ? record : { ...record, memberOf: [...record.memberOf, ...additions] };
      },
    });
  }
  for (const id of nestedGroupIds) {
    const group = await ctx.directory.group(tenantId, id);
    if (!group) continue;
    const additions = (memberOfByPrincipal.get(id) ?? []).filter(
      (m) => !group.memberOf.some((e) => e.groupId === m.groupId),
    );
    if (additions.length === 0) continue;
    await ctx.directory.replaceGroup({ ...group, memberOf: [...group.memberOf, ...additions] });
  }
}
