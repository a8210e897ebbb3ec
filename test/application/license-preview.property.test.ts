// The license preview (src/application/license-preview.ts) against the real thing, over generated tenants: small
// tenants of real catalog SKUs (conflicting Exchange and SharePoint plans, dependent plans, few seats) are built
// through the use cases — members join, groups are licensed, users get direct licenses, seats are lowered — then a
// group's license change is previewed and applied, and what the preview predicted is compared with what the
// applied change did to the stored principals and seat counters. The outcome is read from the rows, never from the
// preview's code.
//
// Healing is the one thing the preview cannot know (docs/api.md): seats the change gives back go to the tenant's
// waiting room after the job, first come first served, to members of any group. So the prediction is compared with
// the state once the job's pages ran (heal messages held back), and then the heals run: under manual healing they
// change nothing, under automatic healing they only move principals that were waiting.
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addMember } from '../../src/application/directory.js';
import { LicensingRefusedError } from '../../src/application/errors.js';
import { assignGroupLicenses } from '../../src/application/group-licensing.js';
import {
  type LicenseAssignmentPreview,
  previewGroupLicenses,
} from '../../src/application/license-preview.js';
import type { PrincipalRecord } from '../../src/application/records.js';
import { setSubscription } from '../../src/application/tenants.js';
import { assignUserLicenses } from '../../src/application/user-licensing.js';
import type { AssignLicenseRequest, LicenseEntry } from '../../src/engine/index.js';
import { type InMemoryContext, inMemoryContext } from '../support/in-memory-context.js';
import { groupRecord, principalRecord, tenantRecord } from '../support/records.js';

const RUNS = { seed: 20_260_315, numRuns: 150 };

/**
 * E3 and E5 share Exchange and SharePoint Enterprise, which exclude E1's Standard and the kiosk's Deskless plans;
 * Teams audio conferencing (MCOMEETADV) and Workplace Analytics need a plan of another SKU, so a direct one leans on
 * a group's prerequisite and a removal can be held in DependencyViolation. E5's phone system plans are prohibited
 * in CN.
 */
const POOL = [
  'ENTERPRISEPACK',
  'STANDARDPACK',
  'ENTERPRISEPREMIUM',
  'DESKLESSPACK',
  'EMS',
  'MCOMEETADV',
  'WORKPLACE_ANALYTICS',
] as const;
const GROUPS = 3;
/** Fixed ids: a group's id orders its entries and breaks ties between sources. */
const GROUP_IDS = [0, 1, 2].map((g) => `00000000-0000-4000-8000-00000000a00${g}`);
/** The group whose license change is previewed; the others are sources of other licenses. */
const TARGET = 0;

/** A SKU of the pool, the conflicting suites most often, and which of its plans are disabled: none (most often), its
 * mailbox, or its mailbox and its site. */
const licenseChoice = fc.record({
  sku: fc.constantFrom(0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 5, 5, 6),
  disabled: fc.constantFrom(0, 0, 0, 1, 2),
});
/** A direct license: mostly audio conferencing, which needs a plan the user holds from a group (so its removal holds). */
const directChoice = fc.record({ sku: fc.constantFrom(5, 5, 5, 6, 4, 1, 0), disabled: fc.constant(0) });
const licenseChoices = fc.uniqueArray(licenseChoice, { maxLength: 3, selector: (c) => c.sku });

const step = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant('join' as const), user: fc.nat(), group: fc.nat(GROUPS - 1) }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('license' as const),
      group: fc.nat(GROUPS - 1),
      add: licenseChoices,
      remove: fc.uniqueArray(fc.nat(POOL.length - 1), { maxLength: 2 }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant('direct' as const), user: fc.nat(), license: licenseChoice }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('seats' as const),
      sku: fc.nat(POOL.length - 1),
      seats: fc.nat(4),
    }),
  },
);
type Step = typeof step extends fc.Arbitrary<infer T> ? T : never;

/**
 * A tenant: its users (`users` of them), groups, licenses and seats, built by setup steps; and the previewed change.
 * `pageMembers` sets the members per job page (LICENSE_PAGE_MEMBERS): undefined is the default, one page here.
 */
const shapeOf = (pageMembers: string | undefined, users: { minLength: number; maxLength: number }) =>
  fc.record({
    healing: fc.constantFrom('automatic' as const, 'manual' as const),
    pageMembers: fc.constant(pageMembers),
    seats: fc.array(fc.nat(4), { minLength: POOL.length, maxLength: POOL.length }),
    users: fc.uniqueArray(
      fc.record({
        // Generated, so a failure replays with the same ids (a member's id decides its shard, and so its page).
        id: fc.uuid({ version: 4 }).filter((id) => !GROUP_IDS.includes(id)),
        // Group sources inherit the tenant's US when a user has none; a direct license needs the user's own.
        usageLocation: fc.constantFrom<string | null>('US', 'US', null, 'CN'),
        // Most users are members of the previewed group, many of another licensed group too, joining in any order.
        groups: fc
          .tuple(fc.nat(3), fc.nat(1), fc.nat(2), fc.shuffledSubarray([0, 1, 2], { minLength: 3 }))
          .map(([g0, g1, g2, order]) => order.filter((g) => [g0 > 0, g1 > 0, g2 > 0][g])),
        direct: fc.uniqueArray(directChoice, { maxLength: 2, selector: (c) => c.sku }),
      }),
      { ...users, selector: (u) => u.id },
    ),
    /** Each group's licenses once its first members joined; the users' direct licenses come after. */
    licenses: fc.tuple(
      fc.uniqueArray(licenseChoice, { minLength: 1, maxLength: 2, selector: (c) => c.sku }),
      licenseChoices,
      licenseChoices,
    ),
    steps: fc.array(step, { maxLength: 10 }),
    /** The previewed change: SKUs to add, and to remove (of the pool, and of the group's licenses by a bit mask). */
    change: fc.record({
      add: licenseChoices,
      remove: fc.uniqueArray(fc.nat(POOL.length - 1), { maxLength: 2 }),
      removeHeld: fc.nat(7),
    }),
  });

/** Mostly small groups of one job page; some of a dozen or more members on pages of 10, so two pages or more. */
const tenantShape = fc.oneof(
  { weight: 3, arbitrary: shapeOf(undefined, { minLength: 2, maxLength: 10 }) },
  { weight: 1, arbitrary: shapeOf('10', { minLength: 11, maxLength: 18 }) },
);
type TenantShape = typeof tenantShape extends fc.Arbitrary<infer T> ? T : never;

describe('previewLicenseAssignment over generated tenants', () => {
  it('predicts the seats, the errors and the other licenses that the applied change ends with', async () => {
    await fc.assert(
      fc.asyncProperty(tenantShape, async (shape) => {
        const pageMembers = process.env.LICENSE_PAGE_MEMBERS;
        try {
          if (shape.pageMembers === undefined) delete process.env.LICENSE_PAGE_MEMBERS;
          else process.env.LICENSE_PAGE_MEMBERS = shape.pageMembers;
          await checkPreview(shape);
        } finally {
          if (pageMembers === undefined) delete process.env.LICENSE_PAGE_MEMBERS;
          else process.env.LICENSE_PAGE_MEMBERS = pageMembers;
        }
      }),
      RUNS,
    );
  }, 60_000);
});

async function checkPreview(shape: TenantShape): Promise<void> {
  const tenant = await buildTenant(shape);
  const { ctx, tenantId, groupIds, userIds } = tenant;
  const groupId = groupIds[TARGET] ?? '';
  const held = (await ctx.tenants.partition(tenantId))?.groupLicenses.get(groupId)?.licenses ?? [];
  const removeHeld = held
    .filter((_, i) => (shape.change.removeHeld >> i) & 1)
    .map((l) => (POOL as readonly string[]).indexOf(ctx.catalog.sku(l.skuId)?.skuPartNumber ?? ''));
  const request = requestOf(ctx, shape.change.add, [...new Set([...shape.change.remove, ...removeHeld])]);

  const before = await principals(ctx, tenantId, userIds);
  const consumedBefore = await consumed(ctx, tenantId);
  let preview: LicenseAssignmentPreview;
  try {
    preview = await previewGroupLicenses(ctx, tenantId, groupId, request);
  } catch (refusal: unknown) {
    // Refused as assignLicense refuses it: the same failure, and nothing changes.
    expect(refusal).toBeInstanceOf(LicensingRefusedError);
    await expect(assignGroupLicenses(ctx, tenantId, groupId, request)).rejects.toEqual(refusal);
    return;
  }
  // The preview writes nothing.
  expect(await principals(ctx, tenantId, userIds)).toEqual(before);
  expect(await consumed(ctx, tenantId)).toEqual(consumedBefore);

  await assignGroupLicenses(ctx, tenantId, groupId, request);
  await ctx.work({ holdBack: ['heal'] });
  const after = await principals(ctx, tenantId, userIds);
  const consumedAfter = await consumed(ctx, tenantId);

  const members = new Set(
    (await ctx.members.listRange(tenantId, groupId)).filter((m) => m.kind === 'user').map((m) => m.id),
  );
  expect(preview.membersEvaluated).toBe(members.size);

  // Seats, per SKU, from the rows: who holds a seat of it before and after, who waits for it from the group.
  const taken = new Map<string, number>();
  const released = new Map<string, number>();
  const waiting = new Map<string, number>();
  const count = (tally: Map<string, number>, skuId: string) => tally.set(skuId, (tally.get(skuId) ?? 0) + 1);
  for (const id of userIds) {
    const held = seatsHeld(before.get(id));
    const holds = seatsHeld(after.get(id));
    for (const skuId of holds) if (!held.has(skuId)) count(taken, skuId);
    for (const skuId of held) if (!holds.has(skuId)) count(released, skuId);
    for (const entry of after.get(id)?.entries ?? [])
      if (entry.assignedByGroup === groupId && entry.error === 'CountViolation') count(waiting, entry.skuId);
  }
  // Only the group's members changed.
  for (const id of userIds) if (!members.has(id)) expect(after.get(id)).toEqual(before.get(id));
  const partition = await ctx.tenants.partition(tenantId);
  const skuIds = new Set([...taken.keys(), ...released.keys(), ...waiting.keys()]);
  for (const sku of preview.skus) skuIds.add(sku.skuId);
  for (const skuId of skuIds) {
    const predicted = preview.skus.find((s) => s.skuId === skuId);
    const short = waiting.get(skuId) ?? 0;
    const observed = {
      seatsNeeded: (taken.get(skuId) ?? 0) + short,
      seatsReleased: released.get(skuId) ?? 0,
      seatsShort: short,
    };
    expect({ skuId, ...pick(predicted) }, shapeText(shape)).toEqual({ skuId, ...observed });
    // The counters moved by exactly what the rows say.
    expect((consumedAfter.get(skuId) ?? 0) - (consumedBefore.get(skuId) ?? 0)).toBe(
      (taken.get(skuId) ?? 0) - (released.get(skuId) ?? 0),
    );
    const sub = partition?.subscriptions.get(skuId);
    const total = sub ? sub.prepaidUnits.enabled + sub.prepaidUnits.warning : 0;
    expect(predicted?.seatsAvailable).toBe(Math.max(0, total - (consumedBefore.get(skuId) ?? 0)));
  }

  // Members whose entries from the group are in error, by error type (a member counts once per type).
  const errors = new Map<string, Set<string>>();
  const othersChanged = new Set<string>();
  for (const id of members) {
    for (const entry of after.get(id)?.entries ?? []) {
      if (entry.assignedByGroup !== groupId || entry.error === 'None') continue;
      errors.set(entry.error, (errors.get(entry.error) ?? new Set()).add(id));
    }
    if (otherSources(before.get(id), groupId) !== otherSources(after.get(id), groupId)) othersChanged.add(id);
  }
  const counts = (tallies: Iterable<[string, { count: number }]>) =>
    Object.fromEntries([...tallies].map(([error, t]) => [error, t.count]));
  expect(counts(Object.entries(preview.errors)), shapeText(shape)).toEqual(
    counts([...errors].map(([error, ids]) => [error, { count: ids.size }])),
  );
  for (const [error, outcome] of Object.entries(preview.errors)) {
    expect(outcome.sample.length).toBe(Math.min(5, outcome.count));
    for (const id of outcome.sample) expect(errors.get(error)?.has(id), `${id} in ${error}`).toBe(true);
  }
  expect(preview.otherLicensesChanged.count, shapeText(shape)).toBe(othersChanged.size);
  for (const id of preview.otherLicensesChanged.sample) expect(othersChanged.has(id)).toBe(true);

  // Then the heals the change woke: nothing moves under manual healing; under automatic healing only principals
  // that were waiting for a seat move, which the preview cannot foresee.
  await ctx.work();
  const healed = await principals(ctx, tenantId, userIds);
  for (const id of userIds) {
    if (shape.healing === 'manual' || !waits(after.get(id))) expect(healed.get(id)).toEqual(after.get(id));
  }
}

interface BuiltTenant {
  readonly ctx: InMemoryContext;
  readonly tenantId: string;
  readonly groupIds: readonly string[];
  readonly userIds: readonly string[];
}

/** The tenant of `shape`, built through the use cases, every step's work run to its end. */
async function buildTenant(shape: TenantShape): Promise<BuiltTenant> {
  // A clock that moves on at every reading, so arrivals, waits and grants are ordered as they happened.
  let clock = Date.parse('2026-03-01T09:00:00.000Z');
  const ctx = inMemoryContext({
    now: () => {
      clock += 10;
      return new Date(clock);
    },
  });
  const tenantId = randomUUID();
  await ctx.tenants.create(tenantRecord(tenantId, { licenseErrorHealing: shape.healing }));
  for (const [i, partNumber] of POOL.entries())
    await setSubscription(ctx, tenantId, partNumber, units(shape.seats[i] ?? 0));
  const groupIds: string[] = [];
  for (let g = 0; g < GROUPS; g++) {
    const id = GROUP_IDS[g] ?? '';
    groupIds.push((await ctx.directory.createGroup({ ...groupRecord(tenantId, `Group ${g}`), id })).id);
  }
  const userIds: string[] = [];
  for (const [i, user] of shape.users.entries()) {
    const record = principalRecord(tenantId, {
      id: user.id,
      displayName: `User ${i}`,
      usageLocation: user.usageLocation,
    });
    await ctx.directory.createPrincipal(record);
    userIds.push(record.id);
  }
  const join = async (user: number, group: number) => {
    const userId = userIds[user % userIds.length] ?? '';
    const groupId = groupIds[group] ?? '';
    if (!(await ctx.members.has(tenantId, groupId, userId))) await addMember(ctx, tenantId, groupId, userId);
  };
  for (const [i, user] of shape.users.entries()) for (const group of user.groups) await join(i, group);
  for (const [g, add] of shape.licenses.entries())
    await applyStep(ctx, tenantId, groupIds, userIds, { kind: 'license', group: g, add, remove: [] }, join);
  await ctx.work();
  for (const [i, user] of shape.users.entries())
    for (const license of user.direct)
      await applyStep(ctx, tenantId, groupIds, userIds, { kind: 'direct', user: i, license }, join);
  await ctx.work();

  for (const s of shape.steps) {
    await applyStep(ctx, tenantId, groupIds, userIds, s, join);
    await ctx.work();
  }
  return { ctx, tenantId, groupIds, userIds };
}

async function applyStep(
  ctx: InMemoryContext,
  tenantId: string,
  groupIds: readonly string[],
  userIds: readonly string[],
  s: Step,
  join: (user: number, group: number) => Promise<void>,
): Promise<void> {
  // Requests the rules refuse (a missing prerequisite, no seat for a direct license, …) are part of the game.
  const refusedIsFine = (error: unknown) => {
    if (!(error instanceof LicensingRefusedError)) throw error;
  };
  if (s.kind === 'join') await join(s.user, s.group);
  else if (s.kind === 'license')
    await assignGroupLicenses(ctx, tenantId, groupIds[s.group] ?? '', requestOf(ctx, s.add, s.remove)).catch(
      refusedIsFine,
    );
  else if (s.kind === 'direct')
    await assignUserLicenses(
      ctx,
      tenantId,
      userIds[s.user % userIds.length] ?? '',
      requestOf(ctx, [s.license], []),
    ).catch(refusedIsFine);
  else await setSubscription(ctx, tenantId, POOL[s.sku] ?? '', units(s.seats));
}

/** An assignLicense body: the SKUs of the pool to add, with the plans each disables, and those to remove. */
function requestOf(
  ctx: InMemoryContext,
  add: readonly { sku: number; disabled: number }[],
  remove: readonly number[],
): AssignLicenseRequest {
  const skuOf = (i: number) => ctx.catalog.skuByPartNumber(POOL[i] ?? '');
  const addLicenses = add.map(({ sku: i, disabled }) => {
    const sku = skuOf(i);
    if (!sku) throw new Error(`${POOL[i]} is not in the catalog`);
    const names = disabled === 0 ? [] : disabled === 1 ? ['EXCHANGE_S_'] : ['EXCHANGE_S_', 'SHAREPOINT'];
    const disabledPlans = sku.planIds.filter((id) =>
      names.some((prefix) => sku.planNames.get(id)?.startsWith(prefix)),
    );
    return { skuId: sku.skuId, disabledPlans };
  });
  const removeLicenses = remove
    .filter((i) => !add.some((a) => a.sku === i))
    .map((i) => skuOf(i)?.skuId ?? '');
  return { addLicenses, removeLicenses };
}

async function principals(
  ctx: InMemoryContext,
  tenantId: string,
  ids: readonly string[],
): Promise<Map<string, PrincipalRecord>> {
  // Without ETags: a row rewritten with the same content is the same principal.
  const rows = await ctx.directory.principals(tenantId, ids);
  return new Map([...rows].map(([id, { etag: _, ...record }]) => [id, record as PrincipalRecord]));
}

async function consumed(ctx: InMemoryContext, tenantId: string): Promise<Map<string, number>> {
  const partition = await ctx.tenants.partition(tenantId);
  return new Map([...(partition?.subscriptions.values() ?? [])].map((s) => [s.skuId, s.consumedUnits]));
}

/**
 * The SKUs a principal's entries take a seat of: a granted entry does, and so does one kept in DependencyViolation
 * (rules.md §3: the seat stays consumed); one seat per SKU however many sources give it.
 */
function seatsHeld(record: PrincipalRecord | undefined): Set<string> {
  const held = new Set<string>();
  for (const e of record?.entries ?? [])
    if (e.state === 'Active' || (e.state === 'Error' && e.error === 'DependencyViolation')) held.add(e.skuId);
  return held;
}

function waits(record: PrincipalRecord | undefined): boolean {
  return (record?.entries ?? []).some((e) => e.error === 'CountViolation');
}

/** The entries from sources other than the group, as Graph shows them (timestamps aside), comparable as text. */
function otherSources(record: PrincipalRecord | undefined, groupId: string): string {
  const shown = (e: LicenseEntry) =>
    [e.assignedByGroup ?? 'direct', e.skuId, e.state, e.error, [...e.disabledPlans].sort().join(',')].join(
      '|',
    );
  return (record?.entries ?? [])
    .filter((e) => e.assignedByGroup !== groupId)
    .map(shown)
    .sort()
    .join('\n');
}

function pick(sku: { seatsNeeded: number; seatsReleased: number; seatsShort: number } | undefined) {
  return {
    seatsNeeded: sku?.seatsNeeded ?? 0,
    seatsReleased: sku?.seatsReleased ?? 0,
    seatsShort: sku?.seatsShort ?? 0,
  };
}

/** The generated tenant, to read a failure by. */
function shapeText(shape: TenantShape): string {
  return JSON.stringify(shape);
}

function units(enabled: number) {
  return { enabled, warning: 0, suspended: 0, lockedOut: 0 };
}
