// The directory import (src/application/import.ts) into a group that already carries licenses, on the in-memory
// ports: users imported with the group in their memberOf and existing users named by `member` lines are licensed —
// the former by the reprocess the import owes the group (its outbox row), the latter as their rows are written —
// and a bad line is reported without writing anything.
import { describe, expect, it } from 'vitest';
import { importDirectory } from '../../src/application/import.js';
import { inMemoryContext, licensingTenant } from '../support/in-memory-context.js';

/** NDJSON as the import endpoint reads it: one object per line, numbered from 1. */
async function* ndjson(text: string): AsyncIterable<{ line: number; value: unknown }> {
  let line = 0;
  for (const raw of text.split('\n')) {
    line++;
    if (raw.trim() !== '') yield { line, value: JSON.parse(raw) };
  }
}

describe('an import into a licensed group', () => {
  it('licenses the users it brings into the group, inline or by member lines, and reports bad lines', async () => {
    const ctx = inMemoryContext();
    const { tenantId, group, user, license, states, consumed } = await licensingTenant(ctx, { seats: 10 });
    const member = await user('Adele');
    const existing = await user('Alex', false);
    await license();
    const ids = [
      '0b6e9f4e-6a4b-4f0e-9a44-6f4f1b1c2d01',
      '0b6e9f4e-6a4b-4f0e-9a44-6f4f1b1c2d02',
      '0b6e9f4e-6a4b-4f0e-9a44-6f4f1b1c2d03',
    ];
    const text = [
      ...ids.map((id, i) =>
        JSON.stringify({
          type: 'user',
          id,
          userPrincipalName: `imported${i}@contoso.test`,
          displayName: `Imported ${i}`,
          usageLocation: 'us',
          memberOf: [group.id],
        }),
      ),
      JSON.stringify({ type: 'member', groupId: group.id, memberId: existing }),
      JSON.stringify({ type: 'user', displayName: 'No name' }),
    ].join('\n');

    const result = await importDirectory(ctx, tenantId, ndjson(text));
    await ctx.work();

    expect(result).toMatchObject({ users: 3, members: 4 });
    expect(result.errors.map((e) => [e.line, e.code])).toEqual([[5, 'InvalidLine']]);
    expect(await states([member, existing, ...ids])).toEqual(
      [member, existing, ...ids].map((id) => [id, 'Active', 'None']),
    );
    expect(await consumed()).toBe(5);
    expect(await ctx.members.count(tenantId, group.id)).toBe(5);
    expect(await ctx.licensing.groupCounts(tenantId, group.id)).toEqual({
      succeeded: 5,
      failed: 0,
      errors: {},
    });
    // What the import owed the group (its reprocess) is settled, and the job it queued has completed.
    expect(await ctx.outbox.pending(tenantId)).toBe(0);
    const licensing = (await ctx.tenants.partition(tenantId))?.groupLicenses.get(group.id);
    expect(licensing?.processingState).toBe('ProcessingComplete');
  });
});
