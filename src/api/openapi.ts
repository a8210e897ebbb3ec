import { z } from 'zod';
import {
  allotmentSchema,
  alternativeSecurityIdSchema,
  assignedLicenseSchema,
  assignedPlanSchema,
  assignmentErrorSchema,
  cloudLicensingServiceSchema,
  cloudLicensingSubscriptionSchema,
  collectionSchema,
  directoryAuditSchema,
  directoryObjectSchema,
  evaluateDynamicMembershipResultSchema,
  expressionEvaluationDetailsSchema,
  graphErrorSchema,
  licenseAssignmentPreviewSchema,
  licenseAssignmentStateSchema,
  licenseDetailsSchema,
  licenseProcessingDetailsSchema,
  licenseSummarySchema,
  selectedDeviceSchema,
  selectedGroupSchema,
  selectedUserSchema,
  servicePlanInfoSchema,
  subscribedSkuSchema,
  usageRightSchema,
  waitingMemberCollectionSchema,
  waitingMemberSchema,
  waitingPrincipalCollectionSchema,
  waitingPrincipalSchema,
} from '../contract/graph.js';
import {
  assignLicenseSchema,
  batchSchema,
  changeNotificationCollectionSchema,
  evaluateDynamicMembershipSchema,
  evaluateGroupMembershipSchema,
  groupPatchSchema,
  moveLicenseSchema,
  newDeviceSchema,
  newGroupSchema,
  newUserSchema,
  referenceSchema,
  userPatchSchema,
} from './graph/wire.js';
import { alertPatchSchema, newAlertSchema } from './manage-alerts.js';
import type { GraphRoute } from './routing.js';

/**
 * The OpenAPI 3 document of the whole HTTP surface (`GET /api/openapi.json`). Paths and methods of the Graph
 * surface come from the same route table the functions are registered from, so they cannot drift; a test checks
 * that every registered function appears here and nothing else does.
 */

type Schema = Record<string, unknown>;

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });

/** Request bodies, generated from the schemas the handlers parse with (src/api/graph/wire.ts). */
const bodies: Record<string, z.ZodType> = {
  NewUser: newUserSchema,
  UserPatch: userPatchSchema,
  NewGroup: newGroupSchema,
  GroupPatch: groupPatchSchema,
  NewDevice: newDeviceSchema,
  AssignLicense: assignLicenseSchema,
  Reference: referenceSchema,
  MoveLicense: moveLicenseSchema,
  EvaluateDynamicMembership: evaluateDynamicMembershipSchema,
  EvaluateGroupMembership: evaluateGroupMembershipSchema,
  Batch: batchSchema,
  ChangeNotificationCollection: changeNotificationCollectionSchema,
  NewAlert: newAlertSchema,
  AlertPatch: alertPatchSchema,
};

function bodySchema(schema: z.ZodType): Schema {
  // What a client sends (`input`); transforms (lower-casing GUIDs) and preprocessing are invisible on the wire.
  return z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'input', unrepresentable: 'any' });
}

/**
 * Responses, generated from the Graph wire contract (src/contract/graph.ts) under these component names; a
 * schema used inside another one is referenced by its name rather than repeated.
 */
const responses: Readonly<Record<string, z.ZodType>> = {
  AssignedLicense: assignedLicenseSchema,
  AssignedPlan: assignedPlanSchema,
  LicenseAssignmentState: licenseAssignmentStateSchema,
  AlternativeSecurityId: alternativeSecurityIdSchema,
  ServicePlanInfo: servicePlanInfoSchema,
  User: selectedUserSchema,
  Group: selectedGroupSchema,
  Device: selectedDeviceSchema,
  DirectoryObject: directoryObjectSchema,
  SubscribedSku: subscribedSkuSchema,
  LicenseDetails: licenseDetailsSchema,
  DirectoryAudit: directoryAuditSchema,
  LicenseProcessingDetails: licenseProcessingDetailsSchema,
  LicenseAssignmentPreview: licenseAssignmentPreviewSchema,
  ExpressionEvaluationDetails: expressionEvaluationDetailsSchema,
  EvaluateDynamicMembershipResult: evaluateDynamicMembershipResultSchema,
  GraphError: graphErrorSchema,
  UserCollection: collectionSchema(selectedUserSchema),
  GroupCollection: collectionSchema(selectedGroupSchema),
  DeviceCollection: collectionSchema(selectedDeviceSchema),
  DirectoryObjectCollection: collectionSchema(directoryObjectSchema),
  SubscribedSkuCollection: collectionSchema(subscribedSkuSchema),
  LicenseDetailsCollection: collectionSchema(licenseDetailsSchema),
  DirectoryAuditCollection: collectionSchema(directoryAuditSchema),
  LicenseSummary: licenseSummarySchema,
  WaitingPrincipal: waitingPrincipalSchema,
  WaitingPrincipalCollection: waitingPrincipalCollectionSchema,
  CloudLicensingService: cloudLicensingServiceSchema,
  CloudLicensingSubscription: cloudLicensingSubscriptionSchema,
  Allotment: allotmentSchema,
  AllotmentCollection: collectionSchema(allotmentSchema),
  WaitingMember: waitingMemberSchema,
  WaitingMemberCollection: waitingMemberCollectionSchema,
  UsageRight: usageRightSchema,
  UsageRightCollection: collectionSchema(usageRightSchema),
  AssignmentError: assignmentErrorSchema,
  AssignmentErrorCollection: collectionSchema(assignmentErrorSchema),
};

function responseSchemas(): Record<string, Schema> {
  // The registry names the components; descriptions and formats come from the contract's own metadata.
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(responses)) registry.add(schema, { id });
  const { schemas } = z.toJSONSchema(registry, {
    target: 'openapi-3.0',
    io: 'output',
    unrepresentable: 'any',
    uri: (id) => `#/components/schemas/${id}`,
    override: ({ jsonSchema }) => {
      // Responses carry OData annotations (@odata.context, @odata.type) beside the properties: open objects.
      if (jsonSchema.additionalProperties === false) delete jsonSchema.additionalProperties;
      // `format: date-time` says it; zod's long pattern for it is noise to a reader.
      if (jsonSchema.format === 'date-time') delete jsonSchema.pattern;
    },
  });
  return Object.fromEntries(
    // OpenAPI 3.0 has no `$id`; components are named by their key.
    Object.entries(schemas).map(([name, { $id: _id, ...schema }]) => [name, schema]),
  );
}

const schemas: Record<string, Schema> = {
  ...Object.fromEntries(Object.entries(bodies).map(([name, schema]) => [name, bodySchema(schema)])),
  ...responseSchemas(),
  Tenant: {
    type: 'object',
    properties: {
      id: { type: 'string', format: 'uuid' },
      displayName: { type: 'string' },
      countryLetterCode: { type: 'string' },
      licenseErrorHealing: { type: 'string', enum: ['automatic', 'manual'] },
      createdDateTime: { type: 'string', format: 'date-time' },
      webhook: {
        type: 'object',
        properties: { notificationUrl: { type: 'string' }, clientState: { type: 'string' } },
      },
    },
  },
  TenantCollection: {
    type: 'object',
    properties: {
      value: { type: 'array', items: ref('Tenant') },
      truncated: {
        type: 'boolean',
        description: 'Present (true) when more than 1,000 tenants exist and only 1,000 were read.',
      },
    },
  },
};

/** What each Graph route returns and takes, by route name and method (request body schema, success status). */
const graphOperations: Record<
  string,
  Partial<Record<string, { summary: string; body?: string; status: number; returns?: Schema }>>
> = {
  graphUsers: {
    GET: { summary: 'List users', status: 200, returns: ref('UserCollection') },
    POST: { summary: 'Create a user', body: 'NewUser', status: 201, returns: ref('User') },
  },
  graphUser: {
    GET: { summary: 'Get a user by id or userPrincipalName', status: 200, returns: ref('User') },
    PATCH: { summary: 'Update a user', body: 'UserPatch', status: 204 },
    DELETE: { summary: 'Delete a user (soft delete: licenses suspended, seats released)', status: 204 },
  },
  graphUserAssignLicense: {
    POST: {
      summary: 'Assign or remove direct licenses (synchronous)',
      body: 'AssignLicense',
      status: 200,
      returns: ref('User'),
    },
  },
  graphUserReprocess: {
    POST: { summary: 'Reprocess a user’s license assignments', status: 200, returns: ref('User') },
  },
  graphUserLicenseDetails: {
    GET: {
      summary: 'A user’s effective licenses',
      status: 200,
      returns: ref('LicenseDetailsCollection'),
    },
  },
  graphGroups: {
    GET: {
      summary:
        'List groups ($filter: assignedLicenses/any(x:x/skuId eq {guid}), hasMembersWithLicenseErrors eq true, …)',
      status: 200,
      returns: ref('GroupCollection'),
    },
    POST: { summary: 'Create a group', body: 'NewGroup', status: 201, returns: ref('Group') },
  },
  graphGroup: {
    GET: { summary: 'Get a group', status: 200, returns: ref('Group') },
    PATCH: {
      summary: 'Update a group (a dynamic group’s membershipRule and membershipRuleProcessingState among it)',
      body: 'GroupPatch',
      status: 204,
    },
    DELETE: { summary: 'Delete a group (400 while it carries licenses)', status: 204 },
  },
  graphGroupEvaluateDynamicMembership: {
    POST: {
      summary: 'Extension (Graph beta): would this user or device be a member under the group’s own rule?',
      body: 'EvaluateGroupMembership',
      status: 200,
      returns: ref('EvaluateDynamicMembershipResult'),
    },
  },
  graphGroupMembers: {
    GET: { summary: 'List members', status: 200, returns: ref('DirectoryObjectCollection') },
  },
  graphGroupMemberAdd: { POST: { summary: 'Add a member', body: 'Reference', status: 204 } },
  graphGroupMemberRemove: { DELETE: { summary: 'Remove a member', status: 204 } },
  graphGroupAssignLicense: {
    POST: {
      summary: 'Set the group’s licenses (processed on the queues; 202)',
      body: 'AssignLicense',
      status: 202,
      returns: ref('Group'),
    },
  },
  graphGroupMembersWithLicenseErrors: {
    GET: {
      summary: 'Members in error from this group’s assignment (users and devices)',
      status: 200,
      returns: ref('DirectoryObjectCollection'),
    },
  },
  graphGroupReprocess: {
    POST: { summary: 'Extension: reprocess every member (202)', status: 202, returns: ref('Group') },
  },
  graphGroupPreviewLicenseAssignment: {
    POST: {
      summary: 'Extension: what assignLicense with this body would do to the members, nothing written',
      body: 'AssignLicense',
      status: 200,
      returns: ref('LicenseAssignmentPreview'),
    },
  },
  graphGroupLicenseProcessingDetails: {
    GET: {
      summary: 'Extension: processing progress and status',
      status: 200,
      returns: ref('LicenseProcessingDetails'),
    },
  },
  graphGroupsEvaluateDynamicMembership: {
    POST: {
      summary: 'Extension (Graph beta): would this user or device be a member under a membership rule?',
      body: 'EvaluateDynamicMembership',
      status: 200,
      returns: ref('EvaluateDynamicMembershipResult'),
    },
  },
  graphGroupMoveLicense: {
    POST: {
      summary: 'Extension: move a device subscription to another group',
      body: 'MoveLicense',
      status: 202,
      returns: ref('Group'),
    },
  },
  graphDevices: {
    GET: { summary: 'List devices', status: 200, returns: ref('DeviceCollection') },
    POST: { summary: 'Create a device', body: 'NewDevice', status: 201, returns: ref('Device') },
  },
  graphDevice: {
    GET: {
      summary: 'Get a device (licenseAssignmentStates on $select: extension)',
      status: 200,
      returns: ref('Device'),
    },
    DELETE: { summary: 'Delete a device (its device seat is released)', status: 204 },
  },
  graphDeletedUsers: { GET: { summary: 'Soft-deleted users', status: 200, returns: ref('UserCollection') } },
  graphDeletedItem: {
    GET: { summary: 'A soft-deleted user', status: 200, returns: ref('User') },
    DELETE: { summary: 'Hard delete', status: 204 },
  },
  graphDeletedItemRestore: {
    POST: { summary: 'Restore a soft-deleted user', status: 200, returns: ref('User') },
  },
  graphSubscribedSkus: {
    GET: { summary: 'Subscriptions and seat usage', status: 200, returns: ref('SubscribedSkuCollection') },
  },
  graphSubscribedSkuWaitingPrincipals: {
    GET: {
      summary:
        'Extension: the SKU’s waiting room, first come first served ({id}: tenantId_skuId or skuId); also needs user (or, for a device SKU, device) read',
      status: 200,
      returns: ref('WaitingPrincipalCollection'),
    },
  },
  graphCloudLicensingAllotments: {
    GET: {
      summary: 'Extension (Graph beta cloudLicensing shape): allotments, one per subscribed SKU',
      status: 200,
      returns: ref('AllotmentCollection'),
    },
  },
  graphCloudLicensingAllotment: {
    GET: {
      summary: 'Extension (Graph beta cloudLicensing shape): an allotment ({id}: tenantId_skuId or skuId)',
      status: 200,
      returns: ref('Allotment'),
    },
  },
  graphCloudLicensingWaitingMembers: {
    GET: {
      summary:
        'Extension (Graph beta cloudLicensing shape): who waits for a seat, in the order healing grants them; also needs user (or, for a device SKU, device) read',
      status: 200,
      returns: ref('WaitingMemberCollection'),
    },
  },
  graphUserUsageRights: {
    GET: {
      summary: 'Extension (Graph beta cloudLicensing shape): a user’s usage rights, one per effective SKU',
      status: 200,
      returns: ref('UsageRightCollection'),
    },
  },
  graphUserAssignmentErrors: {
    GET: {
      summary: 'Extension (Graph beta cloudLicensing shape): a user’s license errors with beta error codes',
      status: 200,
      returns: ref('AssignmentErrorCollection'),
    },
  },
  graphSubscribedSkuLicenseSummary: {
    GET: {
      summary:
        'Extension: the Licenses page’s numbers (total, assigned, available, expiringSoon) and the subscription’s lifecycle ({id}: tenantId_skuId or skuId)',
      status: 200,
      returns: ref('LicenseSummary'),
    },
  },
  graphDirectoryAudits: {
    GET: { summary: 'Audit log, newest first', status: 200, returns: ref('DirectoryAuditCollection') },
  },
  graphBatch: { POST: { summary: 'JSON batching (20 requests, dependsOn)', body: 'Batch', status: 200 } },
};

export interface OtherOperation {
  readonly path: string;
  readonly method: string;
  readonly summary: string;
  readonly security: 'none' | 'adminKey';
  readonly body?: string;
  readonly status: number;
  /** The component the success response carries. */
  readonly returns?: string;
}

/** Everything outside the Graph surface: the webhook, the operator API, health, this document. */
export const OTHER_OPERATIONS: readonly OtherOperation[] = [
  { path: '/health', method: 'GET', summary: 'Storage reachability', security: 'none', status: 200 },
  { path: '/openapi.json', method: 'GET', summary: 'This document', security: 'none', status: 200 },
  {
    path: '/console/{path}',
    method: 'GET',
    summary: 'The Licenses console: its page (for console/) and bundled files (text/html, text/javascript)',
    security: 'none',
    status: 200,
  },
  {
    path: '/webhooks/graph',
    method: 'POST',
    summary: 'Change notifications (or ?validationToken=… handshake)',
    security: 'none',
    body: 'ChangeNotificationCollection',
    status: 202,
  },
  {
    path: '/webhooks/graph',
    method: 'GET',
    summary: 'Validation handshake (?validationToken=…)',
    security: 'none',
    status: 200,
  },
  {
    path: '/manage/tenants',
    method: 'GET',
    summary: 'List tenants by displayName (at most 1,000; truncated: true when there are more)',
    security: 'adminKey',
    status: 200,
    returns: 'TenantCollection',
  },
  {
    path: '/manage/tenants',
    method: 'POST',
    summary: 'Create a tenant',
    security: 'adminKey',
    status: 201,
    returns: 'Tenant',
  },
  {
    path: '/manage/tenants/{tid}',
    method: 'GET',
    summary: 'Get a tenant',
    security: 'adminKey',
    status: 200,
    returns: 'Tenant',
  },
  {
    path: '/manage/tenants/{tid}',
    method: 'PATCH',
    summary: 'Change tenant settings',
    security: 'adminKey',
    status: 200,
    returns: 'Tenant',
  },
  {
    path: '/manage/tenants/{tid}/subscriptions',
    method: 'GET',
    summary: 'List subscriptions',
    security: 'adminKey',
    status: 200,
  },
  {
    path: '/manage/tenants/{tid}/subscriptions/{sku}',
    method: 'PUT',
    summary: 'Buy or adjust units, set the lifecycle dates and state, renew (skuId or skuPartNumber)',
    security: 'adminKey',
    status: 200,
  },
  {
    path: '/manage/tenants/{tid}/tokens',
    method: 'POST',
    summary: 'Mint an access token',
    security: 'adminKey',
    status: 200,
  },
  {
    path: '/manage/tenants/{tid}/import',
    method: 'POST',
    summary: 'Streamed NDJSON import (?atomic=true refuses on any bad line)',
    security: 'adminKey',
    status: 200,
  },
  {
    path: '/manage/tenants/{tid}/activity',
    method: 'GET',
    summary: 'Is the tenant’s work done (queues drained, nothing processing)?',
    security: 'adminKey',
    status: 200,
  },
  {
    path: '/manage/catalog',
    method: 'GET',
    summary:
      'The SKU catalog and its rules (conflicting plans, dependencies, usage locations, mailbox plans)',
    security: 'adminKey',
    status: 200,
  },
  {
    path: '/manage/tenants/{tid}/applications',
    method: 'GET',
    summary: 'List app registrations (secrets without their text)',
    security: 'adminKey',
    status: 200,
  },
  {
    path: '/manage/tenants/{tid}/applications',
    method: 'POST',
    summary: 'Register an app { displayName, roles } → appId and clientSecret (shown once)',
    security: 'adminKey',
    status: 201,
  },
  {
    path: '/manage/tenants/{tid}/applications/{appId}',
    method: 'GET',
    summary: 'Get an app registration',
    security: 'adminKey',
    status: 200,
  },
  {
    path: '/manage/tenants/{tid}/applications/{appId}',
    method: 'PATCH',
    summary: 'Rename an app or change its roles',
    security: 'adminKey',
    status: 200,
  },
  {
    path: '/manage/tenants/{tid}/applications/{appId}',
    method: 'DELETE',
    summary: 'Delete an app registration',
    security: 'adminKey',
    status: 204,
  },
  {
    path: '/manage/tenants/{tid}/applications/{appId}/addPassword',
    method: 'POST',
    summary: 'Add a client secret (its text is shown once)',
    security: 'adminKey',
    status: 200,
  },
  {
    path: '/manage/tenants/{tid}/applications/{appId}/removePassword',
    method: 'POST',
    summary: 'Remove a client secret { keyId }',
    security: 'adminKey',
    status: 204,
  },
  {
    path: '/manage/tenants/{tid}/alerts',
    method: 'GET',
    summary: 'List alert subscriptions (docs/api.md, "Alerts")',
    security: 'adminKey',
    status: 200,
  },
  {
    path: '/manage/tenants/{tid}/alerts',
    method: 'POST',
    summary:
      'Subscribe to alerts { kinds, notificationUrl, clientState?, seatUsagePercent? } after the receiver echoes ?validationToken=… (400 otherwise) → the subscription and its signing secret (shown once)',
    security: 'adminKey',
    body: 'NewAlert',
    status: 201,
  },
  {
    path: '/manage/tenants/{tid}/alerts/{alertId}',
    method: 'GET',
    summary: 'Get an alert subscription (without its secret)',
    security: 'adminKey',
    status: 200,
  },
  {
    path: '/manage/tenants/{tid}/alerts/{alertId}',
    method: 'PATCH',
    summary:
      'Change what an alert subscription watches or where it delivers (a new URL passes the handshake)',
    security: 'adminKey',
    body: 'AlertPatch',
    status: 200,
  },
  {
    path: '/manage/tenants/{tid}/alerts/{alertId}',
    method: 'DELETE',
    summary: 'Delete an alert subscription (its pending deliveries are cancelled, the log stays)',
    security: 'adminKey',
    status: 204,
  },
  {
    path: '/manage/tenants/{tid}/alerts/{alertId}/deliveries',
    method: 'GET',
    summary: 'The delivery log, oldest first (?status=pending|delivered|parked|cancelled)',
    security: 'adminKey',
    status: 200,
  },
  {
    path: '/identity/{tenant}/v2.0/.well-known/openid-configuration',
    method: 'GET',
    summary: 'OpenID discovery document of the sign-in authority (Entra v2.0 shape)',
    security: 'none',
    status: 200,
  },
  {
    path: '/identity/{tenant}/discovery/v2.0/keys',
    method: 'GET',
    summary: 'JWKS: the public key that verifies RS256 access tokens',
    security: 'none',
    status: 200,
  },
  {
    path: '/identity/{tenant}/oauth2/v2.0/token',
    method: 'POST',
    summary:
      'Client-credentials token (form: client_id, client_secret, scope, grant_type); Entra OAuth errors',
    security: 'none',
    status: 200,
  },
];

function pathParameters(path: string): Schema[] {
  return [...path.matchAll(/\{(\w+)\}/g)].map((m) => ({
    name: m[1],
    in: 'path',
    required: true,
    schema: { type: 'string' },
  }));
}

const errorResponses = {
  '400': { description: 'Bad request', content: { 'application/json': { schema: ref('GraphError') } } },
  '401': {
    description: 'Missing or invalid token',
    content: { 'application/json': { schema: ref('GraphError') } },
  },
  '403': {
    description: 'Missing permission',
    content: { 'application/json': { schema: ref('GraphError') } },
  },
  '404': { description: 'Not found', content: { 'application/json': { schema: ref('GraphError') } } },
};

export function openApiDocument(
  graphRoutes: readonly GraphRoute[],
  serverUrl: string,
): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of graphRoutes) {
    const path = `/v1.0/${route.template}`;
    const item: Record<string, unknown> = { parameters: pathParameters(path) };
    for (const [method, operation] of Object.entries(route.handlers)) {
      const op = graphOperations[route.name]?.[method];
      const permissions = operation.permissions === 'anyCaller' ? [] : operation.permissions;
      item[method.toLowerCase()] = {
        operationId: `${route.name}_${method.toLowerCase()}`,
        summary: op?.summary ?? route.name,
        ...(permissions.length > 0
          ? { description: `Application permissions (any one): ${permissions.join(', ')}.` }
          : {}),
        security: [{ bearer: [] }],
        ...(op?.body
          ? { requestBody: { required: true, content: { 'application/json': { schema: ref(op.body) } } } }
          : {}),
        responses: {
          [String(op?.status ?? 200)]: {
            description: 'Success',
            ...(op?.returns ? { content: { 'application/json': { schema: op.returns } } } : {}),
          },
          ...errorResponses,
        },
      };
    }
    paths[path] = item;
  }
  for (const op of OTHER_OPERATIONS) {
    const item = paths[op.path] ?? { parameters: pathParameters(op.path) };
    item[op.method.toLowerCase()] = {
      operationId: `${op.method.toLowerCase()}${op.path.replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ?? '').toUpperCase())}`,
      summary: op.summary,
      security: op.security === 'adminKey' ? [{ adminKey: [] }] : [],
      ...(op.body
        ? { requestBody: { required: true, content: { 'application/json': { schema: ref(op.body) } } } }
        : {}),
      responses: {
        [String(op.status)]: {
          description: 'Success',
          ...(op.returns ? { content: { 'application/json': { schema: ref(op.returns) } } } : {}),
        },
        ...errorResponses,
      },
    };
    paths[op.path] = item;
  }
  return {
    openapi: '3.0.3',
    info: {
      title: 'Group-based licensing (Graph-compatible)',
      version: '1.0.0',
      description:
        'Microsoft Graph-compatible licensing endpoints under /v1.0 (bearer tokens with tid and roles), the membership webhook, and the operator API (x-functions-key). Extensions Graph lacks are marked "Extension".',
    },
    servers: [{ url: serverUrl }],
    components: {
      schemas,
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
        adminKey: { type: 'apiKey', in: 'header', name: 'x-functions-key' },
      },
    },
    paths,
  };
}
