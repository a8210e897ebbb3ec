// Provisioning for the scenarios: many users and devices at once through the operator NDJSON import (ids chosen
// here, so that scenarios know them and can order them), and the webhook's notification shapes.
import { randomUUID } from 'node:crypto';
import type { Scenario } from './run.js';

/**
 * A new object id. `lead` fixes its first hex digit, which orders ids: the service breaks ties between members
 * that arrived together by principal id (rules.md §3), and a scenario that needs an order chooses it this way.
 */
export function newId(lead?: string): string {
  const id = randomUUID();
  return lead === undefined ? id : `${lead}${id.slice(1)}`;
}

/** Ids in ascending order (the service's tie-break order). */
export function byId(ids: Iterable<string>): string[] {
  return [...ids].sort();
}

export interface ImportedUser {
  readonly id: string;
  readonly userPrincipalName: string;
  readonly displayName: string;
  readonly memberOf?: readonly string[];
  readonly usageLocation?: string | null;
  readonly proxyAddresses?: readonly string[];
  readonly department?: string | null;
  readonly accountEnabled?: boolean;
}

/** `count` users named `${prefix} n`, with fresh ids (optionally all starting with `lead`), members of `memberOf`. */
export function users(
  s: Scenario,
  prefix: string,
  count: number,
  options: { memberOf?: readonly string[]; lead?: string } = {},
): ImportedUser[] {
  const slug = prefix.toLowerCase().replace(/[^a-z0-9]/g, '');
  return Array.from({ length: count }, (_, i) => {
    const displayName = `${prefix} ${i + 1}`;
    return {
      id: s.remember(newId(options.lead), displayName),
      userPrincipalName: `${slug}.${i + 1}.${randomUUID().slice(0, 8)}@contoso.com`,
      displayName,
      ...(options.memberOf ? { memberOf: options.memberOf } : {}),
    };
  });
}

export interface ImportedDevice {
  readonly id: string;
  readonly displayName: string;
  readonly memberOf?: readonly string[];
  /** What a device rule reads as `deviceOSType` (the import's default is Windows). */
  readonly operatingSystem?: string;
}

export function devices(
  s: Scenario,
  prefix: string,
  count: number,
  options: { memberOf?: readonly string[] } = {},
): ImportedDevice[] {
  return Array.from({ length: count }, (_, i) => {
    const displayName = `${prefix}-${String(i + 1).padStart(3, '0')}`;
    return {
      id: s.remember(newId(), displayName),
      displayName,
      ...(options.memberOf ? { memberOf: options.memberOf } : {}),
    };
  });
}

/** A membership line of the import (a group nested in a group, or a member of an existing object). */
export interface ImportedMembership {
  readonly groupId: string;
  readonly memberId: string;
}

/**
 * Imports users, devices and memberships through `POST /api/manage/tenants/{tid}/import` and checks that every
 * line was taken.
 */
export async function importDirectory(
  s: Scenario,
  content: {
    users?: readonly ImportedUser[];
    devices?: readonly ImportedDevice[];
    memberships?: readonly ImportedMembership[];
  },
): Promise<void> {
  const started = Date.now();
  const lines: unknown[] = [];
  for (const user of content.users ?? []) lines.push({ type: 'user', ...user });
  for (const device of content.devices ?? []) lines.push({ type: 'device', ...device });
  for (const m of content.memberships ?? []) lines.push({ type: 'member', ...m });
  const result = await s.operator.import(s.tenant.id, lines);
  const memberships =
    [...(content.users ?? []), ...(content.devices ?? [])].reduce(
      (n, p) => n + (p.memberOf?.length ?? 0),
      0,
    ) + (content.memberships?.length ?? 0);
  s.expect(
    'the import counts',
    {
      users: content.users?.length ?? 0,
      devices: content.devices?.length ?? 0,
      members: memberships,
      errors: [],
    },
    { users: result.users, devices: result.devices, members: result.members, errors: result.errors },
    `imported ${result.users} users, ${result.devices} devices, ${result.members} memberships (${Date.now() - started} ms)`,
  );
}

/** A Graph change notification for a group's membership (`members@delta`), as a directory would push it. */
export function membershipNotification(
  s: Scenario,
  groupId: string,
  delta: readonly Record<string, unknown>[],
  sequenceNumber: number,
  clientState = s.tenant.webhook.clientState,
): Record<string, unknown> {
  return {
    subscriptionId: `sim-${s.tenant.id.slice(0, 8)}-groups`,
    clientState,
    changeType: 'updated',
    resource: `Groups/${groupId}`,
    resourceData: {
      '@odata.type': '#Microsoft.Graph.Group',
      '@odata.id': `Groups/${groupId}`,
      id: groupId,
      organizationId: s.tenant.id,
      sequenceNumber,
      'members@delta': delta,
    },
    subscriptionExpirationDateTime: new Date(Date.now() + 3_600_000).toISOString(),
    tenantId: s.tenant.id,
  };
}

/** A Graph change notification for a user: soft delete (`changed`), hard delete (`deleted`) or an update (restore). */
export function userNotification(
  s: Scenario,
  userId: string,
  change: 'softDelete' | 'hardDelete' | 'restore',
): Record<string, unknown> {
  return {
    subscriptionId: `sim-${s.tenant.id.slice(0, 8)}-users`,
    clientState: s.tenant.webhook.clientState,
    changeType: change === 'restore' ? 'updated' : 'deleted',
    resource: `Users/${userId}`,
    resourceData: {
      '@odata.type': '#Microsoft.Graph.User',
      '@odata.id': `Users/${userId}`,
      id: userId,
      organizationId: s.tenant.id,
      ...(change === 'restore'
        ? {}
        : { '@removed': { reason: change === 'softDelete' ? 'changed' : 'deleted' } }),
    },
    subscriptionExpirationDateTime: new Date(Date.now() + 3_600_000).toISOString(),
    tenantId: s.tenant.id,
  };
}

/** Posts a notification batch to the webhook and checks the answer: 202 within 3 s (api.md), or the given status. */
export async function notify(
  s: Scenario,
  what: string,
  notifications: readonly unknown[],
  expectedStatus = 202,
): Promise<void> {
  const started = Date.now();
  const status = await s.operator.notify(notifications);
  const ms = Date.now() - started;
  s.expect(`the webhook's answer to ${what}`, expectedStatus, status, '');
  if (expectedStatus === 202 && ms > 3000)
    s.fail(`the webhook's time to answer ${what}`, '≤ 3000 ms', `${ms} ms`);
  s.ok(`webhook: ${what} → ${status} (${ms} ms)`);
}
