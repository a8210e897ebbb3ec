import { randomUUID } from 'node:crypto';
import type { TableClient, TransactionAction } from '@azure/data-tables';
import { loadCatalogData } from '../catalog/load.js';
import { subscribedSkuSchema, userSchema } from '../contract/graph.js';
import {
  judgeTenant,
  type OracleDifference,
  recordedTenant,
  type ServicePrincipal,
} from '../simulator/oracle.js';
import { Random } from '../simulator/random.js';
import { graphClient, type OperatorClient } from '../simulator/service.js';
import type { SimState } from '../simulator/state.js';
import { listAll } from '../simulator/verify.js';
import { inParallel } from '../storage/in-flight.js';
import { SHARD_COUNT, shardKey } from '../storage/keys.js';

export const E3 = '6fd2c87f-b296-42f0-b197-1e91e994b900';
export const EMS = 'efccb6f7-5641-4e0e-bd10-b4976e1bf68e';

/**
 * F1, the storage floor (performance.md): 100,000 small rows written in 100-operation transactions over the same
 * number of partitions the product uses for principals (256), 4 transactions in flight, then listed back partition
 * by partition. Measured on the same Azurite, in the same run, as the workloads.
 */
/** A bench tenant's directory through the NDJSON import, 20,000 lines a request; any refused line fails the bench. */
export async function importAll(
  operator: OperatorClient,
  tenantId: string,
  lines: readonly unknown[],
): Promise<void> {
  for (let i = 0; i < lines.length; i += 20_000) {
    const result = await operator.import(tenantId, lines.slice(i, i + 20_000));
    if (result.errors.length > 0)
      throw new Error(`import refused lines: ${JSON.stringify(result.errors.slice(0, 3))}`);
  }
}

export async function floorF1(
  table: TableClient,
  rows: number,
): Promise<{ seconds: number; writeSeconds: number; readSeconds: number }> {
  await table.createTable();
  const byPartition = new Map<string, { partitionKey: string; rowKey: string; v: number }[]>();
  for (let i = 0; i < rows; i++) {
    const partitionKey = `floor|${shardKey(i % SHARD_COUNT)}`;
    const list = byPartition.get(partitionKey) ?? [];
    list.push({ partitionKey, rowKey: `r${String(i).padStart(8, '0')}`, v: i });
    byPartition.set(partitionKey, list);
  }
  const batches: TransactionAction[][] = [];
  for (const list of byPartition.values()) {
    for (let i = 0; i < list.length; i += 100) batches.push(list.slice(i, i + 100).map((e) => ['create', e]));
  }
  const started = Date.now();
  await inParallel(batches, 4, (batch) => table.submitTransaction(batch).then(() => undefined));
  const written = Date.now();
  let listed = 0;
  await inParallel([...byPartition.keys()], 4, async (partitionKey) => {
    for await (const _ of table.listEntities({
      queryOptions: { filter: `PartitionKey eq '${partitionKey}'` },
    }))
      listed++;
  });
  if (listed !== rows) throw new Error(`F1 listed ${listed} rows back, wrote ${rows}`);
  const done = Date.now();
  return {
    seconds: (done - started) / 1000,
    writeSeconds: (written - started) / 1000,
    readSeconds: (done - written) / 1000,
  };
}

/** A tenant prepared for B1/B5: one security group of `members` users, E3 and EMS bought for all of them. */
export interface GroupTenant {
  readonly state: SimState;
  readonly groupId: string;
  readonly token: string;
}

/** Prepares (not timed) a tenant with one `members`-user security group through the operator import. */
export async function prepareGroupTenant(
  operator: OperatorClient,
  members: number,
  seed: number,
): Promise<GroupTenant> {
  const random = new Random(seed);
  const tenant = await operator.createTenant(`Bench ${members}`, 'US');
  await operator.setUnits(tenant.id, 'ENTERPRISEPACK', members);
  await operator.setUnits(tenant.id, 'EMS', members);
  const groupId = random.uuid();
  const now = new Date().toISOString();
  const users: SimState['users'] = {};
  const memberships: SimState['memberships'] = { [groupId]: {} };
  const lines: unknown[] = [{ type: 'group', id: groupId, displayName: 'Everyone', securityEnabled: true }];
  for (let i = 0; i < members; i++) {
    const id = random.uuid();
    const userPrincipalName = `user${i}@bench.test`;
    users[id] = {
      userPrincipalName,
      displayName: `User ${i}`,
      usageLocation: 'US',
      proxyAddresses: [],
      department: 'Bench',
      deleted: false,
      direct: [],
    };
    const group = memberships[groupId];
    if (group) group[id] = { kind: 'user', joinedAt: now };
    lines.push({
      type: 'user',
      id,
      userPrincipalName,
      displayName: `User ${i}`,
      usageLocation: 'US',
      memberOf: [groupId],
    });
  }
  await importAll(operator, tenant.id, lines);
  const state: SimState = {
    version: 1,
    seed,
    baseUrl: operator.baseUrl,
    tenant: {
      id: tenant.id,
      displayName: tenant.displayName,
      countryLetterCode: 'US',
      licenseErrorHealing: 'automatic',
      clientState: tenant.webhook.clientState,
    },
    units: { [E3]: { enabled: members, warning: 0 }, [EMS]: { enabled: members, warning: 0 } },
    lowered: [],
    users,
    devices: {},
    groups: {
      [groupId]: {
        displayName: 'Everyone',
        kind: 'department',
        securityEnabled: true,
        licenses: [],
        licensedSince: null,
      },
    },
    memberships,
    sequence: 1,
    events: 0,
  };
  return { state, groupId, token: await operator.token(tenant.id) };
}

/**
 * B1: assign E3 and EMS to the group through the Graph API and time the 202 → `ProcessingComplete` span, polling
 * the group's `licenseProcessingState` as a client would. `sample` runs every 100 ms while it waits (RSS).
 */
export async function runGroupAssignment(
  operator: OperatorClient,
  prepared: GroupTenant,
  sample: () => void,
): Promise<{ seconds: number }> {
  const graph = graphClient(operator.baseUrl, prepared.token);
  const licenses = [
    { skuId: E3, disabledPlans: [] },
    { skuId: EMS, disabledPlans: [] },
  ];
  const started = Date.now();
  await graph
    .api(`/groups/${prepared.groupId}/assignLicense`)
    .post({ addLicenses: licenses, removeLicenses: [] });
  for (;;) {
    sample();
    const group: unknown = await graph
      .api(`/groups/${prepared.groupId}`)
      .select('licenseProcessingState')
      .get();
    const state =
      typeof group === 'object' &&
      group !== null &&
      'licenseProcessingState' in group &&
      typeof group.licenseProcessingState === 'object' &&
      group.licenseProcessingState !== null &&
      'state' in group.licenseProcessingState
        ? group.licenseProcessingState.state
        : undefined;
    if (state === 'ProcessingComplete') break;
    if (Date.now() - started > 60 * 60_000) throw new Error('B1 did not complete within an hour');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const seconds = (Date.now() - started) / 1000;
  const group = prepared.state.groups[prepared.groupId];
  if (group) {
    group.licenses = licenses;
    group.licensedSince = new Date(started).toISOString();
  }
  return { seconds };
}

/**
 * Reads every user back through the Graph API and judges the answer with the simulator's oracle (rules.md written
 * apart from the engine) against the bench's own record of the tenant.
 */
export async function checkTenant(operator: OperatorClient, state: SimState): Promise<OracleDifference[]> {
  await operator.waitIdle(state.tenant.id, 30 * 60_000);
  const graph = graphClient(operator.baseUrl, await operator.token(state.tenant.id, ['Directory.Read.All']));
  const principals = new Map<string, ServicePrincipal>();
  for (const item of await listAll(graph, '/users?$select=id,licenseAssignmentStates&$top=999')) {
    const user = userEntriesSchema.parse(item);
    principals.set(user.id, { entries: user.licenseAssignmentStates });
  }
  const consumed = new Map<string, number>();
  for (const item of await listAll(graph, '/subscribedSkus')) {
    const sku = subscribedSkuSchema.parse(item);
    consumed.set(sku.skuId, sku.consumedUnits);
  }
  return judgeTenant(loadCatalogData(), recordedTenant(state), { principals, consumedUnits: consumed });
}

/** A user read with `$select=id,licenseAssignmentStates`, cut from the Graph wire contract. */
const userEntriesSchema = userSchema.pick({ id: true, licenseAssignmentStates: true });

/**
 * B2's tenant: `groups` groups of `perGroup` members drawn from a pool of users, every group carrying E3. The pool
 * holds a quarter of the memberships (each user in about four groups): realistic overlap, and licensing 200 groups
 * at once does not fight over the same few thousand principal rows while the tenant is prepared.
 */
export interface ChurnTenant {
  readonly state: SimState;
  readonly groups: string[];
  readonly pool: string[];
}

export async function prepareMembershipTenant(
  operator: OperatorClient,
  groups: number,
  perGroup: number,
  seed: number,
): Promise<ChurnTenant> {
  const random = new Random(seed);
  const pool = Array.from({ length: Math.max(perGroup, Math.ceil((groups * perGroup) / 4)) }, () =>
    random.uuid(),
  );
  const tenant = await operator.createTenant('Bench B2', 'US');
  await operator.setUnits(tenant.id, 'ENTERPRISEPACK', pool.length);
  const groupIds = Array.from({ length: groups }, () => random.uuid());
  const now = new Date().toISOString();
  const memberships: SimState['memberships'] = {};
  const memberOf = new Map<string, string[]>();
  for (const groupId of groupIds) {
    memberships[groupId] = {};
    const start = random.int(pool.length);
    for (let i = 0; i < perGroup; i++) {
      const userId = pool[(start + i) % pool.length] ?? '';
      const group = memberships[groupId];
      if (group) group[userId] = { kind: 'user', joinedAt: now };
      memberOf.set(userId, [...(memberOf.get(userId) ?? []), groupId]);
    }
  }
  const users: SimState['users'] = {};
  const lines: unknown[] = groupIds.map((id, i) => ({
    type: 'group',
    id,
    displayName: `Team ${i}`,
    securityEnabled: true,
  }));
  pool.forEach((id, i) => {
    users[id] = {
      userPrincipalName: `member${i}@bench.test`,
      displayName: `Member ${i}`,
      usageLocation: 'US',
      proxyAddresses: [],
      department: 'Bench',
      deleted: false,
      direct: [],
    };
    lines.push({
      type: 'user',
      id,
      userPrincipalName: `member${i}@bench.test`,
      displayName: `Member ${i}`,
      usageLocation: 'US',
      memberOf: memberOf.get(id) ?? [],
    });
  });
  await importAll(operator, tenant.id, lines);
  const graph = graphClient(operator.baseUrl, await operator.token(tenant.id));
  const groupsState: SimState['groups'] = {};
  for (const groupId of groupIds) {
    await graph
      .api(`/groups/${groupId}/assignLicense`)
      .post({ addLicenses: [{ skuId: E3, disabledPlans: [] }], removeLicenses: [] });
    groupsState[groupId] = {
      displayName: groupId,
      kind: 'project',
      securityEnabled: true,
      licenses: [{ skuId: E3, disabledPlans: [] }],
      licensedSince: now,
    };
  }
  await operator.waitIdle(tenant.id, 30 * 60_000);
  return {
    pool,
    groups: groupIds,
    state: {
      version: 1,
      seed,
      baseUrl: operator.baseUrl,
      tenant: {
        id: tenant.id,
        displayName: tenant.displayName,
        countryLetterCode: 'US',
        licenseErrorHealing: 'automatic',
        clientState: tenant.webhook.clientState,
      },
      units: { [E3]: { enabled: pool.length, warning: 0 } },
      lowered: [],
      users,
      devices: {},
      groups: groupsState,
      memberships,
      sequence: 1,
      events: 0,
    },
  };
}

/**
 * B2: `changes` membership changes — half joins of users not in the group, half leaves — sent as Graph change
 * notifications (one per group and batch, with `members@delta`) in webhook POSTs, timed from the first POST until
 * the service is idle (every change applied and evaluated).
 */
export async function runMembershipChanges(
  operator: OperatorClient,
  prepared: ChurnTenant,
  changes: number,
  seed: number,
  /** The hosts that receive the webhook POSTs, in turn (several instances behind one address); default the operator's. */
  receivers: readonly OperatorClient[] = [operator],
): Promise<{ seconds: number; posts: number }> {
  const random = new Random(seed);
  const { state } = prepared;
  const planned: { groupId: string; memberId: string; op: 'add' | 'remove' }[] = [];
  // One change per (group, member): the order of two changes to one pair inside a run is not what is measured.
  const touched = new Set<string>();
  const currentMembers = new Map<string, string[]>();
  while (planned.length < changes) {
    const groupId = random.pick(prepared.groups);
    const members = state.memberships[groupId] ?? {};
    const add = random.chance(0.5);
    let userId: string;
    if (add) {
      userId = random.pick(prepared.pool);
      if (members[userId]) continue;
    } else {
      const current = currentMembers.get(groupId) ?? Object.keys(members);
      currentMembers.set(groupId, current);
      if (current.length === 0) continue;
      userId = random.pick(current);
    }
    if (touched.has(`${groupId}|${userId}`)) continue;
    touched.add(`${groupId}|${userId}`);
    if (add) members[userId] = { kind: 'user', joinedAt: new Date().toISOString() };
    else delete members[userId];
    planned.push({ groupId, memberId: userId, op: add ? 'add' : 'remove' });
  }
  // Notifications as Graph batches them: per group, up to 100 deltas; 10 notifications per POST.
  const notifications: unknown[] = [];
  const byGroup = new Map<string, typeof planned>();
  for (const change of planned) byGroup.set(change.groupId, [...(byGroup.get(change.groupId) ?? []), change]);
  for (const [groupId, list] of byGroup) {
    for (let i = 0; i < list.length; i += 100) {
      notifications.push({
        subscriptionId: 'bench',
        clientState: state.tenant.clientState,
        tenantId: state.tenant.id,
        changeType: 'updated',
        resource: `Groups/${groupId}`,
        resourceData: {
          id: groupId,
          sequenceNumber: state.sequence++,
          'members@delta': list
            .slice(i, i + 100)
            .map((c) => (c.op === 'add' ? { id: c.memberId } : { id: c.memberId, '@removed': 'deleted' })),
        },
      });
    }
  }
  random.shuffle(notifications);
  const posts: unknown[][] = [];
  for (let i = 0; i < notifications.length; i += 10) posts.push(notifications.slice(i, i + 10));
  const started = Date.now();
  let turn = 0;
  await inParallel(posts, 4, async (batch) => {
    const receiver = receivers[turn++ % receivers.length] ?? operator;
    const status = await receiver.notify(batch);
    if (status !== 202) throw new Error(`the webhook answered ${status}`);
  });
  await operator.waitIdle(state.tenant.id, 30 * 60_000);
  return { seconds: (Date.now() - started) / 1000, posts: posts.length };
}

/**
 * B3: 32 concurrent clients for `seconds`: reads of `GET /users/{id}?$select=licenseAssignmentStates` (90%) and
 * writes `POST /users/{id}/assignLicense` that switch a direct E3's disabled plans (10%, no seat moves).
 */
export async function runReadsAndWrites(
  operator: OperatorClient,
  prepared: GroupTenant,
  seconds: number,
  clients = 32,
): Promise<{ reads: number[]; writes: number[]; errors: number }> {
  const ids = Object.keys(prepared.state.users);
  const random = new Random(99);
  const base = `${operator.baseUrl}/api/v1.0`;
  const headers = { authorization: `Bearer ${prepared.token}` };
  const yammer = '7547a3fe-08ee-4ccb-b430-5077c5041653';
  const reads: number[] = [];
  const writes: number[] = [];
  let errors = 0;
  const until = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (Date.now() < until) {
        const id = random.pick(ids);
        const started = performance.now();
        if (random.chance(0.1)) {
          const body = JSON.stringify({
            addLicenses: [{ skuId: E3, disabledPlans: random.chance(0.5) ? [yammer] : [] }],
            removeLicenses: [],
          });
          const response = await fetch(`${base}/users/${id}/assignLicense`, {
            method: 'POST',
            headers: { ...headers, 'content-type': 'application/json' },
            body,
          });
          await response.arrayBuffer();
          if (response.status !== 200) errors++;
          else writes.push(performance.now() - started);
        } else {
          const response = await fetch(`${base}/users/${id}?$select=licenseAssignmentStates`, { headers });
          await response.arrayBuffer();
          if (response.status !== 200) errors++;
          else reads.push(performance.now() - started);
        }
      }
    }),
  );
  return { reads, writes, errors };
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

export const uniqueTable = () => `floor${randomUUID().replace(/-/g, '').slice(0, 12)}`;
