import type { Client } from '@microsoft/microsoft-graph-client';
import type { Catalog } from '../engine/index.js';
import type { Progress } from './progress.js';
import { Random } from './random.js';
import { type AdminClient, graphClient } from './service.js';
import type { SimState } from './state.js';

export interface ChurnOptions {
  readonly events: number;
  readonly seed: number;
  /** Share of notifications delivered twice. */
  readonly duplicates?: number;
  /** Share of notifications delivered out of order. */
  readonly reorder?: number;
  /** Notifications per webhook POST. */
  readonly batchSize?: number;
}

export interface ChurnSummary {
  readonly counts: Record<string, number>;
  readonly notificationsSent: number;
  readonly posts: number;
  readonly refused: Record<string, number>;
  readonly seconds: number;
}

type Notification = Record<string, unknown>;

/** Directory changes dominate, as in production; admin actions are the minority. */
const EVENTS = [
  ['join', 34],
  ['leave', 28],
  ['softDelete', 7],
  ['restore', 6],
  ['hardDelete', 2],
  ['purchase', 3],
  ['unassign', 2],
  ['assign', 2],
  ['usageLocation', 7],
  ['directAssign', 5],
  ['directRemove', 4],
] as const;
type EventKind = (typeof EVENTS)[number][0];
const TOTAL_WEIGHT = EVENTS.reduce((sum, [, w]) => sum + w, 0);

/**
 * Plays directory and admin churn against the service, the way it arrives in production: membership and lifecycle
 * changes as Graph change notifications to the webhook (with the tenant's clientState, in batches, optionally
 * duplicated and reordered — sequence numbers let the service restore the order), admin actions through the Graph
 * API. The record in `state` is updated with what the service must end up with; refused admin actions (a 400 for
 * a seat or a conflict) are not recorded, because the service changed nothing.
 */
export async function churn(
  admin: AdminClient,
  catalog: Catalog,
  state: SimState,
  options: ChurnOptions,
  progress: Progress,
): Promise<ChurnSummary> {
  const started = Date.now();
  const random = new Random(options.seed ^ (state.events * 2654435761));
  const graph = graphClient(admin.baseUrl, await admin.token(state.tenant.id));
  const counts: Record<string, number> = {};
  const refused: Record<string, number> = {};
  const batchSize = options.batchSize ?? 50;
  let pending: Notification[] = [];
  let notificationsSent = 0;
  let posts = 0;

  const flush = async () => {
    if (pending.length === 0) return;
    const batch = deliver(pending, random, options.duplicates ?? 0, options.reorder ?? 0);
    pending = [];
    const status = await admin.notify(batch);
    if (status !== 202)
      throw new Error(`the webhook answered ${status} to a batch of ${batch.length} notifications`);
    notificationsSent += batch.length;
    posts++;
  };
  const notify = async (notification: Notification) => {
    pending.push(notification);
    if (pending.length >= batchSize) await flush();
  };
  const sequence = () => state.sequence++;
  const base = () => ({
    subscriptionId: 'simulator',
    clientState: state.tenant.clientState,
    tenantId: state.tenant.id,
    subscriptionExpirationDateTime: new Date(Date.now() + 86_400_000).toISOString(),
  });

  const bar = progress.bar('Churning', options.events);
  for (let i = 0; i < options.events; i++) {
    const kind = pickEvent(random);
    const done = await play(kind);
    if (done) counts[kind] = (counts[kind] ?? 0) + 1;
    state.events++;
    bar.increment(1);
  }
  await flush();
  bar.stop();
  return { counts, notificationsSent, posts, refused, seconds: (Date.now() - started) / 1000 };

  async function play(kind: EventKind): Promise<boolean> {
    const now = new Date().toISOString();
    const activeUsers = () => Object.entries(state.users).filter(([, u]) => !u.deleted);
    switch (kind) {
      case 'join': {
        const users = activeUsers();
        const groups = Object.entries(state.groups).filter(([, g]) => g.kind !== 'devices');
        if (users.length === 0 || groups.length === 0) return false;
        const [userId] = random.pick(users);
        const [groupId] = random.pick(groups);
        const members = state.memberships[groupId] ?? {};
        if (members[userId]) return false;
        members[userId] = { kind: 'user', joinedAt: now };
        state.memberships[groupId] = members;
        await notify({
          ...base(),
          changeType: 'updated',
          resource: `Groups/${groupId}`,
          resourceData: { id: groupId, sequenceNumber: sequence(), 'members@delta': [{ id: userId }] },
        });
        return true;
      }
      case 'leave': {
        const candidates = Object.entries(state.memberships).flatMap(([groupId, members]) =>
          Object.entries(members)
            .filter(([id, m]) => m.kind === 'user' && state.users[id] && !state.users[id]?.deleted)
            .map(([id]) => [groupId, id] as const),
        );
        if (candidates.length === 0) return false;
        const [groupId, userId] = random.pick(candidates);
        delete state.memberships[groupId]?.[userId];
        const removed = random.chance(0.5) ? 'deleted' : { reason: 'deleted' };
        await notify({
          ...base(),
          changeType: 'updated',
          resource: `Groups/${groupId}`,
          resourceData: {
            id: groupId,
            sequenceNumber: sequence(),
            'members@delta': [{ id: userId, '@removed': removed }],
          },
        });
        return true;
      }
      case 'softDelete': {
        const users = activeUsers();
        if (users.length === 0) return false;
        const [userId, user] = random.pick(users);
        user.deleted = true;
        await notify({
          ...base(),
          changeType: 'deleted',
          resource: `Users/${userId}`,
          resourceData: { id: userId, sequenceNumber: sequence(), '@removed': { reason: 'changed' } },
        });
        return true;
      }
      case 'restore': {
        const deleted = Object.entries(state.users).filter(([, u]) => u.deleted);
        if (deleted.length === 0) return false;
        const [userId, user] = random.pick(deleted);
        user.deleted = false;
        await notify({
          ...base(),
          changeType: 'updated',
          resource: `Users/${userId}`,
          resourceData: { id: userId, sequenceNumber: sequence() },
        });
        return true;
      }
      case 'hardDelete': {
        const deleted = Object.entries(state.users).filter(([, u]) => u.deleted);
        if (deleted.length === 0) return false;
        const [userId] = random.pick(deleted);
        delete state.users[userId];
        for (const members of Object.values(state.memberships)) delete members[userId];
        await notify({
          ...base(),
          changeType: 'deleted',
          resource: `Users/${userId}`,
          resourceData: { id: userId, sequenceNumber: sequence(), '@removed': { reason: 'deleted' } },
        });
        return true;
      }
      case 'purchase': {
        const skus = Object.keys(state.units);
        if (skus.length === 0) return false;
        const skuId = random.pick(skus);
        const units = state.units[skuId];
        if (!units) return false;
        units.enabled += Math.max(1, Math.round(units.enabled * 0.02));
        await admin.setUnits(state.tenant.id, skuId, units.enabled, units.warning);
        return true;
      }
      case 'unassign': {
        const licensed = Object.entries(state.groups).filter(
          ([, g]) => g.licenses.length > 0 && g.kind === 'project',
        );
        if (licensed.length === 0) return false;
        const [groupId, group] = random.pick(licensed);
        const license = random.pick(group.licenses);
        if (
          !(await tryGraph('unassign', graph, `/groups/${groupId}/assignLicense`, {
            addLicenses: [],
            removeLicenses: [license.skuId],
          }))
        )
          return false;
        group.licenses = group.licenses.filter((l) => l.skuId !== license.skuId);
        if (group.licenses.length === 0) group.licensedSince = null;
        return true;
      }
      case 'assign': {
        const bare = Object.entries(state.groups).filter(
          ([, g]) => g.licenses.length === 0 && g.kind === 'project',
        );
        const skus = ['POWER_BI_PRO', 'VISIOCLIENT', 'AAD_PREMIUM_P2']
          .map((part) => catalog.skuByPartNumber(part)?.skuId)
          .filter((id): id is string => id !== undefined && state.units[id] !== undefined);
        if (bare.length === 0 || skus.length === 0) return false;
        const [groupId, group] = random.pick(bare);
        const skuId = random.pick(skus);
        if (
          !(await tryGraph('assign', graph, `/groups/${groupId}/assignLicense`, {
            addLicenses: [{ skuId, disabledPlans: [] }],
            removeLicenses: [],
          }))
        ) {
          return false;
        }
        group.licenses = [{ skuId, disabledPlans: [] }];
        group.licensedSince = new Date().toISOString();
        return true;
      }
      case 'usageLocation': {
        const users = activeUsers();
        if (users.length === 0) return false;
        const [userId, user] = random.pick(users);
        const roll = random.next();
        const location =
          roll < 0.05 ? 'IR' : roll < 0.1 ? 'CN' : random.pick(['US', 'GB', 'DE', 'FR', 'JP', 'IN']);
        if (
          !(await tryGraph('usageLocation', graph, `/users/${userId}`, { usageLocation: location }, 'patch'))
        )
          return false;
        user.usageLocation = location;
        return true;
      }
      case 'directAssign': {
        const users = activeUsers().filter(([, u]) => u.usageLocation !== null);
        const skus = ['POWER_BI_PRO', 'VISIOCLIENT']
          .map((part) => catalog.skuByPartNumber(part)?.skuId)
          .filter((id): id is string => id !== undefined && state.units[id] !== undefined);
        if (users.length === 0 || skus.length === 0) return false;
        const [userId, user] = random.pick(users);
        const skuId = random.pick(skus);
        if (user.direct.some((d) => d.skuId === skuId)) return false;
        if (
          !(await tryGraph('directAssign', graph, `/users/${userId}/assignLicense`, {
            addLicenses: [{ skuId, disabledPlans: [] }],
            removeLicenses: [],
          }))
        ) {
          return false;
        }
        user.direct.push({ skuId, disabledPlans: [], since: new Date().toISOString() });
        return true;
      }
      case 'directRemove': {
        const users = activeUsers().filter(([, u]) => u.direct.length > 0);
        if (users.length === 0) return false;
        const [userId, user] = random.pick(users);
        const license = random.pick(user.direct);
        if (
          !(await tryGraph('directRemove', graph, `/users/${userId}/assignLicense`, {
            addLicenses: [],
            removeLicenses: [license.skuId],
          }))
        ) {
          return false;
        }
        user.direct = user.direct.filter((d) => d.skuId !== license.skuId);
        return true;
      }
    }
  }

  /** An admin action through Graph; a 400 (no seat, a conflict) is a refusal the service rightly made. */
  async function tryGraph(
    kind: string,
    client: Client,
    path: string,
    body: unknown,
    method: 'post' | 'patch' = 'post',
  ): Promise<boolean> {
    try {
      if (method === 'post') await client.api(path).post(body);
      else await client.api(path).patch(body);
      return true;
    } catch (error: unknown) {
      const status =
        typeof error === 'object' && error !== null && 'statusCode' in error ? error.statusCode : undefined;
      // 400: the service refused (no seat, a conflict); 404: the user is still soft-deleted on the service
      // because a restore is in flight. Either way nothing changed, so nothing is recorded.
      if (status === 400 || status === 404) {
        refused[kind] = (refused[kind] ?? 0) + 1;
        return false;
      }
      throw error;
    }
  }
}

function pickEvent(random: Random): EventKind {
  let roll = random.next() * TOTAL_WEIGHT;
  for (const [kind, weight] of EVENTS) {
    roll -= weight;
    if (roll < 0) return kind;
  }
  return 'join';
}

/** The batch as the network delivers it: some notifications twice, some out of order. */
function deliver(batch: Notification[], random: Random, duplicates: number, reorder: number): Notification[] {
  const delivered: Notification[] = [];
  for (const notification of batch) {
    delivered.push(notification);
    if (random.chance(duplicates)) delivered.splice(random.int(delivered.length + 1), 0, notification);
  }
  for (let i = 0; i < delivered.length; i++) {
    if (!random.chance(reorder)) continue;
    const j = random.int(delivered.length);
    const a = delivered[i];
    const b = delivered[j];
    if (a && b) {
      delivered[i] = b;
      delivered[j] = a;
    }
  }
  return delivered;
}
