import type { Client } from '@microsoft/microsoft-graph-client';
import { z } from 'zod';
import {
  collectionSchema,
  deviceSchema,
  directoryObjectSchema,
  groupSchema,
  subscribedSkuSchema,
  userSchema,
} from '../contract/graph.js';
import type { CatalogData } from '../engine/catalog.js';
import { judgeTenant, recordedTenant, type ServicePrincipal } from './oracle.js';
import type { Progress } from './progress.js';
import { graphClient, type OperatorClient } from './service.js';
import { deviceRuleFacts, recordedMemberships, type SimState, userRuleFacts } from './state.js';

export interface Difference {
  readonly kind: string;
  readonly id?: string;
  readonly message: string;
}

export interface VerifyResult {
  readonly differences: readonly Difference[];
  readonly countsByKind: Readonly<Record<string, number>>;
  readonly principalsChecked: number;
  readonly seconds: number;
}

// Views cut from the Graph wire contract by what each read selects.
const LICENSES = { id: true, licenseAssignmentStates: true, assignedLicenses: true } as const;
const userLicensesSchema = userSchema.pick(LICENSES);
const deviceLicensesSchema = deviceSchema.pick(LICENSES);
const pageSchema = collectionSchema(z.unknown());
const ruleStateSchema = groupSchema.pick({
  membershipRule: true,
  membershipRuleProcessingState: true,
  membershipRuleProcessingStatus: true,
});

/** Every item of a Graph collection, following `@odata.nextLink` page by page. */
export async function listAll(
  graph: Client,
  path: string,
  onPage?: (count: number) => void,
): Promise<unknown[]> {
  const items: unknown[] = [];
  let next: string | undefined = path;
  while (next) {
    const page = pageSchema.parse(await graph.api(next).get());
    items.push(...page.value);
    onPage?.(items.length);
    next = page['@odata.nextLink'];
  }
  return items;
}

/** Names for messages: SKUs and plans by catalog name, groups and devices by display name, users by UPN. */
function namer(catalog: CatalogData, state: SimState): (id: string) => string {
  const names = new Map<string, string>();
  for (const sku of catalog.skus) {
    names.set(sku.skuId, sku.skuPartNumber);
    for (const plan of sku.servicePlans) names.set(plan.servicePlanId, plan.servicePlanName);
  }
  for (const [id, group] of Object.entries(state.groups)) names.set(id, `"${group.displayName}"`);
  for (const [id, device] of Object.entries(state.devices)) names.set(id, device.displayName);
  for (const [id, user] of Object.entries(state.users)) names.set(id, user.userPrincipalName);
  return (id) => names.get(id) ?? id;
}

/**
 * Every group's listed members (`listed`, by group) against the record: the members added by hand, and for a
 * dynamic group those its rule matches in the record (state.ts, `recordedMemberships`). Soft-deleted users are
 * never listed, so they are not expected. A dynamic group's differences name its rule and what the record says of
 * the principal.
 */
export function membershipDifferences(
  state: SimState,
  listed: ReadonlyMap<string, ReadonlySet<string>>,
  name: (id: string) => string = (id) => id,
): Difference[] {
  const differences: Difference[] = [];
  const recorded = recordedMemberships(state);
  for (const [groupId, group] of Object.entries(state.groups)) {
    const shown = listed.get(groupId) ?? new Set<string>();
    const expected = new Set(
      Object.entries(recorded[groupId] ?? {})
        .filter(([id, m]) => m.kind !== 'user' || state.users[id]?.deleted === false)
        .map(([id]) => id),
    );
    const rule = group.dynamic?.processingState === 'On' ? group.dynamic.membershipRule : undefined;
    const facts = (id: string) => {
      const user = state.users[id];
      const device = state.devices[id];
      const known = user ? userRuleFacts(user) : device ? deviceRuleFacts(device) : undefined;
      return known ? JSON.stringify(known) : 'nothing (not in the record)';
    };
    const why = (id: string, matches: boolean) =>
      rule === undefined ? '' : ` (rule ${rule} ${matches ? 'matches' : 'does not match'} ${facts(id)})`;
    for (const id of expected)
      if (!shown.has(id))
        differences.push({
          kind: 'membership',
          id,
          message: `${name(id)} should be a member of group ${name(groupId)} but is not${why(id, true)}`,
        });
    for (const id of shown)
      if (!expected.has(id))
        differences.push({
          kind: 'membership',
          id,
          message: `${name(id)} is listed in group ${name(groupId)} but should not be${why(id, false)}`,
        });
  }
  return differences;
}

/** A dynamic group's rule and processing state as the service shows them, against the record, once idle. */
export function ruleDifferences(
  groupId: string,
  displayName: string,
  recorded: NonNullable<SimState['groups'][string]['dynamic']>,
  shown: z.infer<typeof ruleStateSchema>,
): Difference[] {
  const differences: Difference[] = [];
  const push = (message: string) =>
    differences.push({ kind: 'rule', id: groupId, message: `dynamic group "${displayName}": ${message}` });
  if (shown.membershipRule !== recorded.membershipRule)
    push(
      `the rule is ${JSON.stringify(shown.membershipRule)}, the simulator saved ${JSON.stringify(recorded.membershipRule)}`,
    );
  if (shown.membershipRuleProcessingState !== recorded.processingState)
    push(
      `processing is ${shown.membershipRuleProcessingState}, the simulator set ${recorded.processingState}`,
    );
  const status = shown.membershipRuleProcessingStatus;
  if (recorded.processingState === 'On' && status?.status !== 'Succeeded')
    push(
      `membershipRuleProcessingStatus is ${status?.status ?? 'missing'} while the tenant is idle` +
        (status?.errorMessage ? ` (${status.errorMessage})` : ''),
    );
  return differences;
}

/**
 * Waits until the service is idle, reads every principal's license entries and licenses, the subscriptions and
 * every group's members, and checks them against the simulator's own record: the directory it sent, the
 * memberships, the units it bought, and — judged by the oracle (oracle.ts), not by the service's engine — every
 * principal's entries and licenses and the invariants of rules.md §7.
 */
export async function verify(
  operator: OperatorClient,
  catalog: CatalogData,
  state: SimState,
  progress: Progress,
  options: { idleTimeoutMs?: number } = {},
): Promise<VerifyResult> {
  const started = Date.now();
  const tenantId = state.tenant.id;
  const waiting = progress.bar('Waiting for the service', 1);
  await operator.waitIdle(tenantId, options.idleTimeoutMs ?? 30 * 60_000);
  waiting.increment(1);
  waiting.stop();

  const graph = graphClient(operator.baseUrl, await operator.token(tenantId, ['Directory.Read.All']));
  const expectedPrincipals = Object.keys(state.users).length + Object.keys(state.devices).length;
  const reading = progress.bar('Reading principals', expectedPrincipals);
  const select = '$select=id,licenseAssignmentStates,assignedLicenses&$top=999';
  const active = (await listAll(graph, `/users?${select}`, (n) => reading.update(n))).map((u) =>
    userLicensesSchema.parse(u),
  );
  const deleted = (await listAll(graph, `/directory/deletedItems/microsoft.graph.user?${select}`)).map((u) =>
    userLicensesSchema.parse(u),
  );
  const devices = (await listAll(graph, `/devices?${select}`)).map((d) => deviceLicensesSchema.parse(d));
  reading.update(active.length + deleted.length + devices.length);
  reading.stop();
  const skus = collectionSchema(subscribedSkuSchema).parse(await graph.api('/subscribedSkus').get()).value;

  const differences: Difference[] = [];
  const principals = new Map<string, ServicePrincipal>();
  const seen = new Map<string, 'active' | 'deleted' | 'device'>();
  for (const [list, kind] of [
    [active, 'active'],
    [deleted, 'deleted'],
    [devices, 'device'],
  ] as const) {
    for (const principal of list) {
      principals.set(principal.id, {
        entries: principal.licenseAssignmentStates,
        assignedLicenses: principal.assignedLicenses,
      });
      seen.set(principal.id, kind);
    }
  }
  for (const [id, user] of Object.entries(state.users)) {
    const expected = user.deleted ? 'deleted' : 'active';
    const actual = seen.get(id);
    if (actual !== expected) {
      differences.push({
        kind: 'directory',
        id,
        message: `user ${user.userPrincipalName} should be ${expected} but is ${actual ?? 'missing'}`,
      });
    }
  }
  for (const id of Object.keys(state.devices)) {
    if (seen.get(id) !== 'device')
      differences.push({ kind: 'directory', id, message: `device ${id} is missing` });
  }
  for (const [id, kind] of seen) {
    if (kind === 'device' ? !state.devices[id] : !state.users[id]) {
      differences.push({
        kind: 'directory',
        id,
        message: `the service has a ${kind} principal ${id} the simulator never created (or hard-deleted)`,
      });
    }
  }

  const groups = Object.keys(state.groups);
  const members = progress.bar('Reading group members', groups.length);
  const listed = new Map<string, ReadonlySet<string>>();
  for (const groupId of groups) {
    listed.set(
      groupId,
      new Set(
        (await listAll(graph, `/groups/${groupId}/members?$select=id&$top=999`)).map(
          (m) => directoryObjectSchema.parse(m).id,
        ),
      ),
    );
    const dynamic = state.groups[groupId]?.dynamic;
    if (dynamic) {
      const shown = ruleStateSchema.parse(
        await graph
          .api(`/groups/${groupId}`)
          .select('membershipRule,membershipRuleProcessingState,membershipRuleProcessingStatus')
          .get(),
      );
      differences.push(
        ...ruleDifferences(groupId, state.groups[groupId]?.displayName ?? groupId, dynamic, shown),
      );
    }
    members.increment(1);
  }
  members.stop();
  differences.push(...membershipDifferences(state, listed, namer(catalog, state)));

  const judged = judgeTenant(
    catalog,
    recordedTenant(state),
    { principals, consumedUnits: new Map(skus.map((s) => [s.skuId, s.consumedUnits] as const)) },
    { label: namer(catalog, state) },
  );
  for (const d of judged) {
    differences.push({ kind: d.check, ...(d.principalId ? { id: d.principalId } : {}), message: d.message });
  }
  for (const sku of skus) {
    const units = state.units[sku.skuId];
    if (!units || units.enabled !== sku.prepaidUnits.enabled || units.warning !== sku.prepaidUnits.warning) {
      differences.push({
        kind: 'subscription',
        message: `${sku.skuId}: the service has ${JSON.stringify(sku.prepaidUnits)}, the simulator bought ${JSON.stringify(units ?? 'nothing')}`,
      });
    }
  }

  const countsByKind: Record<string, number> = {};
  for (const d of differences) countsByKind[d.kind] = (countsByKind[d.kind] ?? 0) + 1;
  return {
    differences,
    countsByKind,
    principalsChecked: principals.size,
    seconds: (Date.now() - started) / 1000,
  };
}
