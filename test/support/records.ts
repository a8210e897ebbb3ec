// Records for tests that hand the ports and adapters plain data: a user with every field set to a neutral value,
// and whatever the test cares about given as overrides.
import { randomUUID } from 'node:crypto';
import type {
  GroupRecord,
  OutboxRecord,
  PrincipalRecord,
  TenantRecord,
} from '../../src/application/records.js';

export function principalRecord(
  tenantId: string,
  overrides: Partial<PrincipalRecord> & { displayName: string },
): PrincipalRecord {
  return {
    tenantId,
    id: randomUUID(),
    kind: 'user',
    userPrincipalName: `${overrides.displayName.replace(/\W/g, '').toLowerCase()}@contoso.test`,
    mailNickname: null,
    usageLocation: null,
    proxyAddresses: [],
    accountEnabled: true,
    department: null,
    device: null,
    profile: {},
    createdDateTime: '2026-03-01T10:00:00.000Z',
    deletedDateTime: null,
    directLicenses: [],
    memberOf: [],
    removedMemberships: [],
    entries: [],
    mailboxActive: false,
    sharedProxy: false,
    ...overrides,
  };
}

/** A tenant as createTenant would store it (automatic healing unless given). */
export function tenantRecord(id: string, overrides: Partial<TenantRecord> = {}): TenantRecord {
  return {
    id,
    displayName: 'Contoso',
    countryLetterCode: 'US',
    licenseErrorHealing: 'automatic',
    clientState: 'secret',
    createdDateTime: '2026-03-01T10:00:00.000Z',
    ...overrides,
  };
}

/** A plain security group of the tenant, named `displayName`. */
export function groupRecord(tenantId: string, displayName: string): GroupRecord {
  return {
    tenantId,
    id: randomUUID(),
    displayName,
    description: null,
    mailNickname: displayName.replace(/\W/g, '').toLowerCase() || 'group',
    securityEnabled: true,
    mailEnabled: false,
    groupTypes: [],
    createdDateTime: '2026-03-01T10:00:00.000Z',
    memberOf: [],
    removedMemberships: [],
  };
}

/** An outbox row created at 10:00 on 1 March 2026 and due a minute later, owing `payload` (nothing unless given). */
export function outboxRecord(overrides: Partial<OutboxRecord> = {}): OutboxRecord {
  return {
    id: randomUUID(),
    createdDateTime: '2026-03-01T10:00:00.000Z',
    relayAfter: '2026-03-01T10:01:00.000Z',
    payload: {},
    ...overrides,
  };
}
