import { describe, expect, it } from 'vitest';
import { checkInvariants } from '../../src/engine/invariants.js';
import type { TenantSettings } from '../../src/engine/model.js';
import { expectEntry, observe, user, view } from './support/builders.js';
import { PLAN, SKU } from './support/catalog.js';
import { groupId, userId } from './support/ids.js';
import { add, newTenant, remove, securityGroup } from './support/tenant.js';

// rules.md §3.3 (uniqueness of proxy addresses among working mailboxes) and §6 (what heals it).

const A = userId(1);
const B = userId(2);
const C = userId(3);
const G1 = groupId(1);
const G2 = groupId(2);

/** A and B share alex's address (in different cases); both are in G1, which carries BASIC (a mailbox plan). */
function sharedAddress(healing: TenantSettings['licenseErrorHealing'] = 'automatic') {
  const t = newTenant({ healing, seats: { [SKU.BASIC]: 10, [SKU.SECURITY]: 10 } });
  t.tenant.addPrincipal(user(A, 'US', ['SMTP:alex@contoso.com', 'smtp:a@contoso.com']));
  t.tenant.addPrincipal(user(B, 'US', ['smtp:Alex@Contoso.com']));
  t.tenant.addGroup(securityGroup(G1));
  t.tenant.addGroup(securityGroup(G2));
  t.tenant.addMember(G1, A, 'user');
  t.tenant.addMember(G1, B, 'user');
  t.clock.advance();
  t.tenant.assignGroupLicenses(G1, add([SKU.BASIC]));
  t.clock.advance();
  return t;
}

describe('a proxy address can back one working mailbox only', () => {
  it('the second user to be evaluated gets UniquenessViolation (S6)', () => {
    const t = sharedAddress();
    expect(view(t.tenant.entriesOf(A))).toEqual([expectEntry(SKU.BASIC, G1, 'Active')]);
    expect(view(t.tenant.entriesOf(B))).toEqual([expectEntry(SKU.BASIC, G1, 'Error', 'UniquenessViolation')]);
    expect(t.tenant.consumedUnits(SKU.BASIC)).toBe(1);
    expect(checkInvariants(t.catalog, observe(t.tenant), t.clock.now())).toEqual([]);
  });

  it('a license without a mailbox plan is not affected by the shared address', () => {
    const t = sharedAddress();
    t.tenant.assignGroupLicenses(G2, add([SKU.BASIC, PLAN.MAIL_STD]));
    t.tenant.addMember(G2, B, 'user');
    expect(view(t.tenant.entriesOf(B))).toEqual([
      expectEntry(SKU.BASIC, G1, 'Error', 'UniquenessViolation'),
      expectEntry(SKU.BASIC, G2, 'Active', 'None', [PLAN.MAIL_STD]),
    ]);
  });

  it('after the second user’s own address changes it is licensed, even with manual healing', () => {
    const t = sharedAddress('manual');
    t.tenant.updateUser(B, { proxyAddresses: ['smtp:bea@contoso.com'] });
    expect(view(t.tenant.entriesOf(B))).toEqual([expectEntry(SKU.BASIC, G1, 'Active')]);
    expect(checkInvariants(t.catalog, observe(t.tenant), t.clock.now())).toEqual([]);
  });

  it('a mailbox holder that changes its addresses gives up the old ones and takes the new ones', () => {
    const t = sharedAddress('manual');
    t.tenant.updateUser(A, { proxyAddresses: ['smtp:alexandra@contoso.com'] });
    expect(view(t.tenant.entriesOf(A))).toEqual([expectEntry(SKU.BASIC, G1, 'Active')]);
    t.tenant.reprocessUser(B);
    expect(view(t.tenant.entriesOf(B))).toEqual([expectEntry(SKU.BASIC, G1, 'Active')]);
    t.tenant.addPrincipal(user(C, 'US', ['smtp:ALEXANDRA@contoso.com']));
    t.tenant.addMember(G1, C, 'user');
    expect(view(t.tenant.entriesOf(C))).toEqual([expectEntry(SKU.BASIC, G1, 'Error', 'UniquenessViolation')]);
    expect(checkInvariants(t.catalog, observe(t.tenant), t.clock.now())).toEqual([]);
  });

  it('with automatic healing, the waiting user gets the mailbox once the holder’s mailbox goes', () => {
    const t = sharedAddress('automatic');
    t.tenant.removeMember(G1, A);
    expect(t.tenant.entriesOf(A)).toEqual([]);
    expect(view(t.tenant.entriesOf(B))).toEqual([expectEntry(SKU.BASIC, G1, 'Active')]);
    expect(checkInvariants(t.catalog, observe(t.tenant), t.clock.now())).toEqual([]);
  });

  it('with automatic healing, the earliest of several users waiting for an address gets it', () => {
    const t = sharedAddress('automatic');
    t.tenant.addPrincipal(user(C, 'US', ['smtp:alex@contoso.com']));
    t.tenant.addMember(G1, C, 'user');
    t.clock.advance();
    t.tenant.assignGroupLicenses(G1, remove(SKU.BASIC));
    t.tenant.assignGroupLicenses(G2, add([SKU.BASIC]));
    t.tenant.addMember(G2, A, 'user');
    t.clock.advance();
    t.tenant.addMember(G2, C, 'user');
    t.clock.advance();
    t.tenant.addMember(G2, B, 'user');
    // A holds the address; C waited from before B did.
    expect(view(t.tenant.entriesOf(C))).toEqual([expectEntry(SKU.BASIC, G2, 'Error', 'UniquenessViolation')]);
    t.clock.advance();
    t.tenant.softDelete(A);
    expect(view(t.tenant.entriesOf(C))).toEqual([expectEntry(SKU.BASIC, G2, 'Active')]);
    expect(view(t.tenant.entriesOf(B))).toEqual([expectEntry(SKU.BASIC, G2, 'Error', 'UniquenessViolation')]);
    expect(checkInvariants(t.catalog, observe(t.tenant), t.clock.now())).toEqual([]);
  });

  it('with manual healing, the waiting user stays in error until reprocessed, and the invariants accept that', () => {
    const t = sharedAddress('manual');
    t.tenant.removeMember(G1, A);
    expect(view(t.tenant.entriesOf(B))).toEqual([expectEntry(SKU.BASIC, G1, 'Error', 'UniquenessViolation')]);
    expect(checkInvariants(t.catalog, observe(t.tenant), t.clock.now())).toEqual([]);
    t.tenant.reprocessGroup(G1);
    expect(view(t.tenant.entriesOf(B))).toEqual([expectEntry(SKU.BASIC, G1, 'Active')]);
  });

  it('a direct mailbox license for a user whose address another mailbox holds is refused', () => {
    const t = sharedAddress();
    const result = t.tenant.assignUserLicenses(B, add([SKU.BASIC]));
    expect(result.ok ? 'ok' : result.failure.code).toBe('ProxyAddressInUse');
  });
});
