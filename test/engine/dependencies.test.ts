import { describe, expect, it } from 'vitest';
import { licensingFailureText } from '../../src/api/wording.js';
import { evaluatePrincipal } from '../../src/engine/evaluate.js';
import { checkInvariants } from '../../src/engine/invariants.js';
import { memberOutcome } from '../../src/engine/status.js';
import {
  directSource,
  entry,
  evaluationContext,
  expectEntry,
  groupSource,
  observe,
  user,
  view,
} from './support/builders.js';
import { PLAN, SKU } from './support/catalog.js';
import { at, groupId, userId } from './support/ids.js';
import { add, newTenant, remove, securityGroup } from './support/tenant.js';

// rules.md §3 "Dependencies": a source whose removal would strip a prerequisite is kept in DependencyViolation.

const U = userId(1);
const G1 = groupId(1);
const G2 = groupId(2);
const G3 = groupId(3);

describe('a departed source that carries a needed prerequisite is held (evaluatePrincipal)', () => {
  it('leaving the group that gives CHAT to a user with MEET directly keeps that group’s entry in DependencyViolation with its seat', () => {
    const context = evaluationContext({ seats: { [SKU.CHATONLY]: 0, [SKU.MEETING]: 0 } });
    const result = evaluatePrincipal(
      context,
      user(U),
      [directSource(SKU.MEETING, at(2))],
      [entry(SKU.MEETING, null, 'Active'), entry(SKU.CHATONLY, G1, 'Active')],
    );
    expect(view(result.entries)).toEqual([
      expectEntry(SKU.MEETING, null, 'Active'),
      expectEntry(SKU.CHATONLY, G1, 'Error', 'DependencyViolation'),
    ]);
    expect(result.seatsReleased).toEqual([]);
    expect([...result.heldSkus].sort()).toEqual([SKU.MEETING, SKU.CHATONLY].sort());
    expect(context.budget.available(SKU.CHATONLY)).toBe(0);
  });

  it('the hold stays while it is still needed', () => {
    const previous = [
      entry(SKU.MEETING, null, 'Active'),
      entry(SKU.CHATONLY, G1, 'Error', 'DependencyViolation'),
    ];
    const result = evaluatePrincipal(
      evaluationContext(),
      user(U),
      [directSource(SKU.MEETING, at(2))],
      previous,
    );
    expect(view(result.entries)).toEqual(view(previous));
    expect(result.changed).toBe(false);
  });

  it('the hold goes, with its seat, once the dependent plan goes', () => {
    const context = evaluationContext({ seats: { [SKU.CHATONLY]: 0 } });
    const result = evaluatePrincipal(
      context,
      user(U),
      [],
      [entry(SKU.CHATONLY, G1, 'Error', 'DependencyViolation')],
    );
    expect(result.entries).toEqual([]);
    expect(result.seatsReleased).toEqual([SKU.CHATONLY]);
    expect(context.budget.available(SKU.CHATONLY)).toBe(1);
  });

  it('the hold goes once the prerequisite comes from another source', () => {
    const result = evaluatePrincipal(
      evaluationContext(),
      user(U),
      [directSource(SKU.MEETING, at(2)), groupSource(G2, at(3), [SKU.BASIC])],
      [entry(SKU.MEETING, null, 'Active'), entry(SKU.CHATONLY, G1, 'Error', 'DependencyViolation')],
    );
    expect(view(result.entries)).toEqual([
      expectEntry(SKU.MEETING, null, 'Active'),
      expectEntry(SKU.BASIC, G2, 'Active'),
    ]);
  });

  it('a departed source that was not granted is not held', () => {
    const result = evaluatePrincipal(
      evaluationContext(),
      user(U),
      [directSource(SKU.MEETING, at(2))],
      [entry(SKU.MEETING, null, 'Active'), entry(SKU.CHATONLY, G1, 'Error', 'CountViolation')],
    );
    expect(view(result.entries)).toEqual([expectEntry(SKU.MEETING, null, 'Active')]);
  });

  it('a departed source whose plans nobody needs is let go', () => {
    const result = evaluatePrincipal(
      evaluationContext(),
      user(U),
      [directSource(SKU.MEETING, at(2))],
      [
        entry(SKU.MEETING, null, 'Active'),
        entry(SKU.CHATONLY, G1, 'Active'),
        entry(SKU.SECURITY, G2, 'Active'),
      ],
    );
    expect(view(result.entries)).toEqual([
      expectEntry(SKU.MEETING, null, 'Active'),
      expectEntry(SKU.CHATONLY, G1, 'Error', 'DependencyViolation'),
    ]);
    expect(result.seatsReleased).toEqual([SKU.SECURITY]);
  });

  it('a held source whose own plan needs another departed source holds that one too', () => {
    // INSIGHTS (direct) needs a mailbox, which only G2's PREMIUM gives; PREMIUM's MEET (CHAT disabled there)
    // needs CHAT, which only G1 gives. Both groups went away.
    const result = evaluatePrincipal(
      evaluationContext(),
      user(U),
      [directSource(SKU.INSIGHTS, at(3))],
      [
        entry(SKU.INSIGHTS, null, 'Active'),
        entry(SKU.PREMIUM, G2, 'Active', 'None', { disabledPlans: [PLAN.CHAT] }),
        entry(SKU.CHATONLY, G1, 'Active'),
      ],
    );
    expect(view(result.entries)).toEqual([
      expectEntry(SKU.INSIGHTS, null, 'Active'),
      expectEntry(SKU.CHATONLY, G1, 'Error', 'DependencyViolation'),
      expectEntry(SKU.PREMIUM, G2, 'Error', 'DependencyViolation', [PLAN.CHAT]),
    ]);
  });

  it('a group member holding on for a dependency counts as failed for that group', () => {
    expect(memberOutcome([entry(SKU.CHATONLY, G1, 'Error', 'DependencyViolation')], G1)).toBe('failed');
  });
});

describe('dependencies through the reference tenant (S5 on the test catalog)', () => {
  function setUp() {
    const t = newTenant({
      seats: { [SKU.CHATONLY]: 5, [SKU.MEETING]: 5, [SKU.SECURITY]: 5, [SKU.BASIC]: 5 },
    });
    t.tenant.addPrincipal(user(U));
    for (const g of [G1, G2, G3]) t.tenant.addGroup(securityGroup(g));
    expect(t.tenant.assignGroupLicenses(G1, add([SKU.CHATONLY])).ok).toBe(true);
    t.clock.advance();
    t.tenant.addMember(G1, U, 'user');
    t.clock.advance();
    expect(t.tenant.assignUserLicenses(U, add([SKU.MEETING])).ok).toBe(true);
    t.clock.advance();
    return t;
  }

  it('a group carrying a dependent plan without its prerequisite is refused and keeps its licenses', () => {
    const t = setUp();
    const result = t.tenant.assignGroupLicenses(G2, add([SKU.MEETING]));
    expect(result.ok ? 'ok' : licensingFailureText(result.failure)).toBe(
      `License assignment failed because service plan ${PLAN.MEET} depends on the service plan(s) ${PLAN.CHAT}.`,
    );
    expect(t.tenant.groupLicenses(G2)).toEqual([]);
  });

  it('leaving the group holds its entry; removing the direct dependent plan lets it go and frees the seat', () => {
    const t = setUp();
    t.tenant.removeMember(G1, U);
    expect(view(t.tenant.entriesOf(U))).toEqual([
      expectEntry(SKU.MEETING, null, 'Active'),
      expectEntry(SKU.CHATONLY, G1, 'Error', 'DependencyViolation'),
    ]);
    expect(t.tenant.consumedUnits(SKU.CHATONLY)).toBe(1);
    expect(checkInvariants(t.catalog, observe(t.tenant), t.clock.now())).toEqual([]);

    t.clock.advance();
    expect(t.tenant.assignUserLicenses(U, remove(SKU.MEETING)).ok).toBe(true);
    expect(t.tenant.entriesOf(U)).toEqual([]);
    expect(t.tenant.consumedUnits(SKU.CHATONLY)).toBe(0);
    expect(t.tenant.consumedUnits(SKU.MEETING)).toBe(0);
  });

  it('unassigning the prerequisite from the group holds the entry the same way', () => {
    const t = setUp();
    t.tenant.assignGroupLicenses(G1, remove(SKU.CHATONLY));
    expect(view(t.tenant.entriesOf(U))).toEqual([
      expectEntry(SKU.MEETING, null, 'Active'),
      expectEntry(SKU.CHATONLY, G1, 'Error', 'DependencyViolation'),
    ]);
  });

  it('joining another group that gives the prerequisite ends the hold', () => {
    const t = setUp();
    t.tenant.removeMember(G1, U);
    t.tenant.assignGroupLicenses(G2, add([SKU.BASIC]));
    t.clock.advance();
    t.tenant.addMember(G2, U, 'user');
    expect(view(t.tenant.entriesOf(U))).toEqual([
      expectEntry(SKU.MEETING, null, 'Active'),
      expectEntry(SKU.BASIC, G2, 'Active'),
    ]);
    expect(t.tenant.consumedUnits(SKU.CHATONLY)).toBe(0);
  });

  it('the invariants accept a hold beside an older group source of the user', () => {
    // G3 reached the user before the direct MEETING did; the hold must survive the oracle's replay in that order.
    const early = newTenant({ seats: { [SKU.CHATONLY]: 5, [SKU.MEETING]: 5, [SKU.SECURITY]: 5 } });
    early.tenant.addPrincipal(user(U));
    for (const g of [G1, G3]) early.tenant.addGroup(securityGroup(g));
    early.tenant.assignGroupLicenses(G3, add([SKU.SECURITY]));
    early.tenant.addMember(G3, U, 'user');
    early.clock.advance();
    early.tenant.assignGroupLicenses(G1, add([SKU.CHATONLY]));
    early.tenant.addMember(G1, U, 'user');
    early.clock.advance();
    expect(early.tenant.assignUserLicenses(U, add([SKU.MEETING])).ok).toBe(true);
    early.clock.advance();
    early.tenant.removeMember(G1, U);
    expect(view(early.tenant.entriesOf(U))).toEqual([
      expectEntry(SKU.MEETING, null, 'Active'),
      expectEntry(SKU.CHATONLY, G1, 'Error', 'DependencyViolation'),
      expectEntry(SKU.SECURITY, G3, 'Active'),
    ]);
    expect(checkInvariants(early.catalog, observe(early.tenant), early.clock.now())).toEqual([]);
  });
});
