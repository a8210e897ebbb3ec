import type { Catalog } from './catalog.js';
import type {
  GroupLicenseAssignment,
  Guid,
  IsoTime,
  LicenseChoice,
  LicenseSource,
  PrincipalKind,
} from './model.js';

/** A membership edge as seen from the member: the group it is in, and since when. */
export interface MembershipEdge {
  readonly groupId: Guid;
  readonly joinedAt: IsoTime;
}

/** What source derivation needs to know about a group. */
export interface GroupLicensing {
  readonly id: Guid;
  readonly licenses: readonly GroupLicenseAssignment[];
  /** When the group first carried licenses (a source reaches a member no earlier than this). */
  readonly licensedSince: IsoTime | null;
  /** The groups this group is a direct member of (for device SKUs, which follow nesting). */
  readonly memberOf: readonly MembershipEdge[];
}

export type GroupLookup = (groupId: Guid) => GroupLicensing | undefined;

export interface DirectLicense extends LicenseChoice {
  readonly since: IsoTime;
}

/**
 * The sources of one principal (rules.md §2): its direct licenses, and for every group that carries licenses of
 * its kind — users: the groups it is a direct member of; devices: those groups and every group they are nested
 * in, transitively — one source with all of that group's SKUs for its kind.
 */
export function deriveSources(
  catalog: Catalog,
  kind: PrincipalKind,
  directLicenses: readonly DirectLicense[],
  memberOf: readonly MembershipEdge[],
  lookupGroup: GroupLookup,
): LicenseSource[] {
  const sources: LicenseSource[] = [];
  if (kind === 'user') {
    for (const direct of directLicenses) {
      sources.push({
        groupId: null,
        since: direct.since,
        licenses: [{ skuId: direct.skuId, disabledPlans: direct.disabledPlans }],
      });
    }
  }
  const reach = kind === 'user' ? directReach(memberOf) : nestedReach(memberOf, lookupGroup);
  for (const [groupId, reachedAt] of reach) {
    const group = lookupGroup(groupId);
    if (!group || group.licensedSince === null) continue;
    const licenses = group.licenses.filter((l) => catalog.sku(l.skuId)?.assignableTo === kind);
    if (licenses.length === 0) continue;
    sources.push({
      groupId,
      since: later(group.licensedSince, reachedAt),
      licenses: licenses.map((l) => ({ skuId: l.skuId, disabledPlans: l.disabledPlans })),
    });
  }
  return sources;
}

function directReach(memberOf: readonly MembershipEdge[]): Map<Guid, IsoTime> {
  const reach = new Map<Guid, IsoTime>();
  for (const edge of memberOf) {
    const known = reach.get(edge.groupId);
    if (known === undefined || edge.joinedAt < known) reach.set(edge.groupId, edge.joinedAt);
  }
  return reach;
}

/**
 * For each group a device is under (directly or through nesting), the earliest time it has been continuously
 * under it: over all paths, the latest join along the path, minimised. Cycles are harmless because a group is
 * only revisited when it is reached earlier than before.
 */
function nestedReach(memberOf: readonly MembershipEdge[], lookupGroup: GroupLookup): Map<Guid, IsoTime> {
  const reach = directReach(memberOf);
  const pending = [...reach.keys()];
  while (pending.length > 0) {
    const groupId = pending.pop();
    if (groupId === undefined) break;
    const reachedAt = reach.get(groupId);
    const group = lookupGroup(groupId);
    if (reachedAt === undefined || !group) continue;
    for (const parent of group.memberOf) {
      const viaHere = later(reachedAt, parent.joinedAt);
      const known = reach.get(parent.groupId);
      if (known === undefined || viaHere < known) {
        reach.set(parent.groupId, viaHere);
        pending.push(parent.groupId);
      }
    }
  }
  return reach;
}

function later(a: IsoTime, b: IsoTime): IsoTime {
  return a > b ? a : b;
}
