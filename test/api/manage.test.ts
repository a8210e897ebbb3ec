// The operator API (x-functions-key): tenants, subscriptions, tokens, the catalog, activity, and the NDJSON import
// with its per-line errors and atomic mode.
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { arr, expectRawError, ids, items, obj, type Service, startService, str } from './support.js';

let service: Service;
beforeAll(async () => {
  service = await startService();
});
afterAll(async () => {
  await service?.stop();
});

describe('operator API', () => {
  it('needs the operator key (401 without it or with a wrong one), and changes nothing without it', async () => {
    const body = { displayName: 'Nope', countryLetterCode: 'US' };
    const attempts: Record<string, string>[] = [
      {},
      { 'x-functions-key': 'wrong' },
      { 'x-functions-key': '' },
    ];
    for (const headers of attempts) {
      const answer = await service.http('POST', '/api/manage/tenants', { body, headers });
      expectRawError(answer, 401, 'InvalidAuthenticationToken');
    }
    const tenant = await service.newTenant();
    const tokens = await service.http('POST', `/api/manage/tenants/${tenant.id}/tokens`, {
      body: {},
      headers: { 'x-functions-key': 'test-admin-key-but-longer' },
    });
    expectRawError(tokens, 401, 'InvalidAuthenticationToken');
    const buy = await service.http('PUT', `/api/manage/tenants/${tenant.id}/subscriptions/EMS`, {
      body: { prepaidUnits: { enabled: 5 } },
    });
    expectRawError(buy, 401, 'InvalidAuthenticationToken');
    expect(await tenant.subscribedSkus()).toEqual([]);
  });

  it('creates (201), reads and updates tenants', async () => {
    const created = await service.manage('POST', '/tenants', {
      displayName: 'Fabrikam',
      countryLetterCode: 'gb',
      licenseErrorHealing: 'manual',
    });
    expect(created.status).toBe(201);
    const tenant = obj(created.json);
    expect(tenant).toMatchObject({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      displayName: 'Fabrikam',
      countryLetterCode: 'GB',
      licenseErrorHealing: 'manual',
      webhook: { notificationUrl: `${service.url}/api/webhooks/graph`, clientState: expect.any(String) },
    });
    const id = str(tenant.id);
    expect(str(obj(tenant.webhook).clientState).length).toBeGreaterThanOrEqual(16);

    const read = await service.manage('GET', `/tenants/${id}`);
    expect(read.status).toBe(200);
    expect(read.json).toEqual(tenant);
    const patched = await service.manage('PATCH', `/tenants/${id}`, {
      licenseErrorHealing: 'automatic',
      displayName: 'Fabrikam Ltd',
    });
    expect(patched.status).toBe(200);
    expect(patched.json).toMatchObject({
      id,
      displayName: 'Fabrikam Ltd',
      licenseErrorHealing: 'automatic',
      countryLetterCode: 'GB',
    });

    // Defaults: automatic healing.
    const plain = obj(
      (await service.manage('POST', '/tenants', { displayName: 'Plain', countryLetterCode: 'US' })).json,
    );
    expect(plain.licenseErrorHealing).toBe('automatic');
  });

  it('refuses bad tenant bodies (400) and unknown tenants (404)', async () => {
    const bad = [
      {},
      { displayName: 'X' },
      { displayName: 'X', countryLetterCode: 'USA' },
      { displayName: 'X', countryLetterCode: 'US', licenseErrorHealing: 'sometimes' },
      { displayName: 'X', countryLetterCode: 'US', color: 'blue' },
      { displayName: 42, countryLetterCode: 'US' },
    ];
    for (const body of bad)
      expectRawError(await service.manage('POST', '/tenants', body), 400, 'Request_BadRequest');
    const unknown = '5f1e6a3c-9d0b-4c1e-8f5a-2b7d9c0e1a42';
    expectRawError(await service.manage('GET', `/tenants/${unknown}`), 404, 'Request_ResourceNotFound');
    expectRawError(await service.manage('GET', '/tenants/contoso'), 404, 'Request_ResourceNotFound');
    expectRawError(
      await service.manage('POST', `/tenants/${unknown}/tokens`, {}),
      404,
      'Request_ResourceNotFound',
    );
    expectRawError(
      await service.manage('PUT', `/tenants/${unknown}/subscriptions/EMS`, { prepaidUnits: { enabled: 1 } }),
      404,
      'Request_ResourceNotFound',
    );
  });

  it('sells subscriptions by part number or skuId (200 subscribedSku), and refuses unknown SKUs or units', async () => {
    const tenant = await service.newTenant();
    const e3 = service.catalog.skuId('ENTERPRISEPACK');
    const byName = await service.manage('PUT', `/tenants/${tenant.id}/subscriptions/ENTERPRISEPACK`, {
      prepaidUnits: { enabled: 10, warning: 2 },
    });
    expect(byName.status).toBe(200);
    expect(byName.json).toMatchObject({
      id: `${tenant.id}_${e3}`,
      skuId: e3,
      skuPartNumber: 'ENTERPRISEPACK',
      consumedUnits: 0,
      prepaidUnits: { enabled: 10, warning: 2, suspended: 0, lockedOut: 0 },
    });
    const byId = await service.manage('PUT', `/tenants/${tenant.id}/subscriptions/${e3}`, {
      prepaidUnits: { enabled: 3 },
    });
    expect(obj(byId.json).prepaidUnits).toEqual({ enabled: 3, warning: 0, suspended: 0, lockedOut: 0 });
    const list = await service.manage('GET', `/tenants/${tenant.id}/subscriptions`);
    expect(list.status).toBe(200);
    expect(ids(list.json)).toEqual([`${tenant.id}_${e3}`]);

    expectRawError(
      await service.manage('PUT', `/tenants/${tenant.id}/subscriptions/NOT_A_SKU`, {
        prepaidUnits: { enabled: 1 },
      }),
      400,
      'Request_BadRequest',
    );
    for (const prepaidUnits of [
      { enabled: -1 },
      { enabled: 1.5 },
      { enabled: '5' },
      {},
      { enabled: 1, extra: 2 },
    ]) {
      expectRawError(
        await service.manage('PUT', `/tenants/${tenant.id}/subscriptions/EMS`, { prepaidUnits }),
        400,
        'Request_BadRequest',
      );
    }
    expect((await tenant.subscribedSkus()).map((s) => s.skuPartNumber)).toEqual(['ENTERPRISEPACK']);
  });

  it('lowering units below what is consumed revokes nothing', async () => {
    const tenant = await service.newTenant({ buy: { EMS: 3 } });
    const ems = service.catalog.skuId('EMS');
    const users = await tenant.importUsers(3);
    for (const id of users) {
      await tenant.graph
        .api(`/users/${id}/assignLicense`)
        .post({ addLicenses: [{ skuId: ems }], removeLicenses: [] });
    }
    await tenant.buy('EMS', 1);
    await tenant.waitIdle();
    expect(await tenant.consumed(ems)).toBe(3);
    for (const id of users)
      expect((await tenant.licenses(id)).licenseAssignmentStates[0]?.state).toBe('Active');
  });

  it('mints tokens with the tenant, roles, audience, issuer and lifetime api.md names', async () => {
    const tenant = await service.newTenant();
    const plain = await service.manage('POST', `/tenants/${tenant.id}/tokens`);
    expect(plain.status, plain.text).toBe(200);
    const minted = obj(plain.json);
    expect(minted).toMatchObject({ token_type: 'Bearer', expires_in: 3600 });
    const claims = decodeJwt(str(minted.access_token));
    expect(claims).toMatchObject({
      tid: tenant.id,
      roles: ['Directory.ReadWrite.All', 'LicenseAssignment.ReadWrite.All'],
      aud: 'https://graph.microsoft.com',
      iss: `https://sts.windows.net/${tenant.id}/`,
    });
    expect(Number(claims.exp) - Number(claims.iat)).toBe(3600);

    const custom = obj(
      (
        await service.manage('POST', `/tenants/${tenant.id}/tokens`, {
          roles: ['User.Read.All'],
          expiresInSeconds: 120,
        })
      ).json,
    );
    expect(custom.expires_in).toBe(120);
    expect(decodeJwt(str(custom.access_token)).roles).toEqual(['User.Read.All']);

    for (const body of [
      { roles: ['Sites.FullControl.All'] },
      { expiresInSeconds: 5 },
      { roles: 'User.Read.All' },
      { admin: true },
    ]) {
      expectRawError(
        await service.manage('POST', `/tenants/${tenant.id}/tokens`, body),
        400,
        'Request_BadRequest',
      );
    }
  });

  it('answers GET /api/health anonymously with storage reachability', async () => {
    const answer = await service.http('GET', '/api/health');
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ status: 'healthy', table: { ok: true }, queue: { ok: true } });
  });

  it('lists the catalog', async () => {
    const answer = await service.manage('GET', '/catalog');
    expect(answer.status).toBe(200);
    const e3 = items(answer.json).find((s) => s.skuPartNumber === 'ENTERPRISEPACK');
    expect(e3).toMatchObject({ skuId: service.catalog.skuId('ENTERPRISEPACK'), assignableTo: 'user' });
  });

  it('imports NDJSON: counts, memberships, bad lines reported by number and skipped', async () => {
    const tenant = await service.newTenant();
    const group = 'a1b2c3d4-0000-4000-8000-000000000001';
    const lines = [
      JSON.stringify({ type: 'group', id: group, displayName: 'Imported' }),
      JSON.stringify({
        type: 'user',
        userPrincipalName: 'one@contoso.test',
        displayName: 'One',
        memberOf: [group],
      }),
      '{ not json',
      JSON.stringify({ type: 'user', displayName: 'No name' }),
      '',
      JSON.stringify({
        type: 'user',
        userPrincipalName: 'two@contoso.test',
        displayName: 'Two',
        usageLocation: 'FR',
      }),
      JSON.stringify({ type: 'planet', name: 'Mars' }),
      JSON.stringify({ type: 'device', displayName: 'Kiosk', memberOf: [group] }),
    ].join('\n');
    const answer = await service.http('POST', `/api/manage/tenants/${tenant.id}/import`, {
      rawBody: lines,
      headers: { 'x-functions-key': 'test-admin-key', 'content-type': 'application/x-ndjson' },
    });
    expect(answer.status, answer.text).toBe(200);
    const result = obj(answer.json);
    expect(result).toMatchObject({ users: 2, groups: 1, devices: 1 });
    const errors = arr(result.errors).map((e) => obj(e));
    expect(errors.map((e) => e.line)).toEqual([3, 4, 7]);
    for (const e of errors) expect(typeof e.message).toBe('string');

    const users: unknown = await tenant.graph.api('/users').select('userPrincipalName,usageLocation').get();
    expect(
      items(users)
        .map((u) => u.userPrincipalName)
        .sort(),
    ).toEqual(['one@contoso.test', 'two@contoso.test']);
    expect((await tenant.memberIds(group)).length).toBe(2);
  });

  it('refuses a whole import with ?atomic=true when one line is bad (400, Graph envelope, nothing written)', async () => {
    const tenant = await service.newTenant();
    const lines = [
      JSON.stringify({ type: 'user', userPrincipalName: 'ok@contoso.test', displayName: 'Ok' }),
      JSON.stringify({ type: 'user', userPrincipalName: 'bad', displayName: 'Bad' }),
    ].join('\n');
    const answer = await service.http('POST', `/api/manage/tenants/${tenant.id}/import?atomic=true`, {
      rawBody: lines,
      headers: { 'x-functions-key': 'test-admin-key', 'content-type': 'application/x-ndjson' },
    });
    expectRawError(
      answer,
      400,
      'Request_BadRequest',
      'The import was refused: some lines are not valid; nothing was written.',
    );
    expect(obj(answer.json).errors).toEqual([{ line: 2, message: expect.any(String) }]);
    expect(obj(await tenant.graph.api('/users').get()).value).toEqual([]);
  });

  it('refuses an import of another type (415) or an empty one (400)', async () => {
    const tenant = await service.newTenant();
    const json = await service.http('POST', `/api/manage/tenants/${tenant.id}/import`, {
      rawBody: '[]',
      headers: { 'x-functions-key': 'test-admin-key', 'content-type': 'application/xml' },
    });
    expectRawError(json, 415, 'UnsupportedMediaType');
    const empty = await service.http('POST', `/api/manage/tenants/${tenant.id}/import`, {
      rawBody: '\n\n',
      headers: { 'x-functions-key': 'test-admin-key', 'content-type': 'application/x-ndjson' },
    });
    expectRawError(empty, 400, 'Request_BadRequest');
  });

  it('reports activity: busy while a group is processed, idle afterwards', async () => {
    const tenant = await service.newTenant({ buy: { EMS: 50 } });
    const group = await tenant.createGroup('Busy');
    await tenant.importUsers(50, { memberOf: [group] });
    await tenant.graph.api(`/groups/${group}/assignLicense`).post({
      addLicenses: [{ skuId: service.catalog.skuId('EMS') }],
      removeLicenses: [],
    });
    const busy = await service.manage('GET', `/tenants/${tenant.id}/activity`);
    expect(busy.status).toBe(200);
    expect(obj(busy.json).idle).toBe(false);
    // What keeps it busy: the group (queued or processing), and maybe its messages or seats in flight.
    expect(obj(busy.json).groupsProcessing).toBe(1);
    await tenant.waitIdle();
    const idle = await service.manage('GET', `/tenants/${tenant.id}/activity`);
    expect(obj(idle.json)).toMatchObject({ idle: true, openReservations: 0, groupsProcessing: 0 });
    expect(Object.values(obj(obj(idle.json).queues)).every((n) => n === 0)).toBe(true);
    expect(await tenant.consumed(service.catalog.skuId('EMS'))).toBe(50);
  });
});
