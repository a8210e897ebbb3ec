// B8 (performance.md): the what-if of a group license change on a 100,000-member group, timed against listing the
// same group's members through Graph. The target is the preview in at most twice the listing's time. The bench
// checks the preview's figures itself, from the seats it bought and the members it imported.
import { z } from 'zod';
import { collectionSchema, licenseAssignmentPreviewSchema } from '../contract/graph.js';
import { Random } from '../simulator/random.js';
import { graphClient, type OperatorClient } from '../simulator/service.js';
import { E3, importAll } from './workloads.js';

export interface PreviewTenant {
  readonly tenantId: string;
  readonly token: string;
  readonly groupId: string;
  readonly members: number;
  /** E3 seats bought: a tenth fewer than members, so the preview has members to predict in CountViolation. */
  readonly seats: number;
}

/** Prepares (not timed) a tenant with one unlicensed security group of `members` users, through the import. */
export async function preparePreviewTenant(
  operator: OperatorClient,
  members: number,
  seed: number,
): Promise<PreviewTenant> {
  const random = new Random(seed);
  const tenant = await operator.createTenant(`Bench preview ${members}`, 'US');
  const seats = members - Math.floor(members / 10);
  await operator.setUnits(tenant.id, 'ENTERPRISEPACK', seats);
  const groupId = random.uuid();
  const lines: unknown[] = [{ type: 'group', id: groupId, displayName: 'Everyone', securityEnabled: true }];
  for (let i = 0; i < members; i++) {
    lines.push({
      type: 'user',
      id: random.uuid(),
      userPrincipalName: `user${i}@preview.bench.test`,
      displayName: `User ${i}`,
      usageLocation: 'US',
      memberOf: [groupId],
    });
  }
  await importAll(operator, tenant.id, lines);
  await operator.waitIdle(tenant.id, 30 * 60_000);
  return { tenantId: tenant.id, token: await operator.token(tenant.id), groupId, members, seats };
}

/** B8's baseline: every member of the group through `GET /groups/{id}/members?$top=999`, following nextLinks. */
export async function runMemberListing(
  operator: OperatorClient,
  prepared: PreviewTenant,
): Promise<{ seconds: number; members: number }> {
  const graph = graphClient(operator.baseUrl, prepared.token);
  const memberPage = collectionSchema(z.object({ id: z.string() }));
  const started = performance.now();
  let members = 0;
  let page = memberPage.parse(await graph.api(`/groups/${prepared.groupId}/members`).top(999).get());
  for (;;) {
    members += page.value.length;
    const next = page['@odata.nextLink'];
    if (next === undefined) break;
    page = memberPage.parse(await graph.api(next).get());
  }
  return { seconds: (performance.now() - started) / 1000, members };
}

/**
 * B8: `POST /groups/{id}/previewLicenseAssignment` adding E3 to the group. Returns its time and what is wrong with
 * its answer: every member evaluated, each needing an E3 seat, those beyond the seats bought short.
 */
export async function runPreview(
  operator: OperatorClient,
  prepared: PreviewTenant,
): Promise<{ seconds: number; differences: string[] }> {
  const graph = graphClient(operator.baseUrl, prepared.token);
  const started = performance.now();
  const preview = licenseAssignmentPreviewSchema.parse(
    await graph
      .api(`/groups/${prepared.groupId}/previewLicenseAssignment`)
      .post({ addLicenses: [{ skuId: E3, disabledPlans: [] }], removeLicenses: [] }),
  );
  const seconds = (performance.now() - started) / 1000;
  const short = prepared.members - prepared.seats;
  const e3 = preview.skus.find((s) => s.skuId === E3);
  const differences: string[] = [];
  const expect = (what: string, got: number | undefined, wanted: number) => {
    if (got !== wanted) differences.push(`${what}: ${got}, expected ${wanted}`);
  };
  expect('membersEvaluated', preview.membersEvaluated, prepared.members);
  expect('E3 seatsNeeded', e3?.seatsNeeded, prepared.members);
  expect('E3 seatsAvailable', e3?.seatsAvailable, prepared.seats);
  expect('E3 seatsShort', e3?.seatsShort, short);
  expect('CountViolation members', preview.errors.CountViolation?.count ?? 0, short);
  return { seconds, differences };
}
