// What the scenarios do and read through the Graph-compatible API, with the official Graph client. Every response
// is narrowed with a schema; a request that fails where it should not fails the scenario with Graph's code and
// message.
import { GraphError, ResponseType } from '@microsoft/microsoft-graph-client';
import { z } from 'zod';
import {
  type assignedLicenseSchema,
  collectionSchema,
  deviceSchema,
  directoryAuditSchema,
  directoryObjectSchema,
  groupSchema,
  type licenseAssignmentStateSchema,
  licenseProcessingDetailsSchema,
  processingStateSchema,
  subscribedSkuSchema,
  userSchema,
} from '../../contract/graph.js';
import { GUID_TEXT } from '../../engine/ids.js';
import type { Scenario } from './run.js';

// The views below are cut from the Graph wire contract (src/contract/graph.ts) by the properties each read selects.
export type LicenseState = z.infer<typeof licenseAssignmentStateSchema>;
export type AssignedLicense = z.infer<typeof assignedLicenseSchema>;

/** A user read with `$select=id,licenseAssignmentStates,assignedLicenses`. */
const userPrincipalSchema = userSchema.pick({
  id: true,
  licenseAssignmentStates: true,
  assignedLicenses: true,
});
/** A device read with the same `$select` (device licenses are an extension). */
const devicePrincipalSchema = deviceSchema.pick({
  id: true,
  licenseAssignmentStates: true,
  assignedLicenses: true,
});
export type Principal = z.infer<typeof userPrincipalSchema>;

/** A user read with its plans and usage location too. */
const userDetailSchema = userSchema.pick({
  id: true,
  licenseAssignmentStates: true,
  assignedLicenses: true,
  assignedPlans: true,
  usageLocation: true,
});
export type UserDetail = z.infer<typeof userDetailSchema>;

/** A user with the facts licensing looks at (for the oracle). */
const userFactsSchema = userSchema.pick({
  id: true,
  licenseAssignmentStates: true,
  assignedLicenses: true,
  usageLocation: true,
  proxyAddresses: true,
});
export type UserFacts = z.infer<typeof userFactsSchema>;

const USER_DETAIL = 'id,licenseAssignmentStates,assignedLicenses,assignedPlans,usageLocation';
const USER_FACTS = 'id,licenseAssignmentStates,assignedLicenses,usageLocation,proxyAddresses';
const PRINCIPAL = 'id,licenseAssignmentStates,assignedLicenses';

export type SubscribedSku = z.infer<typeof subscribedSkuSchema>;

/** Graph's processing states, in the order a group passes through them. */
export const processingStates = processingStateSchema.options;
export type ProcessingState = z.infer<typeof processingStateSchema>;

/** A group read with `$select=id,assignedLicenses,licenseProcessingState`. */
const groupLicensingSchema = groupSchema.pick({
  id: true,
  assignedLicenses: true,
  licenseProcessingState: true,
});

export type ProcessingDetails = z.infer<typeof licenseProcessingDetailsSchema>;
export type Audit = z.infer<typeof directoryAuditSchema>;

/** A user read with `$select=id`, or the body of a write that answers with the object. */
const userIdSchema = userSchema.pick({ id: true });
const groupIdSchema = groupSchema.pick({ id: true });
/** A page of any collection; its items are parsed one by one, so a bad item is named. */
const pageSchema = collectionSchema(z.unknown());

function issues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ');
}

/** Narrows a response; a response of the wrong shape fails the scenario. */
export function parse<T>(s: Scenario, schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (!result.success) s.fail(`the shape of ${what}`, 'a valid response', issues(result.error));
  return result.data;
}

function describeError(error: unknown): string | undefined {
  if (error instanceof GraphError) return `${error.statusCode} ${error.code ?? ''}: ${error.message}`;
  return undefined;
}

/** Runs one Graph request; a Graph error fails the scenario, naming the request. */
async function send(s: Scenario, what: string, request: () => Promise<unknown>): Promise<unknown> {
  try {
    return await request();
  } catch (error: unknown) {
    const described = describeError(error);
    if (described !== undefined) s.fail(what, 'success', described);
    throw error;
  }
}

/**
 * The path under /v1.0 of an `@odata.nextLink`: the service gives it relative to the service root; an absolute
 * link (Graph's form) is cut after `/v1.0` (the client only strips https hosts by itself).
 */
function relativeLink(link: string): string {
  if (!URL.canParse(link)) return link.startsWith('/') ? link : `/${link}`;
  const url = new URL(link);
  const at = url.pathname.indexOf('/v1.0/');
  if (at < 0) throw new Error(`unexpected @odata.nextLink ${link}`);
  return url.pathname.slice(at + '/v1.0'.length) + url.search;
}

/** Every item of a collection, following `@odata.nextLink` (bounded). */
export async function listAll<T>(
  s: Scenario,
  path: string,
  schema: z.ZodType<T>,
  what: string,
): Promise<T[]> {
  const items: T[] = [];
  let next: string | undefined = path;
  for (let pages = 0; next !== undefined; pages++) {
    if (pages > 5_000) s.fail(`paging through ${what}`, 'at most 5,000 pages', 'more');
    const link: string = next;
    const page = parse(s, pageSchema, await send(s, `GET ${link}`, () => s.graph.api(link).get()), what);
    for (const item of page.value) items.push(parse(s, schema, item, `an item of ${what}`));
    next = page['@odata.nextLink'] === undefined ? undefined : relativeLink(page['@odata.nextLink']);
  }
  return items;
}

// ---------------------------------------------------------------------------------------------------------
// Directory writes

export interface NewUser {
  readonly userPrincipalName: string;
  readonly displayName: string;
  readonly usageLocation?: string | null;
  readonly proxyAddresses?: readonly string[];
}

export async function createUser(s: Scenario, user: NewUser): Promise<string> {
  const created = await send(s, `POST /users ${user.userPrincipalName}`, () =>
    s.graph.api('/users').post({
      accountEnabled: true,
      displayName: user.displayName,
      mailNickname: user.userPrincipalName.split('@')[0],
      passwordProfile: { password: 'Simulated-Password-1!', forceChangePasswordNextSignIn: false },
      userPrincipalName: user.userPrincipalName,
      ...(user.usageLocation === undefined ? {} : { usageLocation: user.usageLocation }),
      ...(user.proxyAddresses === undefined ? {} : { proxyAddresses: user.proxyAddresses }),
    }),
  );
  return s.remember(parse(s, userIdSchema, created, 'the created user').id, user.displayName);
}

export async function patchUser(s: Scenario, id: string, patch: Record<string, unknown>): Promise<void> {
  await send(s, `PATCH /users/${s.label(id)}`, () => s.graph.api(`/users/${id}`).patch(patch));
}

export async function createGroup(
  s: Scenario,
  displayName: string,
  kind: { securityEnabled: boolean; mailEnabled: boolean } = { securityEnabled: true, mailEnabled: false },
): Promise<string> {
  const created = await send(s, `POST /groups ${displayName}`, () =>
    s.graph.api('/groups').post({
      displayName,
      mailNickname: displayName.replace(/[^A-Za-z0-9]/g, '').toLowerCase() || 'group',
      ...kind,
    }),
  );
  return s.remember(parse(s, groupIdSchema, created, 'the created group').id, displayName);
}

/** A dynamic security group (`groupTypes: ["DynamicMembership"]`) with this rule, processing On. */
export async function createDynamicGroup(
  s: Scenario,
  displayName: string,
  membershipRule: string,
): Promise<string> {
  const created = await send(s, `POST /groups ${displayName} (${membershipRule})`, () =>
    s.graph.api('/groups').post({
      displayName,
      mailNickname: displayName.replace(/[^A-Za-z0-9]/g, '').toLowerCase() || 'group',
      securityEnabled: true,
      mailEnabled: false,
      groupTypes: ['DynamicMembership'],
      membershipRule,
      membershipRuleProcessingState: 'On',
    }),
  );
  return s.remember(parse(s, groupIdSchema, created, 'the created group').id, displayName);
}

export async function patchGroup(s: Scenario, id: string, patch: Record<string, unknown>): Promise<void> {
  await send(s, `PATCH /groups/${s.label(id)} ${JSON.stringify(patch)}`, () =>
    s.graph.api(`/groups/${id}`).patch(patch),
  );
}

export async function addMember(s: Scenario, groupId: string, memberId: string): Promise<void> {
  await send(s, `POST /groups/${s.label(groupId)}/members/$ref ${s.label(memberId)}`, () =>
    s.graph
      .api(`/groups/${groupId}/members/$ref`)
      .post({ '@odata.id': `${s.service.baseUrl}/api/v1.0/directoryObjects/${memberId}` }),
  );
}

export async function removeMember(s: Scenario, groupId: string, memberId: string): Promise<void> {
  await send(s, `DELETE /groups/${s.label(groupId)}/members/${s.label(memberId)}/$ref`, () =>
    s.graph.api(`/groups/${groupId}/members/${memberId}/$ref`).delete(),
  );
}

export interface LicenseToAdd {
  readonly skuId: string;
  readonly disabledPlans: readonly string[];
}

/** Direct `assignLicense` (synchronous: 200 and the user). */
export async function assignUserLicense(
  s: Scenario,
  userId: string,
  add: readonly LicenseToAdd[],
  remove: readonly string[],
): Promise<void> {
  const what = `POST /users/${s.label(userId)}/assignLicense`;
  const raw = await send(s, what, () =>
    s.graph
      .api(`/users/${userId}/assignLicense`)
      .responseType(ResponseType.RAW)
      .post({ addLicenses: add, removeLicenses: remove }),
  );
  await expectStatus(s, what, raw, 200);
}

export async function reprocessUser(s: Scenario, userId: string): Promise<void> {
  const what = `POST /users/${s.label(userId)}/reprocessLicenseAssignment`;
  const raw = await send(s, what, () =>
    s.graph.api(`/users/${userId}/reprocessLicenseAssignment`).responseType(ResponseType.RAW).post({}),
  );
  await expectStatus(s, what, raw, 200);
}

/** Checks the status of a raw response; returns it. */
async function expectStatus(s: Scenario, what: string, raw: unknown, status: number): Promise<Response> {
  if (!(raw instanceof Response)) throw new Error(`${what}: the Graph client returned no raw response`);
  if (raw.status !== status) s.fail(`the status of ${what}`, status, `${raw.status} ${await raw.text()}`);
  return raw;
}

/**
 * Group `assignLicense`: 202 Accepted, the group as body and a `Location` header naming it (api.md). Processing
 * continues on the queues; see `watchProcessing`.
 */
export async function assignGroupLicense(
  s: Scenario,
  groupId: string,
  add: readonly LicenseToAdd[],
  remove: readonly string[],
): Promise<void> {
  const what = `POST /groups/${s.label(groupId)}/assignLicense`;
  const raw = await send(s, what, () =>
    s.graph
      .api(`/groups/${groupId}/assignLicense`)
      .responseType(ResponseType.RAW)
      .post({ addLicenses: add, removeLicenses: remove }),
  );
  const response = await expectStatus(s, what, raw, 202);
  const body = parse(s, groupIdSchema, await response.json(), `the body of ${what}`);
  s.expect(`the group in the body of ${what}`, groupId, body.id, '');
  const location = response.headers.get('location') ?? '';
  if (!location.endsWith(`/v1.0/groups/${groupId}`))
    s.fail(`the Location header of ${what}`, `…/v1.0/groups/${groupId}`, location);
}

/** The group reprocess extension: 202. */
export async function reprocessGroup(s: Scenario, groupId: string): Promise<void> {
  const what = `POST /groups/${s.label(groupId)}/reprocessLicenseAssignment`;
  const raw = await send(s, what, () =>
    s.graph.api(`/groups/${groupId}/reprocessLicenseAssignment`).responseType(ResponseType.RAW).post({}),
  );
  await expectStatus(s, what, raw, 202);
}

/** The `moveLicense` extension: a device subscription moves to another group; 202. */
export async function moveLicense(s: Scenario, fromGroupId: string, skuId: string, toGroupId: string) {
  const what = `POST /groups/${s.label(fromGroupId)}/moveLicense`;
  const raw = await send(s, what, () =>
    s.graph
      .api(`/groups/${fromGroupId}/moveLicense`)
      .responseType(ResponseType.RAW)
      .post({ skuId, targetGroupId: toGroupId }),
  );
  await expectStatus(s, what, raw, 202);
}

export async function deleteUser(s: Scenario, userId: string): Promise<void> {
  await send(s, `DELETE /users/${s.label(userId)}`, () => s.graph.api(`/users/${userId}`).delete());
}

export async function restoreUser(s: Scenario, userId: string): Promise<void> {
  const what = `POST /directory/deletedItems/${s.label(userId)}/restore`;
  const raw = await send(s, what, () =>
    s.graph.api(`/directory/deletedItems/${userId}/restore`).responseType(ResponseType.RAW).post({}),
  );
  const response = await expectStatus(s, what, raw, 200);
  s.expect(
    `the user restored by ${what}`,
    userId,
    parse(s, userIdSchema, await response.json(), what).id,
    '',
  );
}

export async function hardDeleteUser(s: Scenario, userId: string): Promise<void> {
  const what = `DELETE /directory/deletedItems/${s.label(userId)}`;
  const raw = await send(s, what, () =>
    s.graph.api(`/directory/deletedItems/${userId}`).responseType(ResponseType.RAW).delete(),
  );
  await expectStatus(s, what, raw, 204);
}

export interface Refusal {
  readonly status: number;
  readonly code: string;
  /** The exact message, or a test of it when the wording is the service's own. */
  readonly message: string | ((message: string) => boolean);
}

const GUIDS = new RegExp(GUID_TEXT, 'g');

/** A request line with the ids it names replaced by their labels (for messages). */
export function labelled(s: Scenario, method: string, path: string): string {
  return `${method} ${path.replace(GUIDS, (id) => s.label(id))}`;
}

export interface RefusedRequest {
  readonly method: 'POST' | 'PATCH' | 'DELETE';
  readonly path: string;
  readonly body?: unknown;
}

/** Expects a request to be refused with this status, code and message (api.md's table, word for word). */
export async function expectRefusal(s: Scenario, request: RefusedRequest, refusal: Refusal): Promise<string> {
  const what = labelled(s, request.method, request.path);
  const api = s.graph.api(request.path);
  try {
    if (request.method === 'POST') await api.post(request.body ?? {});
    else if (request.method === 'PATCH') await api.patch(request.body ?? {});
    else await api.delete();
  } catch (error: unknown) {
    if (!(error instanceof GraphError)) throw error;
    const got = { status: error.statusCode, code: error.code, message: error.message };
    const messageOk =
      typeof refusal.message === 'string' ? got.message === refusal.message : refusal.message(got.message);
    if (got.status !== refusal.status || got.code !== refusal.code || !messageOk) {
      s.fail(
        `the refusal of ${what}`,
        typeof refusal.message === 'string' ? refusal : { ...refusal, message: '(the service’s wording)' },
        got,
      );
    }
    s.ok(`${what} → ${got.status} ${got.code}: "${got.message}"`);
    return got.message;
  }
  return s.fail(`the refusal of ${what}`, `${refusal.status} ${refusal.code}`, 'success');
}

// ---------------------------------------------------------------------------------------------------------
// Reads

export async function readUser(s: Scenario, userId: string): Promise<UserDetail> {
  const path = `/users/${userId}?$select=${USER_DETAIL}`;
  return parse(s, userDetailSchema, await send(s, `GET ${path}`, () => s.graph.api(path).get()), path);
}

/** A soft-deleted user, with its license entries (`GET /directory/deletedItems/{id}`). */
export async function readDeletedUser(s: Scenario, userId: string): Promise<UserDetail> {
  const path = `/directory/deletedItems/${userId}?$select=${USER_DETAIL}`;
  return parse(s, userDetailSchema, await send(s, `GET ${path}`, () => s.graph.api(path).get()), path);
}

/** The HTTP status of a GET (for 404 checks). */
export async function statusOf(s: Scenario, path: string): Promise<number> {
  const raw = await s.graph.api(path).responseType(ResponseType.RAW).get();
  if (!(raw instanceof Response)) throw new Error(`GET ${path}: the Graph client returned no raw response`);
  await raw.arrayBuffer();
  return raw.status;
}

export function listUsers(s: Scenario): Promise<Principal[]> {
  return listAll(s, `/users?$select=${PRINCIPAL}&$top=999`, userPrincipalSchema, 'GET /users');
}

export function listUserDetails(s: Scenario): Promise<UserDetail[]> {
  return listAll(s, `/users?$select=${USER_DETAIL}&$top=999`, userDetailSchema, 'GET /users');
}

export function listUserFacts(s: Scenario): Promise<UserFacts[]> {
  return listAll(s, `/users?$select=${USER_FACTS}&$top=999`, userFactsSchema, 'GET /users');
}

export function listDeletedUsers(s: Scenario): Promise<Principal[]> {
  return listAll(
    s,
    `/directory/deletedItems/microsoft.graph.user?$select=${PRINCIPAL}&$top=999`,
    userPrincipalSchema,
    'GET /directory/deletedItems/microsoft.graph.user',
  );
}

export function listDevices(s: Scenario): Promise<Principal[]> {
  return listAll(s, `/devices?$select=${PRINCIPAL}&$top=999`, devicePrincipalSchema, 'GET /devices');
}

export async function readDevice(s: Scenario, deviceId: string): Promise<Principal> {
  const path = `/devices/${deviceId}?$select=${PRINCIPAL}`;
  return parse(s, devicePrincipalSchema, await send(s, `GET ${path}`, () => s.graph.api(path).get()), path);
}

export async function listDeletedUserIds(s: Scenario): Promise<string[]> {
  const users = await listAll(
    s,
    '/directory/deletedItems/microsoft.graph.user?$select=id',
    userIdSchema,
    'GET /directory/deletedItems/microsoft.graph.user',
  );
  return users.map((u) => u.id);
}

export async function subscribedSkus(s: Scenario): Promise<Map<string, SubscribedSku>> {
  const list = await listAll(s, '/subscribedSkus', subscribedSkuSchema, 'GET /subscribedSkus');
  return new Map(list.map((sku) => [sku.skuId, sku]));
}

/** Checks `consumedUnits` of SKUs (by part number) and prints them with their Available count. */
export async function expectConsumed(s: Scenario, expected: Readonly<Record<string, number>>): Promise<void> {
  const skus = await subscribedSkus(s);
  const got: Record<string, number | null> = {};
  const want: Record<string, number> = {};
  const shown: string[] = [];
  for (const [partNumber, units] of Object.entries(expected)) {
    const sku = skus.get(s.catalog.sku(partNumber).skuId);
    want[partNumber] = units;
    got[partNumber] = sku?.consumedUnits ?? null;
    if (sku) {
      const total = sku.prepaidUnits.enabled + sku.prepaidUnits.warning;
      shown.push(
        `${partNumber} ${sku.consumedUnits}/${total} (Available ${Math.max(0, total - sku.consumedUnits)})`,
      );
    }
  }
  s.expect('consumedUnits in /subscribedSkus', want, got, `consumedUnits: ${shown.join(', ')}`);
}

/** A dynamic group's rule, processing state and status (Graph beta's `membershipRuleProcessingStatus`). */
const groupRuleSchema = groupSchema.pick({
  groupTypes: true,
  membershipRule: true,
  membershipRuleProcessingState: true,
  membershipRuleProcessingStatus: true,
});

export async function readGroupRule(s: Scenario, groupId: string) {
  const path = `/groups/${groupId}?$select=groupTypes,membershipRule,membershipRuleProcessingState,membershipRuleProcessingStatus`;
  return parse(s, groupRuleSchema, await send(s, `GET ${path}`, () => s.graph.api(path).get()), path);
}

export async function readGroupLicensing(s: Scenario, groupId: string) {
  const path = `/groups/${groupId}?$select=id,assignedLicenses,licenseProcessingState`;
  return parse(s, groupLicensingSchema, await send(s, `GET ${path}`, () => s.graph.api(path).get()), path);
}

export async function readProcessingDetails(s: Scenario, groupId: string): Promise<ProcessingDetails> {
  const path = `/groups/${groupId}/licenseProcessingDetails`;
  return parse(
    s,
    licenseProcessingDetailsSchema,
    await send(s, `GET ${path}`, () => s.graph.api(path).get()),
    path,
  );
}

/** The licensed groups of the tenant: id and `assignedLicenses`. */
export async function licensedGroups(
  s: Scenario,
): Promise<{ id: string; assignedLicenses: AssignedLicense[] }[]> {
  const groups = await listAll(
    s,
    '/groups?$select=id,assignedLicenses,licenseProcessingState&$top=999',
    groupLicensingSchema,
    'GET /groups',
  );
  return groups.filter((g) => g.assignedLicenses.length > 0);
}

export async function groupMembers(s: Scenario, groupId: string): Promise<{ id: string; type: string }[]> {
  const members = await listAll(
    s,
    `/groups/${groupId}/members?$select=id&$top=999`,
    directoryObjectSchema,
    `GET /groups/${s.label(groupId)}/members`,
  );
  return members.map((m) => ({ id: m.id, type: m['@odata.type'].replace('#microsoft.graph.', '') }));
}

export async function membersWithLicenseErrors(s: Scenario, groupId: string): Promise<string[]> {
  const members = await listAll(
    s,
    `/groups/${groupId}/membersWithLicenseErrors?$select=id&$top=999`,
    directoryObjectSchema,
    `GET /groups/${s.label(groupId)}/membersWithLicenseErrors`,
  );
  return members.map((m) => m.id);
}

export async function groupsWithLicenseErrors(s: Scenario): Promise<string[]> {
  const groups = await listAll(
    s,
    `/groups?$filter=${encodeURIComponent('hasMembersWithLicenseErrors eq true')}&$select=id`,
    groupIdSchema,
    'GET /groups?$filter=hasMembersWithLicenseErrors eq true',
  );
  return groups.map((g) => g.id);
}

/** Audit records of one activity, newest first. */
export function audits(s: Scenario, activity: string): Promise<Audit[]> {
  return listAll(
    s,
    `/auditLogs/directoryAudits?$filter=${encodeURIComponent(`activityDisplayName eq '${activity}'`)}`,
    directoryAuditSchema,
    `GET /auditLogs/directoryAudits (${activity})`,
  );
}
