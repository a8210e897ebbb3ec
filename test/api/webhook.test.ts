// The membership webhook (S11 and the webhook half of S8): the validation handshake, members@delta batches with
// duplicates and a replay out of order, a batch with one wrong clientState, both @removed forms, user lifecycle
// notifications, and lifecycle events.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  exactly,
  expectGraphError,
  expectRawError,
  type HttpResult,
  items,
  type Json,
  type Service,
  startService,
  type Tenant,
} from './support.js';

let service: Service;
beforeAll(async () => {
  service = await startService();
});
afterAll(async () => {
  await service?.stop();
});

function notify(body: unknown, headers: Record<string, string> = {}): Promise<HttpResult> {
  return service.http('POST', '/api/webhooks/graph', { body, headers });
}

interface Delta {
  readonly id: string;
  readonly '@removed'?: string | { reason: string };
}

function membership(
  tenant: Tenant,
  groupId: string,
  deltas: Delta[],
  sequenceNumber?: number,
  clientState?: string,
): Json {
  return {
    subscriptionId: 'b9f0f6f0-7c53-4c07-8c2d-4a3c1f1f5e0a',
    clientState: clientState ?? tenant.clientState,
    changeType: 'updated',
    resource: `Groups/${groupId}`,
    resourceData: {
      '@odata.type': '#Microsoft.Graph.Group',
      '@odata.id': `Groups/${groupId}`,
      id: groupId,
      organizationId: tenant.id,
      'members@delta': deltas,
      ...(sequenceNumber === undefined ? {} : { sequenceNumber }),
    },
    subscriptionExpirationDateTime: new Date(Date.now() + 3_600_000).toISOString(),
    tenantId: tenant.id,
  };
}

function userEvent(
  tenant: Tenant,
  userId: string,
  changeType: 'deleted' | 'updated',
  reason?: string,
  sequenceNumber?: number,
): Json {
  return {
    subscriptionId: 'c1d2e3f4-0000-4000-8000-000000000001',
    clientState: tenant.clientState,
    changeType,
    resource: `Users/${userId}`,
    resourceData: {
      '@odata.type': '#Microsoft.Graph.User',
      id: userId,
      ...(reason === undefined ? {} : { '@removed': { reason } }),
      ...(sequenceNumber === undefined ? {} : { sequenceNumber }),
    },
    subscriptionExpirationDateTime: new Date(Date.now() + 3_600_000).toISOString(),
    tenantId: tenant.id,
  };
}

async function accepted(body: unknown): Promise<void> {
  const started = Date.now();
  const answer = await notify(body);
  expect(answer.status, answer.text).toBe(202);
  expect(Date.now() - started).toBeLessThan(3_000);
}

describe('webhook', () => {
  it('answers the validation handshake with the decoded token as text/plain', async () => {
    const token = 'Validation: Testing client application reachability for subscription Request-Id: 8d1a1c3f';
    const started = Date.now();
    const answer = await service.http(
      'POST',
      `/api/webhooks/graph?validationToken=${encodeURIComponent(token)}`,
    );
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(answer.text).toBe(token);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('applies members@delta with duplicates and a replay out of order as if once, in order (S11)', async () => {
    const tenant = await service.newTenant({ buy: { ENTERPRISEPACK: 10 } });
    const e3 = service.catalog.skuId('ENTERPRISEPACK');
    const group = await tenant.createGroup('Webhook members');
    const [u1, u2, u3, u4, u5] = exactly(await tenant.importUsers(5), 5);
    const device = String(
      (await tenant.importLines([{ type: 'device', id: randomUUID(), displayName: 'Kiosk' }])).devices,
    );
    expect(device).toBe('1');
    await tenant.graph
      .api(`/groups/${group}/assignLicense`)
      .post({ addLicenses: [{ skuId: e3 }], removeLicenses: [] });
    await tenant.waitIdle();

    // In order: 1 adds u1 u2 u3; 2 removes u2; 3 adds u4 and removes u3 (delta-query form of @removed).
    const n1 = membership(tenant, group, [{ id: u1 }, { id: u2 }, { id: u3 }], 1);
    const n2 = membership(tenant, group, [{ id: u2, '@removed': 'deleted' }], 2);
    const n3 = membership(tenant, group, [{ id: u4 }, { id: u3, '@removed': { reason: 'deleted' } }], 3);
    // Delivered: 3 first, then 1 (twice) and 2, then 2 and 1 replayed.
    await accepted({ value: [n3] });
    await tenant.waitIdle();
    await accepted({ value: [n1, n1, n2] });
    await tenant.waitIdle();
    await accepted({ value: [n2, n1] });
    await tenant.waitIdle();

    expect(await tenant.memberIds(group)).toEqual([u1, u4].sort());
    for (const id of [u1, u4]) {
      expect((await tenant.licenses(id)).licenseAssignmentStates).toMatchObject([
        { skuId: e3, assignedByGroup: group, state: 'Active', error: 'None' },
      ]);
    }
    for (const id of [u2, u3, u5]) expect((await tenant.licenses(id)).licenseAssignmentStates).toEqual([]);
    expect(await tenant.consumed(e3)).toBe(2);
    expect(await tenant.details(group)).toMatchObject({
      membersTotal: 2,
      membersSucceeded: 2,
      membersFailed: 0,
    });
  });

  it('treats an add of a present member and a removal of an absent one as no-ops, for users, devices and groups', async () => {
    const tenant = await service.newTenant({ buy: { EMS: 5 } });
    const ems = service.catalog.skuId('EMS');
    const group = await tenant.createGroup('Idempotent');
    const [a, b] = exactly(await tenant.importUsers(2), 2);
    await tenant.graph
      .api(`/groups/${group}/assignLicense`)
      .post({ addLicenses: [{ skuId: ems }], removeLicenses: [] });
    // Members may be users, devices or groups.
    const device = randomUUID();
    const nested = randomUUID();
    await tenant.importLines([
      { type: 'device', id: device, displayName: 'Kiosk' },
      { type: 'group', id: nested, displayName: 'Nested' },
    ]);
    await accepted({
      value: [
        membership(tenant, group, [{ id: a }, { id: a }, { id: device }, { id: nested }]),
        membership(tenant, group, [{ id: b, '@removed': 'deleted' }]),
        membership(tenant, group, [{ id: a }, { id: device }]),
      ],
    });
    await tenant.waitIdle();
    expect(await tenant.memberIds(group)).toEqual([a, device, nested].sort());
    const types = items(await tenant.graph.api(`/groups/${group}/members`).get()).map((m) =>
      String(m['@odata.type']),
    );
    expect(types.sort()).toEqual([
      '#microsoft.graph.device',
      '#microsoft.graph.group',
      '#microsoft.graph.user',
    ]);
    expect(await tenant.consumed(ems)).toBe(1);
    await accepted({
      value: [
        membership(tenant, group, [
          { id: device, '@removed': 'deleted' },
          { id: nested, '@removed': { reason: 'deleted' } },
        ]),
      ],
    });
    await tenant.waitIdle();
    expect(await tenant.memberIds(group)).toEqual([a]);
  });

  it('refuses a whole batch with one wrong clientState (403) and applies nothing', async () => {
    const tenant = await service.newTenant({ buy: { EMS: 5 } });
    const group = await tenant.createGroup('Guarded');
    const [a, b] = exactly(await tenant.importUsers(2), 2);
    const forged = membership(tenant, group, [{ id: b }], undefined, 'not-the-secret');
    for (const value of [
      [membership(tenant, group, [{ id: a }]), forged],
      [
        membership(tenant, group, [{ id: a }]),
        { ...membership(tenant, group, [{ id: b }]), clientState: undefined },
      ],
      [
        membership(tenant, group, [{ id: a }]),
        { ...membership(tenant, group, [{ id: b }]), tenantId: randomUUID() },
      ],
    ]) {
      const answer = await notify({ value });
      expectRawError(answer, 403, 'Authorization_RequestDenied');
    }
    // Another tenant's secret does not open this tenant.
    const other = await service.newTenant();
    const crossed = await notify({
      value: [membership(tenant, group, [{ id: a }], undefined, other.clientState)],
    });
    expectRawError(crossed, 403, 'Authorization_RequestDenied');
    await tenant.waitIdle();
    expect(await tenant.memberIds(group)).toEqual([]);
  });

  it('mirrors user lifecycle notifications: soft delete, restore, hard delete (S8 through the webhook)', async () => {
    const tenant = await service.newTenant({ buy: { ENTERPRISEPACK: 1, EMS: 1 } });
    const e3 = service.catalog.skuId('ENTERPRISEPACK');
    const ems = service.catalog.skuId('EMS');
    const group = await tenant.createGroup('EMS users');
    const [user] = exactly(await tenant.importUsers(1, { memberOf: [group] }), 1);
    await tenant.graph
      .api(`/users/${user}/assignLicense`)
      .post({ addLicenses: [{ skuId: e3 }], removeLicenses: [] });
    await tenant.graph
      .api(`/groups/${group}/assignLicense`)
      .post({ addLicenses: [{ skuId: ems }], removeLicenses: [] });
    await tenant.waitIdle();
    const before = await tenant.licenses(user);
    expect(before.licenseAssignmentStates.map((s) => s.state)).toEqual(['Active', 'Active']);

    // Delivered twice in one POST, as a retrying publisher may: one soft delete, one audit record.
    const softDelete = userEvent(tenant, user, 'deleted', 'changed', 1);
    await accepted({ value: [softDelete, softDelete] });
    await tenant.waitIdle();
    await expectGraphError(tenant.graph.api(`/users/${user}`).get(), 404, 'Request_ResourceNotFound');
    const deletions = items(
      await tenant.graph
        .api('/auditLogs/directoryAudits')
        .filter("activityDisplayName eq 'Delete user'")
        .get(),
    );
    expect(deletions.map((r) => r.targetResources)).toEqual([[expect.objectContaining({ id: user })]]);
    const deleted: unknown = await tenant.graph
      .api(`/directory/deletedItems/${user}`)
      .select('licenseAssignmentStates')
      .get();
    expect(deleted).toMatchObject({
      licenseAssignmentStates: [{ state: 'Disabled' }, { state: 'Disabled' }],
    });
    expect([await tenant.consumed(e3), await tenant.consumed(ems)]).toEqual([0, 0]);

    await accepted({ value: [userEvent(tenant, user, 'updated', undefined, 2)] });
    await tenant.waitIdle();
    const restored = await tenant.licenses(user);
    expect(restored.licenseAssignmentStates.map((s) => [s.skuId, s.assignedByGroup, s.state]).sort()).toEqual(
      before.licenseAssignmentStates.map((s) => [s.skuId, s.assignedByGroup, s.state]).sort(),
    );
    expect([await tenant.consumed(e3), await tenant.consumed(ems)]).toEqual([1, 1]);

    // The soft delete replayed late changes nothing.
    await accepted({ value: [userEvent(tenant, user, 'deleted', 'changed', 1)] });
    await tenant.waitIdle();
    expect((await tenant.licenses(user)).licenseAssignmentStates).toHaveLength(2);

    await accepted({
      value: [
        userEvent(tenant, user, 'deleted', 'changed', 3),
        userEvent(tenant, user, 'deleted', 'deleted', 4),
      ],
    });
    await tenant.waitIdle();
    await expectGraphError(
      tenant.graph.api(`/directory/deletedItems/${user}`).get(),
      404,
      'Request_ResourceNotFound',
    );
    await expectGraphError(tenant.graph.api(`/users/${user}`).get(), 404, 'Request_ResourceNotFound');
    expect([await tenant.consumed(e3), await tenant.consumed(ems)]).toEqual([0, 0]);
    // A newcomer takes the freed seat.
    const newcomer = await tenant.createUser();
    await tenant.graph
      .api(`/users/${newcomer}/assignLicense`)
      .post({ addLicenses: [{ skuId: e3 }], removeLicenses: [] });
    expect(await tenant.consumed(e3)).toBe(1);
  });

  it('acknowledges lifecycle notifications with 202 and changes nothing', async () => {
    const tenant = await service.newTenant();
    const group = await tenant.createGroup('Lifecycle');
    for (const lifecycleEvent of ['reauthorizationRequired', 'subscriptionRemoved', 'missed']) {
      await accepted({
        value: [
          {
            subscriptionId: randomUUID(),
            subscriptionExpirationDateTime: new Date(Date.now() + 3_600_000).toISOString(),
            tenantId: tenant.id,
            clientState: tenant.clientState,
            lifecycleEvent,
            resource: `Groups/${group}`,
          },
        ],
      });
    }
    await tenant.waitIdle();
    expect(await tenant.memberIds(group)).toEqual([]);
  });

  it('refuses what is not a notification collection: 400 for bad JSON or shape, 415 for another type', async () => {
    const tenant = await service.newTenant();
    const group = await tenant.createGroup('Shapes');
    const bad = [
      service.http('POST', '/api/webhooks/graph', {
        rawBody: '{"value": [',
        headers: { 'content-type': 'application/json' },
      }),
      notify({ value: 'nope' }),
      notify([membership(tenant, group, [])]),
      notify({ value: [membership(tenant, group, [{ id: 'not-a-guid' }])] }),
      notify({ value: [{ ...membership(tenant, group, []), tenantId: 'contoso' }] }),
    ];
    for (const answer of await Promise.all(bad)) expectRawError(answer, 400, 'Request_BadRequest');
    const text = await service.http('POST', '/api/webhooks/graph', {
      rawBody: JSON.stringify({ value: [] }),
      headers: { 'content-type': 'text/plain' },
    });
    expectRawError(text, 415, 'UnsupportedMediaType');
    await tenant.waitIdle();
    expect(await tenant.memberIds(group)).toEqual([]);
  });
});
