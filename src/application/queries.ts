import { shardOf } from '../storage/keys.js';
import type { AppContext } from './context.js';
import { readsDensely } from './group-licensing.js';
import type {
  AuditCondition,
  DeviceCondition,
  GroupCondition,
  MemberPosition,
  Page,
  PageRequest,
  UserQuery,
  WaitingPrincipal,
} from './ports.js';
import type {
  GroupLicenseRecord,
  GroupRecord,
  MemberRef,
  MembershipRuleRecord,
  PrincipalRecord,
} from './records.js';

export type {
  AuditCondition,
  DeviceCondition,
  GroupCondition,
  Page,
  PageRequest,
  TextCondition,
  UserCondition,
  UserQuery,
} from './ports.js';

/* The directory's listings and reads, as the Graph collections offer them (api.md). */

export function listUsers(ctx: AppContext, tenantId: string, query: UserQuery, page: PageRequest) {
  return ctx.queries.users(tenantId, query, page);
}

export function countUsers(ctx: AppContext, tenantId: string, query: UserQuery) {
  return ctx.queries.countUsers(tenantId, query);
}

export function listDevices(
  ctx: AppContext,
  tenantId: string,
  conditions: readonly DeviceCondition[],
  page: PageRequest,
) {
  return ctx.queries.devices(tenantId, conditions, page);
}

export function countDevices(ctx: AppContext, tenantId: string, conditions: readonly DeviceCondition[]) {
  return ctx.queries.countDevices(tenantId, conditions);
}

export function listGroups(
  ctx: AppContext,
  tenantId: string,
  conditions: readonly GroupCondition[],
  page: PageRequest,
) {
  return ctx.queries.groups(tenantId, conditions, page);
}

export function countGroups(ctx: AppContext, tenantId: string, conditions: readonly GroupCondition[]) {
  return ctx.queries.countGroups(tenantId, conditions);
}

export function listAudits(
  ctx: AppContext,
  tenantId: string,
  conditions: readonly AuditCondition[],
  page: PageRequest,
) {
  return ctx.queries.audits(tenantId, conditions, page);
}

/** A member of a group as listed: a nested group, or a user or device. */
export type DirectoryObject =
  | { readonly kind: 'group'; readonly group: GroupRecord }
  | { readonly kind: 'user' | 'device'; readonly principal: PrincipalRecord };

/** Each group's license assignment and processing state, by group id. */
/** What the tenant's control partition says of its groups: license assignments and dynamic membership rules. */
export interface GroupControls {
  readonly licenses: ReadonlyMap<string, GroupLicenseRecord>;
  readonly rules: ReadonlyMap<string, MembershipRuleRecord>;
}

export async function groupControlsOf(ctx: AppContext, tenantId: string): Promise<GroupControls> {
  const partition = await ctx.tenants.partition(tenantId);
  return { licenses: partition?.groupLicenses ?? new Map(), rules: partition?.membershipRules ?? new Map() };
}

/** The group licenses that carry every one of these SKUs (`assignedLicenses/any(x:x/skuId eq …)`, joined by `and`). */
export function groupLicensesWith(
  licensed: ReadonlyMap<string, GroupLicenseRecord>,
  skuIds: readonly string[],
): Map<string, GroupLicenseRecord> {
  return new Map(
    [...licensed].filter(([, record]) => skuIds.every((sku) => record.licenses.some((l) => l.skuId === sku))),
  );
}

/**
 * Groups carrying a license that meet the conditions, by id. The license rows are in the tenant's control partition,
 * so the groups are found from there rather than by scanning the directory; `licensed` is the tenant's group
 * licenses as the caller read them (groupControlsOf), perhaps narrowed (groupLicensesWith).
 */
export async function licensedGroups(
  ctx: Pick<AppContext, 'directory'>,
  tenantId: string,
  conditions: readonly GroupCondition[],
  licensed: ReadonlyMap<string, GroupLicenseRecord>,
): Promise<GroupRecord[]> {
  return groupsMeeting(ctx, tenantId, [...licensed.keys()].sort(), conditions);
}

/**
 * Groups with a license assignment some member is in error for (`hasMembersWithLicenseErrors eq true`) that meet
 * the conditions, by id. Few groups carry licenses, so they are found from the bookkeeping and narrowed here;
 * `licensed` is the tenant's group licenses as the caller already read them (groupControlsOf).
 */
export async function groupsWithLicenseErrors(
  ctx: Pick<AppContext, 'licensing' | 'directory'>,
  tenantId: string,
  conditions: readonly GroupCondition[],
  licensed: ReadonlyMap<string, GroupLicenseRecord>,
): Promise<GroupRecord[]> {
  const ids = [...(await ctx.licensing.groupsWithErrors(tenantId, licensed.keys()))].sort();
  return groupsMeeting(ctx, tenantId, ids, conditions);
}

/** The groups of these ids that exist and meet the conditions, in the order given. */
async function groupsMeeting(
  ctx: Pick<AppContext, 'directory'>,
  tenantId: string,
  ids: readonly string[],
  conditions: readonly GroupCondition[],
): Promise<GroupRecord[]> {
  const groups = await Promise.all(ids.map((id) => ctx.directory.group(tenantId, id)));
  return groups.filter(
    (group): group is GroupRecord =>
      group !== undefined && conditions.every((condition) => groupMeets(group, condition)),
  );
}

/** Whether a group meets a listing condition, compared as the listings compare (names ignore case). */
function groupMeets(group: GroupRecord, condition: GroupCondition): boolean {
  if (condition.property === 'securityEnabled') return group.securityEnabled === condition.equals;
  if (condition.property === 'mailEnabled') return group.mailEnabled === condition.equals;
  const name = group.displayName.toLowerCase();
  return 'equals' in condition
    ? name === condition.equals.toLowerCase()
    : name.startsWith(condition.startsWith.toLowerCase());
}

/** Where a member listing resumes: after this member; `dense` as the first page decided it for the group. */
interface MembersPosition extends MemberPosition {
  readonly dense: boolean;
}

function membersPosition(continuation: string | undefined): MembersPosition | undefined {
  if (!continuation) return undefined;
  try {
    const parsed: unknown = JSON.parse(continuation);
    if (
      typeof parsed === 'object' &&
      parsed !== null &&
      's' in parsed &&
      'i' in parsed &&
      'd' in parsed &&
      typeof parsed.s === 'number' &&
      typeof parsed.i === 'string' &&
      typeof parsed.d === 'boolean'
    )
      return { shard: parsed.s, id: parsed.i, dense: parsed.d };
  } catch {
    // falls through: the listing starts again
  }
  return undefined;
}

/**
 * One page of a group's direct members (`GET /groups/{id}/members`), in the member list's stable order (principal
 * shard, then id). The continuation is the last member listed, so a page reads only its own stretch of the member
 * list, and its principals the way the group's job pages read them: a range read of the page's shards when the group
 * is a good part of its tenant (`readsDensely`, decided once on the first page), point reads otherwise. A page costs
 * what it holds, not the group (issue 21). Soft-deleted users and gone objects are left out, so a page may hold
 * fewer than `top`.
 */
export async function listGroupMembers(
  ctx: Pick<AppContext, 'members' | 'directory'>,
  tenantId: string,
  groupId: string,
  page: PageRequest,
): Promise<Page<DirectoryObject>> {
  const position = membersPosition(page.continuation);
  const dense = position
    ? position.dense
    : await readsDensely(ctx, tenantId, await ctx.members.count(tenantId, groupId));
  const listed = await ctx.members.listPage(tenantId, groupId, page.top, position);
  const items = await directoryObjects(ctx, tenantId, listed.refs, dense);
  return listed.next
    ? { items, continuation: JSON.stringify({ s: listed.next.shard, i: listed.next.id, d: dense }) }
    : { items };
}

/**
 * The objects some member references name, in their order; gone ones and soft-deleted users are left out. `dense`:
 * the users and devices are read with one range read of the shards they span (see listGroupMembers).
 */
export async function directoryObjects(
  ctx: Pick<AppContext, 'directory'>,
  tenantId: string,
  refs: readonly MemberRef[],
  dense = false,
): Promise<DirectoryObject[]> {
  const ids = refs.filter((r) => r.kind !== 'group').map((r) => r.id);
  const shards = ids.map(shardOf);
  const principals =
    dense && ids.length > 0
      ? await ctx.directory.principalShards(
          tenantId,
          Math.min(...shards),
          Math.max(...shards) + 1,
          new Set(ids),
        )
      : await ctx.directory.principals(tenantId, ids);
  const objects: DirectoryObject[] = [];
  for (const ref of refs) {
    if (ref.kind === 'group') {
      const group = await ctx.directory.group(tenantId, ref.id);
      if (group) objects.push({ kind: 'group', group });
    } else {
      const principal = principals.get(ref.id);
      // Soft-deleted users leave their groups' listings (they come back on restore).
      if (principal && principal.deletedDateTime === null) objects.push({ kind: principal.kind, principal });
    }
  }
  return objects;
}

/**
 * One page of a group's members in error for its licenses (`membersWithLicenseErrors`): their rows come straight
 * from the paged query over the principal tables, so a page reads its own rows, not every member in error.
 */
export function listMembersInLicenseError(
  ctx: Pick<AppContext, 'licensing'>,
  tenantId: string,
  groupId: string,
  page: PageRequest,
): Promise<Page<PrincipalRecord>> {
  return ctx.licensing.principalsInErrorPage(tenantId, groupId, page);
}

/** Users and devices by id, in the order asked; ids that name nothing are left out. */
export async function principalsById(
  ctx: AppContext,
  tenantId: string,
  ids: readonly string[],
): Promise<PrincipalRecord[]> {
  const found = await ctx.directory.principals(tenantId, ids);
  return ids.map((id) => found.get(id)).filter((p) => p !== undefined);
}

/**
 * Everyone waiting for a seat of the SKU, first come first served (the order healing gives seats in); undefined when
 * the tenant has no subscription of it.
 */
export async function waitingRoom(
  ctx: Pick<AppContext, 'tenants' | 'licensing'>,
  tenantId: string,
  skuId: string,
): Promise<WaitingPrincipal[] | undefined> {
  const partition = await ctx.tenants.partition(tenantId);
  if (!partition?.subscriptions.has(skuId)) return undefined;
  return ctx.licensing.waiters(tenantId, skuId);
}

/** Waiters with the principal each one is, in their order; gone and soft-deleted principals are left out. */
export async function waitersWithPrincipals<W extends WaitingPrincipal>(
  ctx: Pick<AppContext, 'directory'>,
  tenantId: string,
  waiters: readonly W[],
): Promise<{ waiter: W; principal: PrincipalRecord }[]> {
  const found = await ctx.directory.principals(
    tenantId,
    waiters.map((w) => w.principalId),
  );
  return waiters.flatMap((waiter) => {
    const principal = found.get(waiter.principalId);
    return principal && principal.deletedDateTime === null ? [{ waiter, principal }] : [];
  });
}
