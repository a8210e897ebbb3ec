// Members imported into a group that already carries licenses are licensed, whether the import names the group
// in a user's `memberOf` or in a `member` line.
import { describe, expect, it } from 'vitest';
import { processingDetails } from '../../src/application/group-licensing.js';
import { importDirectory } from '../../src/application/import.js';
import { readPrincipal } from '../../src/storage/principal-reads.js';
import {
  buy,
  importUsers,
  invariantViolations,
  licensedGroup,
  newTenant,
  usePipeline,
  waitIdle,
} from './support.js';

const pipeline = usePipeline();

describe('an import into a group that already carries licenses', () => {
  it('licenses users imported with the group in their memberOf', async () => {
    const { ctx } = pipeline;
    const tenantId = await newTenant(ctx);
    const e3 = await buy(ctx, tenantId, 'ENTERPRISEPACK', 100);
    const { group } = await licensedGroup(ctx, tenantId, 'Sales', e3, 10);

    const newcomers = await importUsers(ctx, tenantId, 5, { memberOf: [group.id] });
    await waitIdle(ctx, tenantId);

    for (const id of newcomers) {
      const record = await readPrincipal(ctx.tables, tenantId, id);
      expect(record?.entries.map((e) => [e.skuId, e.assignedByGroup, e.state])).toEqual([
        [e3, group.id, 'Active'],
      ]);
    }
    expect(await processingDetails(ctx, tenantId, group.id)).toMatchObject({
      membersTotal: 15,
      membersSucceeded: 15,
      membersFailed: 0,
    });
    expect(await invariantViolations(ctx, tenantId)).toEqual([]);
  });

  it('licenses existing users added to it by member lines', async () => {
    const { ctx } = pipeline;
    const tenantId = await newTenant(ctx);
    const e3 = await buy(ctx, tenantId, 'ENTERPRISEPACK', 100);
    const { group } = await licensedGroup(ctx, tenantId, 'Support', e3, 3);
    const others = await importUsers(ctx, tenantId, 4);

    async function* lines() {
      let line = 0;
      for (const memberId of others)
        yield { line: ++line, value: { type: 'member', groupId: group.id, memberId } };
    }
    expect((await importDirectory(ctx, tenantId, lines())).errors).toEqual([]);
    await waitIdle(ctx, tenantId);

    for (const id of others) {
      const record = await readPrincipal(ctx.tables, tenantId, id);
      expect(record?.entries.map((e) => [e.assignedByGroup, e.state])).toEqual([[group.id, 'Active']]);
    }
    expect(await invariantViolations(ctx, tenantId)).toEqual([]);
  });
});
