import { randomUUID } from 'node:crypto';
import { nameReservationTimeoutMs } from '../config/settings.js';
import { encodeGroup, type GroupRecord, readGroup } from '../storage/group-records.js';
import { userNameKey } from '../storage/keys.js';
import { bucketOf, type MemberKind } from '../storage/members.js';
import { readPrincipal } from '../storage/principal-reads.js';
import {
  type DeviceProperties,
  encodePrincipal,
  type PrincipalRecord,
  type Profile,
} from '../storage/principal-records.js';
import { getRow, getString, isConflict } from '../storage/properties.js';
import { readTenant, readTenantPartition } from '../storage/tenant-records.js';
import { applyChanges } from './changes.js';
import { type AppContext, faultPoint } from './context.js';
import { ConflictError, InvalidRequestError, NotFoundError } from './errors.js';
import { type ChangesMessage, healRequest } from './messages.js';
import { outboxEntry, recordOutbox, relayOutbox } from './outbox.js';
import { updatePrincipals } from './principal-updates.js';

export interface NewUser {
  readonly id?: string;
  readonly userPrincipalName: string;
  readonly displayName: string;
  readonly mailNickname: string;
  readonly accountEnabled: boolean;
  readonly usageLocation?: string | null;
  readonly proxyAddresses?: readonly string[];
  readonly department?: string | null;
  readonly profile?: Profile;
  readonly createdDateTime?: string;
}

export interface UserPatch {
  readonly userPrincipalName?: string;
  readonly displayName?: string;
  readonly mailNickname?: string;
  readonly accountEnabled?: boolean;
  readonly usageLocation?: string | null;
  readonly proxyAddresses?: readonly string[];
  readonly department?: string | null;
  readonly profile?: Profile;
}

export interface NewGroup {
  readonly id?: string;
  readonly displayName: string;
  readonly mailNickname: string;
  readonly securityEnabled: boolean;
  readonly mailEnabled: boolean;
  readonly groupTypes?: readonly string[];
  readonly description?: string | null;
  readonly createdDateTime?: string;
}

export interface NewDevice {
  readonly id?: string;
  readonly displayName: string;
  readonly accountEnabled: boolean;
  readonly device: DeviceProperties;
  readonly profile?: Profile;
  readonly createdDateTime?: string;
}

export const UPN_TAKEN = 'Another object with the same value for property userPrincipalName already exists.';

async function requireTenant(ctx: AppContext, tenantId: string): Promise<void> {
  if (!(await readTenant(ctx.tables, tenantId))) throw new NotFoundError(tenantId);
}

/** Reserves a user principal name for an id; the names table makes it unique per tenant. */
export async function reserveName(ctx: AppContext, tenantId: string, upn: string, id: string): Promise<void> {
  const key = userNameKey(tenantId, upn);
  const table = ctx.tables.namesFor(key.partitionKey);
  try {
    await table.createEntity({ ...key, id });
  } catch (error: unknown) {
    if (!isConflict(error)) throw error;
    if (!(await claimNameHeldByNobody(ctx, tenantId, key, id))) throw new ConflictError(UPN_TAKEN);
  }
}

/**
 * Whether `id` holds a name that was found taken: already its own, or a stale reservation taken over. A name is
 * written before its user (different partitions, so no transaction holds both); a request that dies between the
 * two — a crash, a killed store — leaves the name pointing at a user that does not exist, and its retry would be
 * refused for ever. No request writes after the host's function timeout, so a name older than that whose user does
 * not exist is free: it is taken over with its ETag (one taker wins).
 */
export async function claimNameHeldByNobody(
  ctx: AppContext,
  tenantId: string,
  key: { readonly partitionKey: string; readonly rowKey: string },
  id: string,
): Promise<boolean> {
  const table = ctx.tables.namesFor(key.partitionKey);
  const row = await getRow(table, key.partitionKey, key.rowKey);
  if (!row) return false;
  const holder = getString(row, 'id');
  if (holder === id) return true;
  const reservedAt = Date.parse(getString(row, 'timestamp') ?? '');
  if (!Number.isFinite(reservedAt) || ctx.now().getTime() - reservedAt < nameReservationTimeoutMs())
    return false;
  if (holder !== undefined && (await readPrincipal(ctx.tables, tenantId, holder))) return false;
  try {
    await table.updateEntity({ ...key, id }, 'Replace', { etag: row.etag ?? '' });
    return true;
  } catch (error: unknown) {
    if (isConflict(error)) return false;
    throw error;
  }
}

export async function releaseName(ctx: AppContext, tenantId: string, upn: string): Promise<void> {
  const key = userNameKey(tenantId, upn);
  await ctx.tables
    .namesFor(key.partitionKey)
    .deleteEntity(key.partitionKey, key.rowKey)
    .catch(() => undefined);
}

/** The id a user principal name belongs to, if any. */
export async function resolveUserPrincipalName(
  ctx: AppContext,
  tenantId: string,
  upn: string,
): Promise<string | undefined> {
  const key = userNameKey(tenantId, upn);
  const row = await getRow(ctx.tables.namesFor(key.partitionKey), key.partitionKey, key.rowKey);
  return row ? getString(row, 'id') : undefined;
}

export function newUserRecord(tenantId: string, input: NewUser, now: string): PrincipalRecord {
  return {
    tenantId,
    id: input.id ?? randomUUID(),
    kind: 'user',
    displayName: input.displayName,
    userPrincipalName: input.userPrincipalName,
    mailNickname: input.mailNickname,
    usageLocation: input.usageLocation ? input.usageLocation.toUpperCase() : null,
    proxyAddresses: input.proxyAddresses ?? [],
    accountEnabled: input.accountEnabled,
    department: input.department ?? null,
    device: null,
    profile: input.profile ?? {},
    createdDateTime: input.createdDateTime ?? now,
    deletedDateTime: null,
    directLicenses: [],
    memberOf: [],
    removedMemberships: [],
    entries: [],
    mailboxActive: false,
    sharedProxy: false,
  };
}

export async function createUser(
  ctx: AppContext,
  tenantId: string,
  input: NewUser,
): Promise<PrincipalRecord> {
  await requireTenant(ctx, tenantId);
  const record = newUserRecord(tenantId, input, ctx.now().toISOString());
  await reserveName(ctx, tenantId, record.userPrincipalName ?? '', record.id);
  try {
    const entity = encodePrincipal(ctx.catalog, record);
    const response = await ctx.tables.principalsFor(entity.partitionKey).createEntity(entity);
    const created = { ...record, etag: response.etag };
    return (await registerProxyAddresses(ctx, tenantId, created, [])) ?? created;
  } catch (error: unknown) {
    await releaseName(ctx, tenantId, record.userPrincipalName ?? '');
    if (isConflict(error)) throw new ConflictError(`Another object with id ${record.id} already exists.`);
    throw error;
  }
}

/**
 * Records a user's proxy addresses and flags every user that now shares one with someone else (or no longer
 * does): only flagged users are checked for uniqueness when their licenses are evaluated.
 */
export async function registerProxyAddresses(
  ctx: AppContext,
  tenantId: string,
  user: PrincipalRecord,
  previous: readonly string[],
): Promise<PrincipalRecord | undefined> {
  const current = user.proxyAddresses;
  if (previous.length === 0 && current.length === 0) return undefined;
  const sharing = await ctx.proxies.register(tenantId, user.id, previous, current);
  const affected = new Set<string>([user.id]);
  for (const users of sharing.values()) for (const u of users) affected.add(u);
  const currentLower = new Set(current.map((a) => a.toLowerCase()));
  let updated: PrincipalRecord | undefined;
  for (const id of affected) {
    const shares = await sharesAnAddress(ctx, tenantId, id, id === user.id ? [...currentLower] : undefined);
    // Most users share nothing and already say so: no write. Others are re-evaluated with the new flag (and
    // the new owners of an address may now get a mailbox).
    if (id === user.id && shares === user.sharedProxy && users(sharing).size <= 1 && previous.length === 0)
      continue;
    const result = await updatePrincipals(ctx, tenantId, [id], {
      reservationId: randomUUID(),
      mutate: (record) => (record.sharedProxy === shares ? record : { ...record, sharedProxy: shares }),
    });
    if (id === user.id) updated = result.records.get(id);
  }
  return updated;
}

function users(sharing: ReadonlyMap<string, readonly string[]>): Set<string> {
  const all = new Set<string>();
  for (const list of sharing.values()) for (const u of list) all.add(u);
  return all;
}

async function sharesAnAddress(
  ctx: AppContext,
  tenantId: string,
  userId: string,
  addresses?: string[],
): Promise<boolean> {
  const list = addresses ?? (await readPrincipal(ctx.tables, tenantId, userId))?.proxyAddresses ?? [];
  for (const address of list) {
    const row = await ctx.proxies.read(tenantId, address);
    if (row.users.some((u) => u !== userId)) return true;
  }
  return false;
}

export async function getPrincipal(
  ctx: AppContext,
  tenantId: string,
  id: string,
  kind: 'user' | 'device',
  options: { includeDeleted?: boolean } = {},
): Promise<PrincipalRecord> {
  const record = await readPrincipal(ctx.tables, tenantId, id);
  if (!record || record.kind !== kind || (record.deletedDateTime !== null && !options.includeDeleted)) {
    throw new NotFoundError(id);
  }
  return record;
}

/** A user by id or by user principal name (Graph accepts both in `/users/{id | userPrincipalName}`). */
export async function findUser(ctx: AppContext, tenantId: string, idOrUpn: string): Promise<PrincipalRecord> {
  const id = idOrUpn.includes('@')
    ? await resolveUserPrincipalName(ctx, tenantId, idOrUpn)
    : idOrUpn.toLowerCase();
  if (!id) throw new NotFoundError(idOrUpn);
  return getPrincipal(ctx, tenantId, id, 'user');
}

export async function updateUser(
  ctx: AppContext,
  tenantId: string,
  id: string,
  patch: UserPatch,
): Promise<PrincipalRecord> {
  const before = await getPrincipal(ctx, tenantId, id, 'user');
  if (
    patch.userPrincipalName !== undefined &&
    patch.userPrincipalName.toLowerCase() !== before.userPrincipalName?.toLowerCase()
  ) {
    await reserveName(ctx, tenantId, patch.userPrincipalName, id);
    if (before.userPrincipalName) await releaseName(ctx, tenantId, before.userPrincipalName);
  }
  const result = await updatePrincipals(ctx, tenantId, [id], {
    reservationId: randomUUID(),
    mutate: (record) => ({
      ...record,
      ...(patch.userPrincipalName === undefined ? {} : { userPrincipalName: patch.userPrincipalName }),
      ...(patch.displayName === undefined ? {} : { displayName: patch.displayName }),
      ...(patch.mailNickname === undefined ? {} : { mailNickname: patch.mailNickname }),
      ...(patch.accountEnabled === undefined ? {} : { accountEnabled: patch.accountEnabled }),
      ...(patch.usageLocation === undefined
        ? {}
        : { usageLocation: patch.usageLocation === null ? null : patch.usageLocation.toUpperCase() }),
      ...(patch.proxyAddresses === undefined ? {} : { proxyAddresses: patch.proxyAddresses }),
      ...(patch.department === undefined ? {} : { department: patch.department }),
      ...(patch.profile === undefined ? {} : { profile: { ...record.profile, ...patch.profile } }),
    }),
  });
  await healReleased(ctx, tenantId, result.released);
  let updated = result.records.get(id) ?? before;
  if (patch.proxyAddresses !== undefined) {
    updated = (await registerProxyAddresses(ctx, tenantId, updated, before.proxyAddresses)) ?? updated;
  }
  return updated;
}

/** Seats came back: wake the waiting room for each SKU (healing decides whether anyone moves). */
export async function healReleased(
  ctx: AppContext,
  tenantId: string,
  released: Readonly<Record<string, number>>,
): Promise<void> {
  const skuIds = Object.entries(released)
    .filter(([, n]) => n > 0)
    .map(([skuId]) => skuId);
  if (skuIds.length === 0) return;
  await ctx.queues.sendAll(
    'heal',
    skuIds.map((skuId) => healRequest(tenantId, skuId, ctx.now())),
  );
}

export async function createGroup(ctx: AppContext, tenantId: string, input: NewGroup): Promise<GroupRecord> {
  await requireTenant(ctx, tenantId);
  const group: GroupRecord = {
    tenantId,
    id: input.id ?? randomUUID(),
    displayName: input.displayName,
    description: input.description ?? null,
    mailNickname: input.mailNickname,
    securityEnabled: input.securityEnabled,
    mailEnabled: input.mailEnabled,
    groupTypes: input.groupTypes ?? [],
    createdDateTime: input.createdDateTime ?? ctx.now().toISOString(),
    memberOf: [],
    removedMemberships: [],
  };
  try {
    const response = await ctx.tables.groups.createEntity(encodeGroup(group));
    return { ...group, etag: response.etag };
  } catch (error: unknown) {
    if (isConflict(error)) throw new ConflictError(`Another object with id ${group.id} already exists.`);
    throw error;
  }
}

export async function getGroup(ctx: AppContext, tenantId: string, id: string): Promise<GroupRecord> {
  const group = await readGroup(ctx.tables, tenantId, id.toLowerCase());
  if (!group) throw new NotFoundError(id);
  return group;
}

/** A group that carries licenses cannot be deleted until they are removed (rules.md §2). */
export async function deleteGroup(ctx: AppContext, tenantId: string, id: string): Promise<void> {
  const group = await getGroup(ctx, tenantId, id);
  const partition = await readTenantPartition(ctx.tables, tenantId);
  const licensing = partition?.groupLicenses.get(group.id);
  if (licensing && licensing.licenses.length > 0) {
    throw new InvalidRequestError(
      `Group ${group.id} cannot be deleted while it has licenses assigned. Remove its licenses with assignLicense first.`,
    );
  }
  const members = await ctx.members.listRange(tenantId, group.id);
  const changes = members.map((m) => ({
    type: 'member' as const,
    op: 'remove' as const,
    groupId: group.id,
    memberId: m.id,
    memberKind: m.kind,
  }));
  for (let i = 0; i < changes.length; i += 200) {
    await ctx.queues.send('changes', {
      kind: 'changes',
      tenantId,
      changes: changes.slice(i, i + 200),
      origin: 'api',
    });
  }
  for (const parent of group.memberOf) {
    await ctx.queues.send('changes', {
      kind: 'changes',
      tenantId,
      changes: [
        { type: 'member', op: 'remove', groupId: parent.groupId, memberId: group.id, memberKind: 'group' },
      ],
      origin: 'api',
    });
  }
  await ctx.tables.groups.deleteEntity(encodeGroup(group).partitionKey, group.id);
  if (licensing) await ctx.tables.tenants.deleteEntity(tenantId, `glic|${group.id}`).catch(() => undefined);
}

export async function createDevice(
  ctx: AppContext,
  tenantId: string,
  input: NewDevice,
): Promise<PrincipalRecord> {
  await requireTenant(ctx, tenantId);
  const record: PrincipalRecord = {
    tenantId,
    id: input.id ?? randomUUID(),
    kind: 'device',
    displayName: input.displayName,
    userPrincipalName: null,
    mailNickname: null,
    usageLocation: null,
    proxyAddresses: [],
    accountEnabled: input.accountEnabled,
    department: null,
    device: input.device,
    profile: input.profile ?? {},
    createdDateTime: input.createdDateTime ?? ctx.now().toISOString(),
    deletedDateTime: null,
    directLicenses: [],
    memberOf: [],
    removedMemberships: [],
    entries: [],
    mailboxActive: false,
    sharedProxy: false,
  };
  try {
    const entity = encodePrincipal(ctx.catalog, record);
    const response = await ctx.tables.principalsFor(entity.partitionKey).createEntity(entity);
    return { ...record, etag: response.etag };
  } catch (error: unknown) {
    if (isConflict(error)) throw new ConflictError(`Another object with id ${record.id} already exists.`);
    throw error;
  }
}

/** The kind of a directory object of the tenant, or undefined when there is none with this id. */
export async function kindOf(ctx: AppContext, tenantId: string, id: string): Promise<MemberKind | undefined> {
  const principal = await readPrincipal(ctx.tables, tenantId, id);
  if (principal) return principal.deletedDateTime === null ? principal.kind : undefined;
  return (await readGroup(ctx.tables, tenantId, id)) ? 'group' : undefined;
}

export const MEMBER_EXISTS =
  "One or more added object references already exist for the following modified properties: 'members'.";

/**
 * `POST /groups/{id}/members/$ref`. A user or device member is applied at once, in the request: its own record, the
 * group's member list and its licenses (`applyMembershipRequest`). Queued, an add and a later removal of the same
 * member could be applied in the other order (queue messages are not ordered, and API changes carry no sequence),
 * leaving the removed member in the group for good. A nested group goes through the changes queue (it may bring many
 * devices to evaluate); the change is queued before the list is touched, so a crash in between still converges.
 */
export async function addMember(
  ctx: AppContext,
  tenantId: string,
  groupId: string,
  memberId: string,
): Promise<void> {
  const group = await getGroup(ctx, tenantId, groupId);
  const kind = await kindOf(ctx, tenantId, memberId);
  if (!kind) throw new NotFoundError(memberId);
  if (memberId === group.id) throw new InvalidRequestError('A group cannot be a member of itself.');
  if (await ctx.members.has(tenantId, group.id, memberId)) throw new InvalidRequestError(MEMBER_EXISTS);
  const joinedAt = ctx.now().toISOString();
  const message = {
    kind: 'changes' as const,
    tenantId,
    changes: [
      {
        type: 'member' as const,
        op: 'add' as const,
        groupId: group.id,
        memberId,
        memberKind: kind,
        joinedAt,
      },
    ],
    origin: 'api' as const,
  };
  if (kind !== 'group') {
    await applyMembershipRequest(ctx, tenantId, message, group.id, memberId);
    return;
  }
  await ctx.queues.send('changes', message);
  await ctx.members.apply(tenantId, group.id, [{ id: memberId, kind, joinedAt }], []);
}

/** `DELETE /groups/{id}/members/{memberId}/$ref`: applied at once for users and devices, like `addMember`. */
export async function removeMember(
  ctx: AppContext,
  tenantId: string,
  groupId: string,
  memberId: string,
): Promise<void> {
  const group = await getGroup(ctx, tenantId, groupId);
  if (!(await ctx.members.has(tenantId, group.id, memberId))) throw new NotFoundError(memberId);
  const kind = await kindOf(ctx, tenantId, memberId);
  const message = {
    kind: 'changes' as const,
    tenantId,
    changes: [{ type: 'member' as const, op: 'remove' as const, groupId: group.id, memberId }],
    origin: 'api' as const,
  };
  if (kind === 'user' || kind === 'device') {
    await applyMembershipRequest(ctx, tenantId, message, group.id, memberId);
    return;
  }
  await ctx.queues.send('changes', message);
  await ctx.members.apply(tenantId, group.id, [], [memberId]);
}

/**
 * Applies a membership request in the request, crash-safe: the change is first recorded as an outbox row, and the
 * row goes once the member's row, the group's list and the wake-ups are all written. A request that dies part-way
 * (the list changed but not the member's row, or the reverse) leaves the row, and the sweep applies the change
 * again under the same seat reservation. One row per membership: a later request for the same membership replaces
 * an unfinished one, so the sweep never applies an older request over a newer one.
 */
async function applyMembershipRequest(
  ctx: AppContext,
  tenantId: string,
  message: ChangesMessage,
  groupId: string,
  memberId: string,
): Promise<void> {
  const run = randomUUID();
  const entry = await recordOutbox(
    ctx,
    tenantId,
    outboxEntry(ctx, { apply: { run, message } }, { id: `member.${groupId}.${memberId}` }),
  );
  faultPoint(ctx, 'outbox:committed');
  await applyChanges(ctx, message, run);
  await relayOutbox(ctx, tenantId, entry);
}

export { bucketOf };
