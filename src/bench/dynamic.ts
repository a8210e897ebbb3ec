// B6 and B7 (performance.md): a dynamic group's rule change over a whole tenant, and one user's attribute change to
// its license change. The bench checks the outcome itself, from the departments it gave the users — not with the
// service's rule evaluator.
import { z } from 'zod';
import { collectionSchema, subscribedSkuSchema } from '../contract/graph.js';
import { Random } from '../simulator/random.js';
import { graphClient, type OperatorClient } from '../simulator/service.js';
import { E3, importAll } from './workloads.js';

/** Departments in turn: the rules select two of four, so each holds half the tenant. */
const DEPARTMENTS = ['D0', 'D1', 'D2', 'D3'] as const;
const FIRST_RULE = ['D0', 'D1'];
const SECOND_RULE = ['D1', 'D2'];

const ruleText = (departments: readonly string[]) =>
  `user.department -in [${departments.map((d) => `"${d}"`).join(',')}]`;

export interface RuleTenant {
  readonly tenantId: string;
  readonly token: string;
  readonly groupId: string;
  /** Every user's department, as the bench set it. */
  readonly departments: Map<string, string>;
}

/**
 * Prepares (not timed) a tenant of `users` users in four departments and a dynamic group carrying E3 whose rule
 * selects half of them, evaluated to the end.
 */
export async function prepareRuleTenant(
  operator: OperatorClient,
  users: number,
  seed: number,
): Promise<RuleTenant> {
  const random = new Random(seed);
  const tenant = await operator.createTenant(`Bench rules ${users}`, 'US');
  await operator.setUnits(tenant.id, 'ENTERPRISEPACK', users);
  const departments = new Map<string, string>();
  const lines: unknown[] = [];
  for (let i = 0; i < users; i++) {
    const id = random.uuid();
    const department = DEPARTMENTS[i % DEPARTMENTS.length] ?? 'D0';
    departments.set(id, department);
    lines.push({
      type: 'user',
      id,
      userPrincipalName: `user${i}@rules.bench.test`,
      displayName: `User ${i}`,
      usageLocation: 'US',
      department,
    });
  }
  await importAll(operator, tenant.id, lines);
  const token = await operator.token(tenant.id);
  const graph = graphClient(operator.baseUrl, token);
  const group = z.object({ id: z.string() }).parse(
    await graph.api('/groups').post({
      displayName: 'Half the tenant',
      mailNickname: 'half',
      mailEnabled: false,
      securityEnabled: true,
      groupTypes: ['DynamicMembership'],
      membershipRule: ruleText(FIRST_RULE),
      membershipRuleProcessingState: 'On',
    }),
  );
  await graph
    .api(`/groups/${group.id}/assignLicense`)
    .post({ addLicenses: [{ skuId: E3, disabledPlans: [] }], removeLicenses: [] });
  await operator.waitIdle(tenant.id, 60 * 60_000);
  return { tenantId: tenant.id, token, groupId: group.id, departments };
}

/**
 * B6: the rule changes from two departments to two others, one shared — half the users leave or join — timed from
 * the PATCH to the tenant idle: every membership and license moved, the evaluation Succeeded.
 */
export async function runRuleChange(
  operator: OperatorClient,
  prepared: RuleTenant,
): Promise<{ seconds: number }> {
  const graph = graphClient(operator.baseUrl, prepared.token);
  const started = Date.now();
  await graph.api(`/groups/${prepared.groupId}`).patch({ membershipRule: ruleText(SECOND_RULE) });
  await operator.waitIdle(prepared.tenantId, 60 * 60_000);
  return { seconds: (Date.now() - started) / 1000 };
}

const userLicenses = z.object({
  id: z.string(),
  licenseAssignmentStates: z.array(
    z.object({ skuId: z.string(), assignedByGroup: z.string().nullable(), state: z.string() }),
  ),
});

/**
 * What is wrong with the tenant after B6/B7, judged from the bench's own departments: the group's members are the
 * users whose department the current rule names, each holds E3 from the group, nobody else does, and E3's
 * consumedUnits counts exactly them.
 */
export async function ruleDifferences(operator: OperatorClient, prepared: RuleTenant): Promise<string[]> {
  const graph = graphClient(operator.baseUrl, prepared.token);
  const wanted = new Set(
    [...prepared.departments].filter(([, d]) => SECOND_RULE.includes(d)).map(([id]) => id),
  );
  const differences: string[] = [];
  const members = new Set<string>();
  const memberPage = collectionSchema(z.object({ id: z.string() }));
  let page = memberPage.parse(await graph.api(`/groups/${prepared.groupId}/members`).top(999).get());
  for (;;) {
    for (const m of page.value) members.add(m.id);
    const next = page['@odata.nextLink'];
    if (next === undefined) break;
    page = memberPage.parse(await graph.api(next).get());
  }
  for (const id of wanted)
    if (!members.has(id)) differences.push(`user ${id} matches the rule, not a member`);
  for (const id of members) if (!wanted.has(id)) differences.push(`user ${id} is a member, matches no rule`);

  const users = collectionSchema(userLicenses);
  let userPage = users.parse(await graph.api('/users').select('id,licenseAssignmentStates').top(999).get());
  for (;;) {
    for (const user of userPage.value) {
      const held = user.licenseAssignmentStates
        .filter((s) => s.skuId === E3 && s.state === 'Active')
        .map((s) => s.assignedByGroup);
      const expected = wanted.has(user.id) ? [prepared.groupId] : [];
      if (held.join() !== expected.join())
        differences.push(`user ${user.id} holds E3 from [${held.join()}], expected [${expected.join()}]`);
    }
    const next = userPage['@odata.nextLink'];
    if (next === undefined) break;
    userPage = users.parse(await graph.api(next).get());
  }
  const skus = collectionSchema(subscribedSkuSchema).parse(await graph.api('/subscribedSkus').get()).value;
  const consumed = skus.find((s) => s.skuId === E3)?.consumedUnits;
  if (consumed !== wanted.size) differences.push(`E3 consumedUnits ${consumed}, expected ${wanted.size}`);
  return differences;
}

/**
 * B7: `changes` users in sequence, at idle, each moved across the rule (into a department it selects, or out of
 * one); each timed from the PATCH to the moment a read shows the license following.
 */
export async function runAttributeChanges(
  operator: OperatorClient,
  prepared: RuleTenant,
  changes: number,
  seed: number,
): Promise<{ latencies: number[] }> {
  const graph = graphClient(operator.baseUrl, prepared.token);
  const random = new Random(seed);
  const ids = [...prepared.departments.keys()];
  const latencies: number[] = [];
  for (let i = 0; i < changes; i++) {
    const id = random.pick(ids);
    const before = prepared.departments.get(id) ?? 'D0';
    const joins = !SECOND_RULE.includes(before);
    const after = joins ? random.pick(SECOND_RULE) : random.pick(['D0', 'D3']);
    const started = performance.now();
    await graph.api(`/users/${id}`).patch({ department: after });
    for (;;) {
      const user = userLicenses.parse(
        await graph.api(`/users/${id}`).select('id,licenseAssignmentStates').get(),
      );
      const holds = user.licenseAssignmentStates.some((s) => s.skuId === E3 && s.state === 'Active');
      if (holds === joins) break;
      if (performance.now() - started > 60_000)
        throw new Error(`B7: user ${id}'s license did not follow in 60 s`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    latencies.push(performance.now() - started);
    prepared.departments.set(id, after);
  }
  return { latencies };
}
