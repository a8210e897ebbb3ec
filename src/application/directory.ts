import { randomUUID } from 'node:crypto';
import type { GroupRecord } from '../storage/group-records.js';
import { bucketOf, type MemberKind } from '../storage/members.js';
import { retryOnConflict } from '../storage/optimistic.js';
import { isConflict } from '../storage/properties.js';
import { applyChanges } from './changes.js';
import { type AppContext, faultPoint } from './context.js';
import { checkRule, followRules, isDynamic, type RuleRequest, ruleOf, saveRule } from './dynamic-groups.js';
import { NotFoundError, RefusedError } from './errors.js';
import { healReleased } from './healing.js';
import type { ChangesMessage } from './messages.js';
import { releaseName, reserveName, resolveUserPrincipalName } from './names.js';
import { outboxEntry, recordOutbox, relayOutbox } from './outbox.js';
import { updatePrincipals } from './principal-updates.js';
import { registerProxyAddresses } from './proxy-addresses.js';
import type { DeviceProperties, PrincipalRecord, Profile } from './records.js';

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

export interface NewGroup extends RuleRequest {
  readonly id?: string;
  readonly displayName: string;
  readonly mailNickname: string;
  readonly securityEnabled: boolean;
  readonly mailEnabled: boolean;
  readonly groupTypes?: readonly string[];
  readonly description?: string | null;
  readonly createdDateTime?: string;
  /** Users, devices or groups to add once the group exists (Graph's `members@odata.bind`). */
  readonly members?: readonly string[];
}

/** `PATCH /groups/{id}`: what may change of a group. */
export interface GroupPatch extends RuleRequest {
  readonly displayName?: string;
  readonly description?: string | null;
  readonly mailNickname?: string;
  readonly groupTypes?: readonly string[];
}

export interface NewDevice {
  readonly id?: string;
  readonly displayName: string;
  readonly accountEnabled: boolean;
  readonly device: DeviceProperties;
  readonly profile?: Profile;
  readonly createdDateTime?: string;
}

async function requireTenant(ctx: AppContext, tenantId: string): Promise<void> {
  if (!(await ctx.tenants.read(tenantId))) throw new NotFoundError(tenantId);
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
    return await followRules(ctx, tenantId, [record.id], async () => {
      const created = await ctx.directory.createPrincipal(record);
      return (await registerProxyAddresses(ctx, tenantId, created, [])) ?? created;
    });
  } catch (error: unknown) {
    await releaseName(ctx, tenantId, record.userPrincipalName ?? '');
    if (isConflict(error)) throw new RefusedError({ code: 'ObjectIdTaken', id: record.id });
    throw error;
  }
}

export async function getPrincipal(
  ctx: AppContext,
  tenantId: string,
  id: string,
  kind: 'user' | 'device',
  options: { includeDeleted?: boolean } = {},
): Promise<PrincipalRecord> {
  const record = await ctx.directory.principal(tenantId, id);
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
  const write = () =>
    updatePrincipals(ctx, tenantId, [id], {
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
  const result = await followRules(ctx, tenantId, [id], write);
  await healReleased(ctx, tenantId, result.released);
  let updated = result.records.get(id) ?? before;
  if (patch.proxyAddresses !== undefined) {
    updated = (await registerProxyAddresses(ctx, tenantId, updated, before.proxyAddresses)) ?? updated;
  }
  return updated;
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
  // A refused request creates nothing: the rule is checked and every member found before the group is written.
  const rule = checkRule(group, undefined, input);
  const members = [...new Set(input.members ?? [])];
  if (rule && members.length > 0)
    throw new RefusedError({ code: 'DynamicMembershipManaged', groupId: group.id });
  for (const memberId of members)
    if (!(await kindOf(ctx, tenantId, memberId))) throw new NotFoundError(memberId);
  let created: GroupRecord;
  try {
    created = await ctx.directory.createGroup(group);
  } catch (error: unknown) {
    if (isConflict(error)) throw new RefusedError({ code: 'ObjectIdTaken', id: group.id });
    throw error;
  }
  if (rule) await saveRule(ctx, tenantId, created, rule);
  for (const memberId of members) await addMember(ctx, tenantId, created.id, memberId);
  return created;
}

/**
 * `PATCH /groups/{id}`. Turning a static group dynamic keeps the members that match its rule and removes the
 * others (Entra removes them all first, then adds back those that match; keeping them means no license drops and
 * comes back); turning a dynamic group static keeps its members, to be managed by hand from then on.
 */
export async function updateGroup(
  ctx: AppContext,
  tenantId: string,
  id: string,
  patch: GroupPatch,
): Promise<GroupRecord> {
  const before = await getGroup(ctx, tenantId, id);
  const groupTypes = patch.groupTypes ?? before.groupTypes;
  const rule = checkRule({ ...before, groupTypes }, await ruleOf(ctx, tenantId, before.id), patch);
  const updated = await retryOnConflict(`group ${before.id}`, async () => {
    const current = await getGroup(ctx, tenantId, before.id);
    const next: GroupRecord = {
      ...current,
      ...(patch.displayName === undefined ? {} : { displayName: patch.displayName }),
      ...(patch.description === undefined ? {} : { description: patch.description }),
      ...(patch.mailNickname === undefined ? {} : { mailNickname: patch.mailNickname }),
      groupTypes,
    };
    const unchanged =
      next.displayName === current.displayName &&
      next.description === current.description &&
      next.mailNickname === current.mailNickname &&
      next.groupTypes.join() === current.groupTypes.join();
    return unchanged ? current : ctx.directory.replaceGroup(next);
  });
  await saveRule(ctx, tenantId, updated, rule);
  return updated;
}

export async function getGroup(
  ctx: Pick<AppContext, 'directory'>,
  tenantId: string,
  id: string,
): Promise<GroupRecord> {
  const group = await ctx.directory.group(tenantId, id.toLowerCase());
  if (!group) throw new NotFoundError(id);
  return group;
}

/** A group that carries licenses cannot be deleted until they are removed (rules.md §2). */
export async function deleteGroup(ctx: AppContext, tenantId: string, id: string): Promise<void> {
  const group = await getGroup(ctx, tenantId, id);
  const partition = await ctx.tenants.partition(tenantId);
  const licensing = partition?.groupLicenses.get(group.id);
  if (licensing && licensing.licenses.length > 0) {
    throw new RefusedError({ code: 'GroupHasLicenses', groupId: group.id });
  }
  // The rule goes first, so no evaluation under way adds members to a group being deleted.
  await saveRule(ctx, tenantId, group, null);
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
  await ctx.directory.deleteGroup(group);
  if (licensing) await ctx.tenants.deleteGroupLicense(tenantId, group.id);
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
    return await followRules(ctx, tenantId, [record.id], () => ctx.directory.createPrincipal(record));
  } catch (error: unknown) {
    if (isConflict(error)) throw new RefusedError({ code: 'ObjectIdTaken', id: record.id });
    throw error;
  }
}

/** The kind of a directory object of the tenant, or undefined when there is none with this id. */
export async function kindOf(ctx: AppContext, tenantId: string, id: string): Promise<MemberKind | undefined> {
  const principal = await ctx.directory.principal(tenantId, id);
  if (principal) return principal.deletedDateTime === null ? principal.kind : undefined;
  return (await ctx.directory.group(tenantId, id)) ? 'group' : undefined;
}

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
  if (isDynamic(group)) throw new RefusedError({ code: 'DynamicMembershipManaged', groupId: group.id });
  const kind = await kindOf(ctx, tenantId, memberId);
  if (!kind) throw new NotFoundError(memberId);
  if (memberId === group.id) throw new RefusedError({ code: 'GroupMemberOfItself', groupId: group.id });
  if (await ctx.members.has(tenantId, group.id, memberId))
    throw new RefusedError({ code: 'AlreadyMember', groupId: group.id, memberId });
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
  if (isDynamic(group)) throw new RefusedError({ code: 'DynamicMembershipManaged', groupId: group.id });
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
