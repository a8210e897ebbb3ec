// GET /api/manage/tenants: every tenant of this host's storage, each as GET /tenants/{tid} shows it, by displayName.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectRawError, items, obj, type Service, startService, str } from './support.js';

let service: Service;
beforeAll(async () => {
  service = await startService();
});
afterAll(async () => {
  await service?.stop();
});

describe('GET /api/manage/tenants', () => {
  it('needs the operator key', async () => {
    expectRawError(await service.http('GET', '/api/manage/tenants'), 401, 'InvalidAuthenticationToken');
    const wrong = await service.http('GET', '/api/manage/tenants', {
      headers: { 'x-functions-key': 'wrong' },
    });
    expectRawError(wrong, 401, 'InvalidAuthenticationToken');
  });

  it('lists the tenants sorted by displayName (ignoring case), each shaped as GET /tenants/{tid}', async () => {
    // Each test file has its own tables, so the tenants listed are exactly those made here.
    const made: string[] = [];
    for (const displayName of ['Zeta Corp', 'alpha ltd', 'Mu GmbH', 'Beta Inc']) {
      const created = await service.manage('POST', '/tenants', { displayName, countryLetterCode: 'US' });
      expect(created.status, created.text).toBe(201);
      made.push(str(obj(created.json).id));
    }
    const listed = await service.manage('GET', '/tenants');
    expect(listed.status, listed.text).toBe(200);
    const body = obj(listed.json);
    expect(Object.keys(body)).toEqual(['value']);
    const tenants = items(body);
    expect(tenants.map((t) => t.displayName)).toEqual(['alpha ltd', 'Beta Inc', 'Mu GmbH', 'Zeta Corp']);
    expect(tenants.map((t) => str(t.id)).sort()).toEqual([...made].sort());
    for (const tenant of tenants) {
      const one = await service.manage('GET', `/tenants/${str(tenant.id)}`);
      expect(tenant).toEqual(one.json);
    }
    expect(tenants[0]).toMatchObject({
      countryLetterCode: 'US',
      licenseErrorHealing: 'automatic',
      createdDateTime: expect.any(String),
      webhook: { notificationUrl: `${service.url}/api/webhooks/graph`, clientState: expect.any(String) },
    });

    // A rename moves the tenant in the order.
    const zeta = str(tenants[3]?.id);
    expect((await service.manage('PATCH', `/tenants/${zeta}`, { displayName: 'Aardvark' })).status).toBe(200);
    const again = items((await service.manage('GET', '/tenants')).json);
    expect(again.map((t) => t.displayName)).toEqual(['Aardvark', 'alpha ltd', 'Beta Inc', 'Mu GmbH']);
  });

  it('still creates tenants with POST on the same route', async () => {
    const created = await service.manage('POST', '/tenants', {
      displayName: 'Omega',
      countryLetterCode: 'GB',
    });
    expect(created.status).toBe(201);
    const listed = items((await service.manage('GET', '/tenants')).json);
    expect(listed.map((t) => t.id)).toContain(obj(created.json).id);
  });
});
