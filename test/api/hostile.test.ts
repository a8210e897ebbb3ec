// Hostile input, as a table: each bad request gets the right status and Graph's envelope (code, message, innerError
// with date, request-id and client-request-id; the request-id header), never a stack trace or a 500 — and a read of
// the whole tenant afterwards proves nothing changed.
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  arr,
  exactly,
  expectRawError,
  GRAPH_TOKEN_SIGNING_KEY,
  type HttpResult,
  ids,
  items,
  type Json,
  obj,
  type RawOptions,
  type Service,
  startService,
  str,
  type Tenant,
} from './support.js';

let service: Service;
let home: Tenant;
let stranger: Tenant;
/** Objects of `home`. */
let user: string;
let member: string;
let group: string;
let device: string;
let deleted: string;
/** Objects of `stranger`. */
let theirUser: string;
let theirGroup: string;
let theirDevice: string;
let theirDeleted: string;
let e3: string;

const INVALID_JSON =
  'Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.';
const DENIED = 'Insufficient privileges to complete the operation.';
const unknownProperty = (name: string) =>
  `Property '${name}' does not exist as a declared property or extension property.`;
const notFound = (id: string) =>
  `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`;

function newUser(nick = `h${randomUUID().slice(0, 8)}`) {
  return {
    accountEnabled: true,
    displayName: nick,
    mailNickname: nick,
    passwordProfile: { password: 'xWwvJ]6NMw+bWH-d' },
    userPrincipalName: `${nick}@contoso.test`,
  };
}
const newGroup = { displayName: 'G', mailEnabled: false, mailNickname: 'g', securityEnabled: true };
function newDevice() {
  return {
    accountEnabled: true,
    alternativeSecurityIds: [{ type: 2, key: 'a2V5' }],
    deviceId: randomUUID(),
    displayName: 'D',
    operatingSystem: 'Windows',
    operatingSystemVersion: '10',
  };
}
const ref = (id: string) => ({ '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${id}` });

beforeAll(async () => {
  service = await startService();
  home = await service.newTenant({ buy: { ENTERPRISEPACK: 5, OFFICE_PROPLUS_DEVICE1: 2 } });
  stranger = await service.newTenant({ buy: { ENTERPRISEPACK: 5 } });
  e3 = service.catalog.skuId('ENTERPRISEPACK');
  group = await home.createGroup('Licensed');
  [user, member, deleted] = exactly(await home.importUsers(3), 3);
  await home.graph.api(`/groups/${group}/members/$ref`).post(ref(member));
  await home.graph
    .api(`/groups/${group}/assignLicense`)
    .post({ addLicenses: [{ skuId: e3 }], removeLicenses: [] });
  await home.graph
    .api(`/users/${user}/assignLicense`)
    .post({ addLicenses: [{ skuId: e3 }], removeLicenses: [] });
  device = str(obj(await home.graph.api('/devices').post(newDevice())).id);
  await home.graph.api(`/users/${deleted}`).delete();
  theirGroup = await stranger.createGroup('Theirs');
  [theirUser, theirDeleted] = exactly(await stranger.importUsers(2), 2);
  theirDevice = str(obj(await stranger.graph.api('/devices').post(newDevice())).id);
  await stranger.graph.api(`/users/${theirDeleted}`).delete();
  await home.waitIdle();
  await stranger.waitIdle();
});
afterAll(async () => {
  await service?.stop();
});

/** Everything a reader of a tenant can see, in a stable order. */
async function snapshot(tenant: Tenant): Promise<unknown> {
  const read = async (path: string) => {
    const answer = await service.graphRaw('GET', path, { token: tenant.token });
    expect(answer.status, `${path}: ${answer.text}`).toBe(200);
    return answer.json;
  };
  const groups = await read('/groups?$select=displayName,assignedLicenses,licenseProcessingState&$top=999');
  const members: unknown[] = [];
  for (const id of ids(groups)) members.push(await read(`/groups/${id}/members?$select=id&$top=999`));
  return {
    users: await read(
      '/users?$top=999&$select=displayName,userPrincipalName,accountEnabled,usageLocation,department,proxyAddresses,licenseAssignmentStates,assignedLicenses',
    ),
    groups,
    members,
    devices: await read('/devices?$top=999&$select=displayName,licenseAssignmentStates'),
    deleted: await read('/directory/deletedItems/microsoft.graph.user?$select=licenseAssignmentStates'),
    skus: await read('/subscribedSkus'),
  };
}

interface Case {
  readonly name: string;
  readonly send: () => Promise<HttpResult>;
  readonly status: number;
  readonly code: string;
  readonly message?: string | RegExp;
}

function graph(method: string, path: string, options: RawOptions = {}): () => Promise<HttpResult> {
  return () => service.graphRaw(method, path, { token: home.token, ...options });
}

const json = (body: string, contentType = 'application/json'): RawOptions => ({
  rawBody: body,
  headers: { 'content-type': contentType },
});

async function runCases(cases: readonly Case[]): Promise<void> {
  const before = await snapshot(home);
  const theirs = await snapshot(stranger);
  for (const c of cases) {
    const answer = await c.send();
    try {
      expectRawError(answer, c.status, c.code, c.message);
      expect(answer.text).not.toMatch(/\n\s+at |node_modules|\/work\/|\.ts:\d+/);
    } catch (error: unknown) {
      throw new Error(`${c.name}: ${error instanceof Error ? error.message : String(error)}\n${answer.text}`);
    }
    expect(await snapshot(home), c.name).toEqual(before);
  }
  // Nothing was queued either, and the other tenant never moved.
  await home.waitIdle(20_000, 300);
  expect(await snapshot(home)).toEqual(before);
  expect(await snapshot(stranger)).toEqual(theirs);
}

async function sign(
  claims: Record<string, unknown>,
  options: { key?: string; exp?: number; alg?: string } = {},
) {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ roles: ['Directory.ReadWrite.All'], ...claims })
    .setProtectedHeader({ alg: options.alg ?? 'HS256', typ: 'JWT' })
    .setIssuedAt(now - 10)
    .setExpirationTime(options.exp ?? now + 600)
    .sign(new TextEncoder().encode(options.key ?? GRAPH_TOKEN_SIGNING_KEY));
}

function homeClaims(tid = home.id) {
  return { tid, aud: 'https://graph.microsoft.com', iss: `https://sts.windows.net/${tid}/` };
}

describe('hostile requests', () => {
  it('refuses missing, forged, tampered, expired and foreign tokens (401)', async () => {
    const [, payload] = home.token.split('.');
    const claims = obj(JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8')));
    const swapped = Buffer.from(JSON.stringify({ ...claims, tid: stranger.id })).toString('base64url');
    const [head, , signature] = stranger.token.split('.');
    const tampered = `${head}.${swapped}.${signature}`;
    const unsigned = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(
      JSON.stringify(homeClaims()),
    ).toString('base64url')}.`;
    const tokens: [string, Promise<string> | string][] = [
      ['forged (other key)', sign(homeClaims(), { key: 'not-the-signing-key-0123456789abcdef' })],
      ['tampered payload', tampered],
      ['expired', sign(homeClaims(), { exp: Math.floor(Date.now() / 1000) - 60 })],
      ['unknown tenant', sign(homeClaims(randomUUID()))],
      ['issuer of another tenant', sign({ ...homeClaims(), iss: `https://sts.windows.net/${stranger.id}/` })],
      ['wrong audience', sign({ ...homeClaims(), aud: 'https://management.azure.com' })],
      ['alg none', unsigned],
      ['no roles claim', sign({ ...homeClaims(), roles: 'Directory.ReadWrite.All' })],
      ['garbage', 'not.a.jwt'],
    ];
    const cases: Case[] = [];
    for (const auth of [
      undefined,
      '',
      'Bearer',
      'Bearer ',
      'Basic dXNlcjpwYXNz',
      home.token.replace('.', ' '),
    ]) {
      cases.push({
        name: `Authorization: ${auth === undefined ? '(none)' : `'${auth.slice(0, 12)}'`}`,
        send: () =>
          service.graphRaw('POST', '/users', {
            body: newUser(),
            headers: auth === undefined ? {} : { authorization: auth },
          }),
        status: 401,
        code: 'InvalidAuthenticationToken',
        message: 'Access token is empty.',
      });
    }
    for (const [name, token] of tokens) {
      const value = await token;
      for (const [method, path, body] of [
        ['GET', '/users', undefined],
        ['POST', '/users', newUser()],
        ['POST', `/users/${user}/assignLicense`, { addLicenses: [], removeLicenses: [e3] }],
        ['DELETE', `/groups/${group}/members/${member}/$ref`, undefined],
      ] as const) {
        cases.push({
          name: `${name}: ${method} ${path}`,
          send: () =>
            service.graphRaw(method, path, { token: value, ...(body === undefined ? {} : { body }) }),
          status: 401,
          code: 'InvalidAuthenticationToken',
          message: 'Access token validation failure.',
        });
      }
    }
    await runCases(cases);
  });

  it('refuses what a token’s roles do not allow (403 Authorization_RequestDenied)', async () => {
    const readUsers = await home.tokenWith(['User.Read.All']);
    const readGroups = await home.tokenWith(['Group.Read.All']);
    const licensing = await home.tokenWith(['LicenseAssignment.ReadWrite.All']);
    const devices = await home.tokenWith(['Device.ReadWrite.All']);
    const org = await home.tokenWith(['Organization.Read.All']);
    const denied: [string, string, string, unknown?][] = [
      [readUsers, 'POST', '/users', newUser()],
      [readUsers, 'PATCH', `/users/${user}`, { displayName: 'x' }],
      [readUsers, 'DELETE', `/users/${user}`],
      [readUsers, 'POST', `/users/${user}/assignLicense`, { addLicenses: [], removeLicenses: [e3] }],
      [readUsers, 'POST', `/users/${user}/reprocessLicenseAssignment`, {}],
      [readUsers, 'GET', '/groups'],
      [readUsers, 'GET', '/devices'],
      [readUsers, 'GET', '/auditLogs/directoryAudits'],
      [readUsers, 'GET', '/subscribedSkus'],
      [readUsers, 'POST', `/directory/deletedItems/${deleted}/restore`, {}],
      [readUsers, 'DELETE', `/directory/deletedItems/${deleted}`],
      [readGroups, 'GET', '/users'],
      [readGroups, 'POST', '/groups', newGroup],
      [readGroups, 'DELETE', `/groups/${group}`],
      [readGroups, 'POST', `/groups/${group}/members/$ref`, ref(user)],
      [readGroups, 'DELETE', `/groups/${group}/members/${member}/$ref`],
      [readGroups, 'POST', `/groups/${group}/assignLicense`, { addLicenses: [], removeLicenses: [e3] }],
      [readGroups, 'POST', `/groups/${group}/reprocessLicenseAssignment`, {}],
      [readGroups, 'POST', `/groups/${group}/moveLicense`, { skuId: e3, targetGroupId: group }],
      [licensing, 'POST', '/users', newUser()],
      [licensing, 'POST', '/groups', newGroup],
      [licensing, 'DELETE', `/users/${user}`],
      [licensing, 'POST', '/devices', newDevice()],
      [devices, 'GET', '/users'],
      [devices, 'POST', `/groups/${group}/assignLicense`, { addLicenses: [], removeLicenses: [e3] }],
      [org, 'GET', '/users'],
      [org, 'POST', '/devices', newDevice()],
    ];
    const cases: Case[] = denied.map(([token, method, path, body]) => ({
      name: `${method} ${path} with too few roles`,
      send: () => service.graphRaw(method, path, { token, ...(body === undefined ? {} : { body }) }),
      status: 403,
      code: 'Authorization_RequestDenied',
      message: DENIED,
    }));
    // Inside a batch, a denied request is denied too.
    cases.push({
      name: 'batch of a denied write',
      send: async () => {
        const answer = await service.graphRaw('POST', '/$batch', {
          token: readUsers,
          body: { requests: [{ id: '1', method: 'DELETE', url: `/users/${user}` }] },
        });
        const inner = obj(arr(obj(answer.json).responses)[0]);
        const requestId = str(obj(obj(obj(inner.body).error).innerError)['request-id']);
        return {
          status: Number(inner.status),
          headers: new Headers({ 'content-type': 'application/json', 'request-id': requestId }),
          text: JSON.stringify(inner.body),
          json: inner.body,
        };
      },
      status: 403,
      code: 'Authorization_RequestDenied',
      message: DENIED,
    });
    await runCases(cases);
    // The read roles do read.
    expect((await service.graphRaw('GET', '/users', { token: readUsers })).status).toBe(200);
    expect((await service.graphRaw('GET', '/groups', { token: readGroups })).status).toBe(200);
    expect((await service.graphRaw('GET', '/devices', { token: devices })).status).toBe(200);
    expect((await service.graphRaw('GET', '/subscribedSkus', { token: org })).status).toBe(200);
  });

  it('refuses bad bodies on every write: broken JSON, wrong types, unknown properties, non-objects (400)', async () => {
    const writes: [string, string, Json, string, unknown][] = [
      // method, path, a valid body, a property to break, a wrong-typed value for it
      ['POST', '/users', newUser(), 'accountEnabled', 'yes'],
      ['PATCH', `/users/${user}`, { displayName: 'Renamed' }, 'usageLocation', 'USA'],
      ['POST', '/groups', newGroup, 'securityEnabled', 1],
      ['POST', '/devices', newDevice(), 'deviceId', 'not-a-guid'],
      ['POST', `/groups/${group}/members/$ref`, ref(user), '@odata.id', 42],
      [
        'POST',
        `/users/${user}/assignLicense`,
        { addLicenses: [], removeLicenses: [e3] },
        'removeLicenses',
        e3,
      ],
      [
        'POST',
        `/groups/${group}/assignLicense`,
        { addLicenses: [], removeLicenses: [e3] },
        'addLicenses',
        {},
      ],
      ['POST', `/groups/${group}/moveLicense`, { skuId: e3, targetGroupId: group }, 'targetGroupId', 'nope'],
    ];
    const cases: Case[] = [];
    for (const [method, path, valid, property, wrong] of writes) {
      const named = `${method} ${path}`;
      cases.push(
        {
          name: `${named}: broken JSON`,
          send: graph(method, path, json('{"displayName": ')),
          status: 400,
          code: 'Request_BadRequest',
          message: INVALID_JSON,
        },
        {
          name: `${named}: empty body`,
          send: graph(method, path, json('')),
          status: 400,
          code: 'Request_BadRequest',
          message: INVALID_JSON,
        },
        {
          name: `${named}: wrong type for ${property}`,
          send: graph(method, path, { body: { ...valid, [property]: wrong } }),
          status: 400,
          code: 'Request_BadRequest',
          message: new RegExp(`property '${property.replace(/[.$]/g, '\\$&')}'`),
        },
        {
          name: `${named}: unknown property`,
          send: graph(method, path, { body: { ...valid, shoeSize: 44 } }),
          status: 400,
          code: 'Request_BadRequest',
          message: unknownProperty('shoeSize'),
        },
        ...['[]', '"text"', 'null', '42'].map((raw) => ({
          name: `${named}: body ${raw}`,
          send: graph(method, path, json(raw)),
          status: 400,
          code: 'Request_BadRequest',
        })),
      );
    }
    cases.push(
      {
        name: 'unknown property inside a license',
        send: graph('POST', `/users/${user}/assignLicense`, {
          body: { addLicenses: [{ skuId: e3, disabledPlans: [], extra: true }], removeLicenses: [] },
        }),
        status: 400,
        code: 'Request_BadRequest',
        message: unknownProperty('extra'),
      },
      {
        name: 'unknown property inside passwordProfile',
        send: graph('POST', '/users', {
          body: { ...newUser(), passwordProfile: { password: 'x', hint: 'y' } },
        }),
        status: 400,
        code: 'Request_BadRequest',
        message: unknownProperty('hint'),
      },
      {
        name: 'missing required property',
        send: graph('POST', '/users', { body: { ...newUser(), userPrincipalName: undefined } }),
        status: 400,
        code: 'Request_BadRequest',
        message: "Required property 'userPrincipalName' is missing on the User.",
      },
      {
        name: 'read-only property on PATCH',
        send: graph('PATCH', `/users/${user}`, { body: { id: randomUUID() } }),
        status: 400,
        code: 'Request_BadRequest',
        message: unknownProperty('id'),
      },
      {
        name: 'a reference that is not a directory object',
        send: graph('POST', `/groups/${group}/members/$ref`, {
          body: { '@odata.id': 'https://evil.test/x' },
        }),
        status: 400,
        code: 'Request_BadRequest',
      },
      {
        name: 'a displayName far too long',
        send: graph('POST', '/groups', { body: { ...newGroup, displayName: 'x'.repeat(10_000) } }),
        status: 400,
        code: 'Request_BadRequest',
      },
    );
    await runCases(cases);
  });

  it('refuses other content types (415) and huge bodies (413)', async () => {
    const huge = JSON.stringify({ ...newUser(), displayName: 'x'.repeat(5 * 1024 * 1024) });
    const cases: Case[] = [];
    for (const [method, path] of [
      ['POST', '/users'],
      ['PATCH', `/users/${user}`],
      ['POST', `/groups/${group}/assignLicense`],
      ['POST', '/$batch'],
    ] as const) {
      for (const type of [
        'text/plain',
        'application/xml',
        'application/x-www-form-urlencoded',
        'multipart/form-data',
      ]) {
        cases.push({
          name: `${method} ${path} as ${type}`,
          send: graph(method, path, json(JSON.stringify(newUser()), type)),
          status: 415,
          code: 'UnsupportedMediaType',
        });
      }
      cases.push({
        name: `${method} ${path} of 5 MB`,
        send: graph(method, path, json(huge)),
        status: 413,
        code: 'RequestEntityTooLarge',
      });
    }
    cases.push({
      name: 'webhook batch of 5 MB',
      send: () =>
        service.http('POST', '/api/webhooks/graph', {
          rawBody: JSON.stringify({ value: [], padding: 'x'.repeat(5 * 1024 * 1024) }),
          headers: { 'content-type': 'application/json' },
        }),
      status: 413,
      code: 'RequestEntityTooLarge',
    });
    // The operator API's small bodies (tokens, app secrets) have their cap too.
    const padding = 'x'.repeat(2 * 1024 * 1024);
    cases.push({
      name: 'operator token request of 2 MB',
      send: () => service.manage('POST', `/tenants/${home.id}/tokens`, { padding }),
      status: 413,
      code: 'RequestEntityTooLarge',
    });
    await runCases(cases);
  });

  it('answers 404 for ids that are not GUIDs and for ids of another tenant', async () => {
    const cases: Case[] = [];
    const paths = (ids: { user: string; group: string; device: string; deleted: string; member: string }) =>
      [
        ['GET', `/users/${ids.user}`],
        ['PATCH', `/users/${ids.user}`, { displayName: 'Hijacked' }],
        ['DELETE', `/users/${ids.user}`],
        ['POST', `/users/${ids.user}/assignLicense`, { addLicenses: [{ skuId: e3 }], removeLicenses: [] }],
        ['POST', `/users/${ids.user}/reprocessLicenseAssignment`, {}],
        ['GET', `/users/${ids.user}/licenseDetails`],
        ['GET', `/groups/${ids.group}`],
        ['DELETE', `/groups/${ids.group}`],
        ['GET', `/groups/${ids.group}/members`],
        ['POST', `/groups/${ids.group}/members/$ref`, ref(user)],
        ['POST', `/groups/${group}/members/$ref`, ref(ids.user)],
        ['DELETE', `/groups/${ids.group}/members/${member}/$ref`],
        ['DELETE', `/groups/${group}/members/${ids.member}/$ref`],
        ['POST', `/groups/${ids.group}/assignLicense`, { addLicenses: [], removeLicenses: [] }],
        ['GET', `/groups/${ids.group}/membersWithLicenseErrors`],
        ['GET', `/groups/${ids.group}/licenseProcessingDetails`],
        ['POST', `/groups/${ids.group}/reprocessLicenseAssignment`, {}],
        ['POST', `/groups/${ids.group}/moveLicense`, { skuId: e3, targetGroupId: group }],
        ['GET', `/devices/${ids.device}`],
        ['DELETE', `/devices/${ids.device}`],
        ['GET', `/directory/deletedItems/${ids.deleted}`],
        ['POST', `/directory/deletedItems/${ids.deleted}/restore`, {}],
        ['DELETE', `/directory/deletedItems/${ids.deleted}`],
      ] as const;
    const targets = [
      {
        label: 'not a GUID',
        user: 'not-a-guid',
        group: '12345',
        device: 'device-1',
        deleted: 'x',
        member: 'nobody',
      },
      {
        label: 'another tenant',
        user: theirUser,
        group: theirGroup,
        device: theirDevice,
        deleted: theirDeleted,
        member: theirUser,
      },
      {
        label: 'nobody',
        user: randomUUID(),
        group: randomUUID(),
        device: randomUUID(),
        deleted: randomUUID(),
        member: randomUUID(),
      },
    ];
    for (const target of targets) {
      for (const [method, path, body] of paths(target)) {
        // In a body, a reference that is not a GUID is malformed (400, below), not missing.
        if (target.label === 'not a GUID' && path === `/groups/${group}/members/$ref`) continue;
        cases.push({
          name: `${target.label}: ${method} ${path}`,
          send: graph(method, path, body === undefined ? {} : { body }),
          status: 404,
          code: 'Request_ResourceNotFound',
          message:
            /^Resource '.+' does not exist or one of its queried reference-property objects are not present\.$/,
        });
      }
    }
    cases.push({
      name: 'a reference to a non-GUID id',
      send: graph('POST', `/groups/${group}/members/$ref`, { body: ref('not-a-guid') }),
      status: 400,
      code: 'Request_BadRequest',
      message: "Invalid object identifier 'https://graph.microsoft.com/v1.0/directoryObjects/not-a-guid'.",
    });
    // A group whose members@odata.bind names someone missing is not created at all.
    for (const [label, missing] of [
      ['nobody', randomUUID()],
      ['another tenant’s user', theirUser],
    ] as const) {
      cases.push({
        name: `POST /groups binding ${label}`,
        send: graph('POST', '/groups', {
          body: {
            ...newGroup,
            'members@odata.bind': [
              `https://graph.microsoft.com/v1.0/directoryObjects/${user}`,
              `https://graph.microsoft.com/v1.0/directoryObjects/${missing}`,
            ],
          },
        }),
        status: 404,
        code: 'Request_ResourceNotFound',
        message: notFound(missing),
      });
    }
    // Kinds do not cross: a user is not a device, a live user is not a deleted item, a group is not a user.
    cases.push(
      {
        name: 'a user as a device',
        send: graph('GET', `/devices/${user}`),
        status: 404,
        code: 'Request_ResourceNotFound',
        message: notFound(user),
      },
      {
        name: 'a device as a user',
        send: graph('GET', `/users/${device}`),
        status: 404,
        code: 'Request_ResourceNotFound',
        message: notFound(device),
      },
      {
        name: 'a live user as deleted',
        send: graph('DELETE', `/directory/deletedItems/${user}`),
        status: 404,
        code: 'Request_ResourceNotFound',
      },
      {
        name: 'a group as a user',
        send: graph('GET', `/users/${group}`),
        status: 404,
        code: 'Request_ResourceNotFound',
      },
      {
        name: 'a deleted user as a user',
        send: graph('PATCH', `/users/${deleted}`, { body: { displayName: 'x' } }),
        status: 404,
        code: 'Request_ResourceNotFound',
      },
    );
    await runCases(cases);
  });

  it('refuses bad query options (400) without touching anything', async () => {
    const cases: Case[] = [
      ...['0', '1000', 'abc', '-5', '99999999999999999999'].map((top) => ({
        name: `$top=${top}`,
        send: graph('GET', `/users?$top=${top}`),
        status: 400,
        code: 'Request_BadRequest',
      })),
      {
        name: '$select unknown',
        send: graph('GET', '/users?$select=password'),
        status: 400,
        code: 'Request_BadRequest',
      },
      {
        name: '$skiptoken garbage',
        send: graph('GET', '/users?$skiptoken=%7B%7D'),
        status: 400,
        code: 'Request_BadRequest',
      },
      {
        name: '$filter injection attempt',
        send: graph(
          'GET',
          `/users?$filter=${encodeURIComponent("usageLocation eq 'US') or (PartitionKey ne ''")}`,
        ),
        status: 400,
        code: 'Request_UnsupportedQuery',
      },
      {
        name: '$filter on another tenant’s partitions',
        send: graph('GET', `/users?$filter=${encodeURIComponent(`PartitionKey eq '${stranger.id}|00'`)}`),
        status: 400,
        code: 'Request_UnsupportedQuery',
      },
      {
        name: '$count=maybe',
        send: graph('GET', '/users?$count=maybe'),
        status: 400,
        code: 'Request_BadRequest',
      },
      ...['$orderby=displayName', '$expand=memberOf', '$search="displayName:a"', '$skip=5', '$apply=x'].map(
        (option) => ({
          name: `unsupported option ${option}`,
          send: graph('GET', `/users?${option}`),
          status: 400,
          code: 'Request_UnsupportedQuery',
          message: `The query option '${option.split('=')[0]}' is not supported by this service.`,
        }),
      ),
    ];
    await runCases(cases);
    // A quote inside a string literal is data, not syntax: nobody matches, nothing leaks.
    const quoted = await service.graphRaw(
      'GET',
      `/users?$filter=${encodeURIComponent("startswith(displayName,'x'' or RowKey ne ''')")}`,
      { token: home.token },
    );
    expect(quoted.status).toBe(200);
    expect(items(quoted.json)).toEqual([]);
  });

  it('echoes only a sane client-request-id', async () => {
    const mine = randomUUID();
    const echoed = await service.graphRaw('GET', `/users/${randomUUID()}`, {
      token: home.token,
      headers: { 'client-request-id': mine },
    });
    expect(echoed.headers.get('client-request-id')).toBe(mine);
    expect(JSON.stringify(echoed.json)).toContain(mine);
    const odd = `<script>${'x'.repeat(300)}`;
    const refused = await service.graphRaw('GET', `/users/${randomUUID()}`, {
      token: home.token,
      headers: { 'client-request-id': odd },
    });
    expectRawError(refused, 404, 'Request_ResourceNotFound');
    expect(refused.text).not.toContain('<script>');
    expect(refused.headers.get('client-request-id')).toBe(refused.headers.get('request-id'));
  });
});
