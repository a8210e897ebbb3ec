import type { Client } from '@microsoft/microsoft-graph-client';
import type { Catalog } from '../engine/index.js';
import { DEPARTMENTS, departmentRule, EUROPE, locationRule } from './generate.js';
import type { Progress } from './progress.js';
import { Random } from './random.js';
import { graphClient, type OperatorClient } from './service.js';
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
  /**
   * Wait until the service has finished earlier work on the tenant before the first event (default true). Without
   * the wait, churn overlaps that work: every admin action waits behind it, but the interleaving is harsher.
   */
  readonly waitForIdle?: boolean;
}

export interface ChurnSummary {
  readonly counts: Record<string, number>;
  readonly notificationsSent: number;
  readonly posts: number;
  readonly refused: Record<string, number>;
  readonly seconds: number;
  /** Time spent waiting for the service, per kind of call (admin actions by event, `webhook` for posts). */
  readonly calls: Record<string, CallTimes>;
}

export interface CallTimes {
  readonly count: number;
  readonly totalMs: number;
  readonly maxMs: number;
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
  // Attribute changes that move users between dynamic groups, and now and then a rule edited.
  ['department', 6],
  ['accountEnabled', 3],
  ['ruleEdit', 1],
] as const;
type EventKind = (typeof EVENTS)[number][0];
/** Group license changes reprocess a whole group: in a tenant larger than this they get rarer in proportion. */
const GROUP_CHANGE_REFERENCE_USERS = 2000;

/**
 * The event mix for a tenant of `users`. An (un)assignment on a group reprocesses every member, and a rule edit
 * evaluates the whole tenant, so in big tenants they are made rarer in proportion to their size — the members reprocessed per event stay what they are in a
 * 2,000-user tenant (in a 100,000-user tenant, 20,000 events bring ~16 group license changes instead of ~800,
 * which is also closer to how often admins change them).
 */
export function eventWeights(users: number): readonly (readonly [EventKind, number])[] {
  const scale = Math.min(1, GROUP_CHANGE_REFERENCE_USERS / Math.max(1, users));
  return EVENTS.map(([kind, weight]) => [
    kind,
    kind === 'assign' || kind === 'unassign' || kind === 'ruleEdit' ? weight * scale : weight,
  ]);
}

/**
 * Plays directory and admin churn against the service, the way it arrives in production: membership and lifecycle
 * changes as Graph change notifications to the webhook (with the tenant's clientState, in batches, optionally
 * duplicated and reordered — sequence numbers let the service restore the order), admin actions through the Graph
 * API, among them the attribute changes (department, usage location, accountEnabled) and rule edits that move
 * users between dynamic groups. The record in `state` is updated with what the service must end up with; refused admin actions (a 400 for
 * a seat or a conflict) are not recorded, because the service changed nothing.
 */
export async function churn(
  operator: OperatorClient,
  catalog: Catalog,
  state: SimState,
  options: ChurnOptions,
  progress: Progress,
): Promise<ChurnSummary> {
  // Earlier work first (a new tenant's group assignments take minutes at 100,000 users): while the service is
  // busy with it, every admin action below waits behind it, and churn sends them one at a time.
  const waitStarted = Date.now();
  if (options.waitForIdle !== false && !(await operator.isIdle(state.tenant.id))) {
    progress.log('Waiting for the service to finish earlier work on this tenant (group license processing)…');
    await operator.waitIdle(state.tenant.id, 30 * 60_000);
    progress.log(`The service was idle after ${((Date.now() - waitStarted) / 1000).toFixed(1)} s.`);
  }
  const started = Date.now();
  const random = new Random(options.seed ^ (state.events * 2654435761));
  const graph = graphClient(operator.baseUrl, await operator.token(state.tenant.id));
  const counts: Record<string, number> = {};
  const refused: Record<string, number> = {};
  const batchSize = options.batchSize ?? 50;
  const calls: Record<string, CallTimes> = {};
  /** Runs one call to the service and adds its time to `calls[kind]`. */
  const timed = async <T>(kind: string, call: () => Promise<T>): Promise<T> => {
    const start = performance.now();
    try {
      return await call();
    } finally {
      const ms = performance.now() - start;
      const before = calls[kind] ?? { count: 0, totalMs: 0, maxMs: 0 };
      calls[kind] = {
        count: before.count + 1,
        totalMs: before.totalMs + ms,
        maxMs: Math.max(before.maxMs, ms),
      };
    }
  };
  let pending: Notification[] = [];
  let notificationsSent = 0;
  let posts = 0;

  const flush = async () => {
    if (pending.length === 0) return;
    const batch = deliver(pending, random, options.duplicates ?? 0, options.reorder ?? 0);
    pending = [];
    const status = await timed('webhook', () => operator.notify(batch));
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

  // Indexes of the record, kept in step with every change churn makes, so each event samples in constant time
  // instead of scanning the tenant (a 10,000-user tenant with 20,000 events spent most of its time in scans).
  const active = new Pool<string>();
  const deleted = new Pool<string>();
  for (const [id, user] of Object.entries(state.users)) (user.deleted ? deleted : active).add(id);
  const userMemberships = new Pool<string>();
  for (const [groupId, members] of Object.entries(state.memberships))
    for (const [id, m] of Object.entries(members))
      if (m.kind === 'user' && state.users[id] && !state.groups[groupId]?.dynamic)
        userMemberships.add(membershipKey(groupId, id));
  // Members are added and removed by hand only in static groups: a dynamic group's follow its rule.
  const userGroups = Object.keys(state.groups).filter(
    (id) => state.groups[id]?.kind !== 'devices' && state.groups[id]?.dynamic === undefined,
  );
  const user = (id: string) => {
    const found = state.users[id];
    if (!found) throw new Error(`the record has no user ${id}`);
    return found;
  };
  /**
   * An active user matching `wanted`: sampled (a few tries), then found by a scan when matches are rare.
   * Deterministic for a seed either way.
   */
  const sampleActive = (wanted: (id: string) => boolean): string | undefined => {
    if (active.size === 0) return undefined;
    for (let attempt = 0; attempt < 32; attempt++) {
      const id = active.pick(random);
      if (wanted(id)) return id;
    }
    const matches = active.items().filter(wanted);
    return matches.length === 0 ? undefined : random.pick(matches);
  };

  const weights = eventWeights(Object.keys(state.users).length);
  const totalWeight = weights.reduce((sum, [, w]) => sum + w, 0);
  const bar = progress.bar('Churning', options.events);
  for (let i = 0; i < options.events; i++) {
    const kind = pickEvent(random, weights, totalWeight);
    const done = await play(kind);
    if (done) counts[kind] = (counts[kind] ?? 0) + 1;
    state.events++;
    bar.increment(1);
  }
  await flush();
  bar.stop();
  return { counts, notificationsSent, posts, refused, seconds: (Date.now() - started) / 1000, calls };

  async function play(kind: EventKind): Promise<boolean> {
    const now = new Date().toISOString();
    switch (kind) {
      case 'join': {
        if (active.size === 0 || userGroups.length === 0) return false;
        const userId = active.pick(random);
        const groupId = random.pick(userGroups);
        const members = state.memberships[groupId] ?? {};
        if (members[userId]) return false;
        members[userId] = { kind: 'user', joinedAt: now };
        state.memberships[groupId] = members;
        userMemberships.add(membershipKey(groupId, userId));
        await notify({
          ...base(),
          changeType: 'updated',
          resource: `Groups/${groupId}`,
          resourceData: { id: groupId, sequenceNumber: sequence(), 'members@delta': [{ id: userId }] },
        });
        return true;
      }
      case 'leave': {
        // A membership of an active user: sampled among the user memberships, skipping deleted users.
        let picked: string | undefined;
        for (let attempt = 0; attempt < 32 && userMemberships.size > 0 && !picked; attempt++) {
          const key = userMemberships.pick(random);
          if (!state.users[membershipOf(key)[1]]?.deleted) picked = key;
        }
        if (!picked) {
          const candidates = userMemberships.items().filter((k) => !state.users[membershipOf(k)[1]]?.deleted);
          if (candidates.length === 0) return false;
          picked = random.pick(candidates);
        }
        const [groupId, userId] = membershipOf(picked);
        delete state.memberships[groupId]?.[userId];
        userMemberships.delete(picked);
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
        if (active.size === 0) return false;
        const userId = active.pick(random);
        user(userId).deleted = true;
        active.delete(userId);
        deleted.add(userId);
        await notify({
          ...base(),
          changeType: 'deleted',
          resource: `Users/${userId}`,
          resourceData: { id: userId, sequenceNumber: sequence(), '@removed': { reason: 'changed' } },
        });
        return true;
      }
      case 'restore': {
        if (deleted.size === 0) return false;
        const userId = deleted.pick(random);
        user(userId).deleted = false;
        deleted.delete(userId);
        active.add(userId);
        await notify({
          ...base(),
          changeType: 'updated',
          resource: `Users/${userId}`,
          resourceData: { id: userId, sequenceNumber: sequence() },
        });
        return true;
      }
      case 'hardDelete': {
        if (deleted.size === 0) return false;
        const userId = deleted.pick(random);
        delete state.users[userId];
        deleted.delete(userId);
        for (const [groupId, members] of Object.entries(state.memberships)) {
          if (!members[userId]) continue;
          delete members[userId];
          userMemberships.delete(membershipKey(groupId, userId));
        }
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
        await timed('purchase', () =>
          operator.setUnits(state.tenant.id, skuId, units.enabled, units.warning),
        );
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
        if (active.size === 0) return false;
        const userId = active.pick(random);
        const target = user(userId);
        const roll = random.next();
        const location =
          roll < 0.05 ? 'IR' : roll < 0.1 ? 'CN' : random.pick(['US', 'GB', 'DE', 'FR', 'JP', 'IN']);
        if (
          !(await tryGraph('usageLocation', graph, `/users/${userId}`, { usageLocation: location }, 'patch'))
        )
          return false;
        target.usageLocation = location;
        return true;
      }
      case 'directAssign': {
        const skus = ['POWER_BI_PRO', 'VISIOCLIENT']
          .map((part) => catalog.skuByPartNumber(part)?.skuId)
          .filter((id): id is string => id !== undefined && state.units[id] !== undefined);
        if (skus.length === 0) return false;
        const userId = sampleActive((id) => user(id).usageLocation !== null);
        if (userId === undefined) return false;
        const target = user(userId);
        const skuId = random.pick(skus);
        if (target.direct.some((d) => d.skuId === skuId)) return false;
        if (
          !(await tryGraph('directAssign', graph, `/users/${userId}/assignLicense`, {
            addLicenses: [{ skuId, disabledPlans: [] }],
            removeLicenses: [],
          }))
        ) {
          return false;
        }
        target.direct.push({ skuId, disabledPlans: [], since: new Date().toISOString() });
        return true;
      }
      case 'department': {
        // A move to another department; now and then written in lower case, which rules must not mind.
        if (active.size === 0) return false;
        const userId = active.pick(random);
        const target = user(userId);
        const others = DEPARTMENTS.filter((d) => d.toLowerCase() !== target.department.toLowerCase());
        const picked = random.pick(others);
        const department = random.chance(0.1) ? picked.toLowerCase() : picked;
        if (!(await tryGraph('department', graph, `/users/${userId}`, { department }, 'patch'))) return false;
        target.department = department;
        return true;
      }
      case 'accountEnabled': {
        // Mostly accounts switched off (leavers); some switched back on.
        const enable = random.chance(0.3);
        const userId = sampleActive((id) => (user(id).accountEnabled ?? true) !== enable);
        if (userId === undefined) return false;
        if (
          !(await tryGraph('accountEnabled', graph, `/users/${userId}`, { accountEnabled: enable }, 'patch'))
        )
          return false;
        user(userId).accountEnabled = enable;
        return true;
      }
      case 'ruleEdit': {
        // A rule edited: a department group counts its disabled users too, or no longer does; Europe's countries
        // change. Never Paused here: what a pause froze would depend on how far the last evaluation had got.
        const editable = Object.entries(state.groups).filter(
          ([, g]) =>
            g.dynamic?.processingState === 'On' && (g.kind === 'department' || g.kind === 'location'),
        );
        if (editable.length === 0) return false;
        const [groupId, group] = random.pick(editable);
        const dynamic = group.dynamic;
        if (!dynamic) return false;
        let membershipRule: string;
        if (group.kind === 'location') {
          const countries = [...EUROPE, 'GB', 'IE', 'IT', 'PL'].filter(() => random.chance(0.5));
          membershipRule = locationRule(countries.length > 0 ? countries : ['DE']);
        } else {
          const department = group.displayName.replace(/ Department$/, '');
          membershipRule = departmentRule(department, !dynamic.membershipRule.includes('accountEnabled'));
        }
        if (membershipRule === dynamic.membershipRule) return false;
        if (!(await tryGraph('ruleEdit', graph, `/groups/${groupId}`, { membershipRule }, 'patch')))
          return false;
        group.dynamic = { ...dynamic, membershipRule, savedAt: now };
        return true;
      }
      case 'directRemove': {
        const userId = sampleActive((id) => user(id).direct.length > 0);
        if (userId === undefined) return false;
        const target = user(userId);
        const license = random.pick(target.direct);
        if (
          !(await tryGraph('directRemove', graph, `/users/${userId}/assignLicense`, {
            addLicenses: [],
            removeLicenses: [license.skuId],
          }))
        ) {
          return false;
        }
        target.direct = target.direct.filter((d) => d.skuId !== license.skuId);
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
      await timed(kind, () =>
        method === 'post' ? client.api(path).post(body) : client.api(path).patch(body),
      );
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

/**
 * A set that picks a random member in constant time: items in an array (removal swaps the last one in), positions
 * in a map. The order only depends on the order of additions and removals, so sampling stays deterministic.
 */
class Pool<T> {
  private readonly list: T[] = [];
  private readonly index = new Map<T, number>();

  get size(): number {
    return this.list.length;
  }

  add(item: T): void {
    if (this.index.has(item)) return;
    this.index.set(item, this.list.length);
    this.list.push(item);
  }

  delete(item: T): void {
    const at = this.index.get(item);
    if (at === undefined) return;
    const last = this.list.pop() as T;
    this.index.delete(item);
    if (at < this.list.length) {
      this.list[at] = last;
      this.index.set(last, at);
    }
  }

  pick(random: Random): T {
    return random.pick(this.list);
  }

  items(): readonly T[] {
    return this.list;
  }
}

const membershipKey = (groupId: string, userId: string) => `${groupId} ${userId}`;

function membershipOf(key: string): [groupId: string, userId: string] {
  const space = key.indexOf(' ');
  return [key.slice(0, space), key.slice(space + 1)];
}

function pickEvent(
  random: Random,
  weights: readonly (readonly [EventKind, number])[],
  totalWeight: number,
): EventKind {
  let roll = random.next() * totalWeight;
  for (const [kind, weight] of weights) {
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
