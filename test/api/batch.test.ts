// JSON batching through the client's BatchRequestContent / BatchResponseContent: up to 20 requests, dependsOn
// honoured (424 when a dependency failed), more than 20 refused, each sub-request checked like a direct call.
import { BatchRequestContent, BatchResponseContent } from '@microsoft/microsoft-graph-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  arr,
  expectEnvelope,
  expectGraphError,
  ids,
  obj,
  type Service,
  startService,
  str,
} from './support.js';

let service: Service;
beforeAll(async () => {
  service = await startService();
});
afterAll(async () => {
  await service?.stop();
});

function post(url: string, body: unknown): Request {
  return new Request(url, {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'Content-Type': 'application/json' },
  });
}

function newUser(nick: string) {
  return {
    accountEnabled: true,
    displayName: nick,
    mailNickname: nick,
    passwordProfile: { password: 'xWwvJ]6NMw+bWH-d' },
    userPrincipalName: `${nick}@contoso.test`,
    usageLocation: 'US',
  };
}

/** The batch answer as the client's BatchResponseContent, after checking it is `{ responses: [ {...} ] }`. */
function batchResponse(answer: unknown): BatchResponseContent {
  return new BatchResponseContent({ responses: arr(obj(answer).responses).map((r) => obj(r)) });
}

async function json(response: Response): Promise<unknown> {
  return JSON.parse(await response.text());
}

describe('$batch', () => {
  it('runs requests with dependsOn and returns each response (BatchRequestContent / BatchResponseContent)', async () => {
    const tenant = await service.newTenant({ buy: { EMS: 5 } });
    const ems = service.catalog.skuId('EMS');
    const root = service.graphRoot;
    const batch = new BatchRequestContent([
      { id: '1', request: post(`${root}/users`, newUser('batch.one')) },
      {
        id: '2',
        dependsOn: ['1'],
        request: post(`${root}/groups`, {
          displayName: 'Batched',
          mailEnabled: false,
          mailNickname: 'batched',
          securityEnabled: true,
        }),
      },
      {
        id: '3',
        dependsOn: ['2'],
        request: new Request(`${root}/users/batch.one@contoso.test`, { method: 'GET' }),
      },
      {
        id: '4',
        dependsOn: ['3'],
        request: post(`${root}/users/batch.one@contoso.test/assignLicense`, {
          addLicenses: [{ skuId: ems }],
          removeLicenses: [],
        }),
      },
      { id: '5', dependsOn: ['4'], request: new Request(`${root}/subscribedSkus`, { method: 'GET' }) },
    ]);
    const answer: unknown = await tenant.graph.api('/$batch').post(await batch.getContent());
    const responses = batchResponse(answer);
    const created = responses.getResponseById('1');
    expect(created.status).toBe(201);
    const user = obj(await json(created));
    expect(user['@odata.context']).toBe(`${root}/$metadata#users/$entity`);
    expect(user.userPrincipalName).toBe('batch.one@contoso.test');
    expect(responses.getResponseById('2').status).toBe(201);
    const read = responses.getResponseById('3');
    expect(read.status).toBe(200);
    expect(obj(await json(read)).id).toBe(user.id);
    expect(responses.getResponseById('4').status).toBe(200);
    const skus = obj(await json(responses.getResponseById('5')));
    expect(skus['@odata.context']).toBe(`${root}/$metadata#subscribedSkus`);

    // The batch's effects are real.
    expect((await tenant.licenses(str(user.id))).assignedLicenses).toEqual([
      { skuId: ems, disabledPlans: [] },
    ]);
    expect(ids(await tenant.graph.api('/groups').get())).toHaveLength(1);
  });

  it('answers 424 for a request whose dependency failed, and does not run it', async () => {
    const tenant = await service.newTenant();
    const missing = '6b9a1b33-7cf7-4d48-9e36-0d7e6d8c1c8e';
    const answer: unknown = await tenant.graph.api('/$batch').post({
      requests: [
        {
          id: 'a',
          method: 'PATCH',
          url: `/users/${missing}`,
          headers: { 'Content-Type': 'application/json' },
          body: { displayName: 'x' },
        },
        {
          id: 'b',
          dependsOn: ['a'],
          method: 'POST',
          url: '/users',
          headers: { 'Content-Type': 'application/json' },
          body: newUser('never'),
        },
        {
          id: 'c',
          method: 'POST',
          url: '/users',
          headers: { 'Content-Type': 'application/json' },
          body: newUser('fine'),
        },
        { id: 'd', dependsOn: ['b'], method: 'GET', url: '/users' },
      ],
    });
    const responses = batchResponse(answer);
    const a = responses.getResponseById('a');
    expect(a.status).toBe(404);
    expectEnvelope(await json(a), 'Request_ResourceNotFound');
    for (const id of ['b', 'd']) {
      const failed = responses.getResponseById(id);
      expect(failed.status).toBe(424);
      expectEnvelope(await json(failed), 'FailedDependency');
    }
    expect(responses.getResponseById('c').status).toBe(201);
    const users = obj(await tenant.graph.api('/users').select('userPrincipalName').get());
    expect(ids(users)).toHaveLength(1);
    expect(JSON.stringify(users)).not.toContain('never@contoso.test');
  });

  it('checks each sub-request like a direct call: permissions, validation, unknown routes, other tenants', async () => {
    const owner = await service.newTenant();
    const secret = await owner.createUser();
    const reader = await service.newTenant({ roles: ['User.Read.All'] });
    const answer: unknown = await reader.graph.api('/$batch').post({
      requests: [
        {
          id: '1',
          method: 'POST',
          url: '/users',
          headers: { 'Content-Type': 'application/json' },
          body: newUser('denied'),
        },
        { id: '2', method: 'GET', url: `/users/${secret}` },
        { id: '3', method: 'GET', url: '/nothing/here' },
        { id: '4', method: 'GET', url: '/users?$top=5000' },
        { id: '5', method: 'get', url: 'https://graph.microsoft.com/v1.0/users' },
        { id: '6', method: 'GET', url: '/users/%E0%A4%A' },
        {
          id: '7',
          method: 'POST',
          url: '/$batch',
          headers: { 'Content-Type': 'application/json' },
          body: { requests: [] },
        },
      ],
    });
    const responses = batchResponse(answer);
    const expectations: [string, number, string][] = [
      ['1', 403, 'Authorization_RequestDenied'],
      ['2', 404, 'Request_ResourceNotFound'],
      ['3', 404, 'Request_ResourceNotFound'],
      ['4', 400, 'Request_BadRequest'],
      ['6', 404, 'Request_ResourceNotFound'],
      ['7', 404, 'Request_ResourceNotFound'],
    ];
    for (const [id, status, code] of expectations) {
      const response = responses.getResponseById(id);
      expect(response.status, id).toBe(status);
      expectEnvelope(await json(response), code);
    }
    const list = responses.getResponseById('5');
    expect(list.status).toBe(200);
    expect(obj(await json(list)).value).toEqual([]);
    expect(ids(await owner.graph.api('/users').get())).toEqual([secret]);
  });

  it('accepts 20 requests and refuses 21 (400), running none of them', async () => {
    const tenant = await service.newTenant();
    const twenty = Array.from({ length: 20 }, (_, i) => ({
      id: String(i + 1),
      method: 'POST',
      url: '/users',
      headers: { 'Content-Type': 'application/json' },
      body: newUser(`bulk${i}`),
    }));
    const answer = obj(await tenant.graph.api('/$batch').post({ requests: twenty }));
    const statuses = batchResponse(answer);
    expect([...statuses.getResponses().values()].map((r) => r.status)).toEqual(Array(20).fill(201));

    const other = await service.newTenant();
    const twentyOne = [...twenty, { ...twenty[0], id: '21' }].map((r) => ({
      ...r,
      body: newUser(`${r.id}.other`),
    }));
    await expectGraphError(
      other.graph.api('/$batch').post({ requests: twentyOne }),
      400,
      'Request_BadRequest',
      'The number of requests in a batch must not exceed 20.',
    );
    expect(obj(await other.graph.api('/users').get()).value).toEqual([]);
    // The client itself refuses to build such a batch.
    expect(
      () =>
        new BatchRequestContent(
          Array.from({ length: 21 }, (_, i) => ({
            id: String(i),
            request: new Request(`${service.graphRoot}/users`),
          })),
        ),
    ).toThrow();
  });

  it('refuses malformed batches (400): duplicate ids, unknown dependencies, no requests', async () => {
    const tenant = await service.newTenant();
    const bad = [
      { requests: [] },
      {
        requests: [
          { id: '1', method: 'GET', url: '/users' },
          { id: '1', method: 'GET', url: '/groups' },
        ],
      },
      {
        requests: [
          { id: '1', method: 'GET', url: '/users', dependsOn: ['2'] },
          { id: '2', method: 'GET', url: '/groups' },
        ],
      },
      { requests: [{ id: '1', method: 'TRACE', url: '/users' }] },
      { requests: [{ id: '1', url: '/users' }] },
      { value: [] },
    ];
    for (const body of bad) {
      await expectGraphError(tenant.graph.api('/$batch').post(body), 400, 'Request_BadRequest');
    }
  });
});
