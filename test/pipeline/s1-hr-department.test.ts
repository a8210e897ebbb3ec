import { describe, expect, it } from 'vitest';
import { createGroup } from '../../src/application/directory.js';
import { assignGroupLicenses, processingDetails } from '../../src/application/group-licensing.js';
import { listSubscriptions } from '../../src/application/tenants.js';
import { readPrincipal } from '../../src/storage/principal-reads.js';
import {
  auditRecords,
  buy,
  importUsers,
  invariantViolations,
  newTenant,
  planId,
  skuId,
  usePipeline,
  waitIdle,
} from './support.js';

const pipeline = usePipeline();

describe('S1 — HR Department (seed 004), through the queues', () => {
  it('licenses 1,000 members with E3 (Yammer off) and EMS in one request', async () => {
    const { ctx } = pipeline;
    const tenantId = await newTenant(ctx, { country: 'US' });
    const e3 = await buy(ctx, tenantId, 'ENTERPRISEPACK', 1000);
    const ems = await buy(ctx, tenantId, 'EMS', 1000);
    const hr = await createGroup(ctx, tenantId, {
      displayName: 'HR Department',
      mailNickname: 'hr',
      securityEnabled: true,
      mailEnabled: false,
    });
    const users = await importUsers(ctx, tenantId, 1000, { memberOf: [hr.id] });
    const yammer = planId(ctx, 'ENTERPRISEPACK', 'YAMMER_ENTERPRISE');

    const assigned = await assignGroupLicenses(ctx, tenantId, hr.id, {
      addLicenses: [
        { skuId: e3, disabledPlans: [yammer] },
        { skuId: ems, disabledPlans: [] },
      ],
      removeLicenses: [],
    });
    expect(assigned.licensing?.processingState).toBe('QueuedForProcessing');
    await waitIdle(ctx, tenantId);

    const details = await processingDetails(ctx, tenantId, hr.id);
    expect(details).toMatchObject({
      state: 'ProcessingComplete',
      status: 'allLicensesAssigned',
      membersSucceeded: 1000,
      membersFailed: 0,
    });
    const subs = await listSubscriptions(ctx, tenantId);
    expect(subs.map((s) => [s.skuId, s.consumedUnits])).toEqual(
      expect.arrayContaining([
        [e3, 1000],
        [ems, 1000],
      ]),
    );
    const sample = await readPrincipal(ctx.tables, tenantId, users[500] ?? '');
    expect(
      sample?.entries.map((e) => [e.skuId, e.assignedByGroup, e.state, e.error, e.disabledPlans]),
    ).toEqual(
      [
        [e3, hr.id, 'Active', 'None', [yammer]],
        [ems, hr.id, 'Active', 'None', []],
      ].sort((a, b) => (String(a[0]) < String(b[0]) ? -1 : 1)),
    );
    const audits = [];
    for await (const record of auditRecords(ctx, tenantId)) audits.push(record);
    const finish = audits.find(
      (a) => a.activityDisplayName === 'Finish applying group based license to users',
    );
    expect(audits.some((a) => a.activityDisplayName === 'Start applying group based license to users')).toBe(
      true,
    );
    expect(finish?.targetResources[0]?.modifiedProperties[0]?.newValue).toBe(
      'Users successfully assigned licenses: 1000, Users for whom license assignment failed: 0.',
    );
    expect(await invariantViolations(ctx, tenantId)).toEqual([]);
    void skuId;
  });
});
