/**
 * The Graph wire contract: the zod schemas of the request bodies the service accepts. The handlers parse with them,
 * the OpenAPI document is generated from them (src/api/openapi.ts), and the simulator and tests build bodies that
 * satisfy them. Graph's limits (lengths, list sizes) are part of the contract. What the service answers is in
 * src/contract/graph.ts.
 */
import { z } from 'zod';
import { deviceProfileFields, userProfileFields } from '../../application/profile.js';
import { alternativeSecurityIdSchema, guidSchema } from '../../contract/graph.js';

/** Graph's JSON batching limit. */
export const MAX_BATCH_REQUESTS = 20;

/** A GUID in either case, kept in the canonical lower case. */
export const guidString = guidSchema.transform((s) => s.toLowerCase());

const license = z
  .object({
    skuId: z.string().max(100),
    disabledPlans: z.array(z.string().max(100)).max(200).default([]),
  })
  .strict();

/** The `assignLicense` body (users and groups): both lists are required, and may be empty. */
export const assignLicenseSchema = z
  .object({
    addLicenses: z.array(license).max(100),
    removeLicenses: z.array(z.string().max(100)).max(100),
  })
  .strict();

const countryCode = z
  .string()
  .regex(/^[A-Za-z]{2}$/, 'expected a two-letter country code')
  .transform((s) => s.toUpperCase());
const upn = z
  .string()
  .min(3)
  .max(113)
  .regex(/^[^@\s]+@[^@\s]+\.[^@\s]+$/, 'expected user@domain');

/** Graph's required properties for `POST /users`; the rest are optional. `proxyAddresses` is writable here (an extension). */
export const newUserSchema = z
  .object({
    accountEnabled: z.boolean(),
    displayName: z.string().min(1).max(256),
    mailNickname: z
      .string()
      .min(1)
      .max(64)
      .regex(/^[^@\s]+$/),
    passwordProfile: z
      .object({
        password: z.string().min(1).max(256),
        forceChangePasswordNextSignIn: z.boolean().optional(),
        forceChangePasswordNextSignInWithMfa: z.boolean().optional(),
      })
      .strict(),
    userPrincipalName: upn,
    usageLocation: countryCode.nullable().optional(),
    department: z.string().max(64).nullable().optional(),
    proxyAddresses: z.array(z.string().min(3).max(256)).max(50).optional(),
    ...userProfileFields,
  })
  .strict();

export const userPatchSchema = z
  .object({
    accountEnabled: z.boolean().optional(),
    displayName: z.string().min(1).max(256).optional(),
    mailNickname: z.string().min(1).max(64).optional(),
    userPrincipalName: upn.optional(),
    usageLocation: countryCode.nullable().optional(),
    department: z.string().max(64).nullable().optional(),
    proxyAddresses: z.array(z.string().min(3).max(256)).max(50).optional(),
    ...userProfileFields,
  })
  .strict();

/** Graph's required properties for `POST /devices`. */
export const newDeviceSchema = z
  .object({
    accountEnabled: z.boolean(),
    alternativeSecurityIds: z.array(alternativeSecurityIdSchema).max(10),
    deviceId: guidString,
    displayName: z.string().min(1).max(256),
    operatingSystem: z.string().min(1).max(64),
    operatingSystemVersion: z.string().min(1).max(64),
    ...deviceProfileFields,
  })
  .strict();

const mailNickname = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[^@\s()\\[\];:<>,]+$/, 'no spaces or @ ( ) \\ [ ] ; : < > ,');

/** Longer than Entra's 3,072 is refused by the rule's parser with the limit; this only bounds the body. */
const membershipRuleText = z.string().max(10_000);

export const newGroupSchema = z
  .object({
    displayName: z.string().min(1).max(256),
    mailEnabled: z.boolean(),
    mailNickname,
    securityEnabled: z.boolean(),
    description: z.string().max(1024).nullable().optional(),
    groupTypes: z
      .array(z.enum(['Unified', 'DynamicMembership']))
      .max(2)
      .optional(),
    visibility: z.enum(['Public', 'Private', 'HiddenMembership']).optional(),
    'members@odata.bind': z.array(z.string().max(500)).max(20).optional(),
    'owners@odata.bind': z.array(z.string().max(500)).max(20).optional(),
    membershipRule: membershipRuleText.nullable().optional(),
    membershipRuleProcessingState: z.enum(['On', 'Paused']).nullable().optional(),
  })
  .strict();

/** `PATCH /groups/{id}`: the properties that may change (a dynamic group's rule and processing among them). */
export const groupPatchSchema = z
  .object({
    displayName: z.string().min(1).max(256).optional(),
    description: z.string().max(1024).nullable().optional(),
    mailNickname: mailNickname.optional(),
    groupTypes: z
      .array(z.enum(['Unified', 'DynamicMembership']))
      .max(2)
      .optional(),
    membershipRule: membershipRuleText.nullable().optional(),
    membershipRuleProcessingState: z.enum(['On', 'Paused']).nullable().optional(),
  })
  .strict();

/** `POST /groups/{id}/evaluateDynamicMembership` (Graph beta): a member under the group's own rule. */
export const evaluateGroupMembershipSchema = z.object({ memberId: guidString }).strict();

/** `POST /groups/{id}/members/$ref`. */
export const referenceSchema = z.object({ '@odata.id': z.string().max(500) }).strict();

/** `POST /groups/{id}/moveLicense` (device licenses). */
export const moveLicenseSchema = z.object({ skuId: guidString, targetGroupId: guidString }).strict();

/** Graph beta `evaluateDynamicMembership` without a group: a member and a rule (the rule's own limits are the parser's). */
export const evaluateDynamicMembershipSchema = z
  .object({ memberId: guidString, membershipRule: membershipRuleText.min(1) })
  .strict();

export const batchRequestSchema = z
  .object({
    id: z.string().min(1).max(64),
    method: z.preprocess(
      (value) => (typeof value === 'string' ? value.toUpperCase() : value),
      z.enum(['GET', 'POST', 'PATCH', 'PUT', 'DELETE']),
    ),
    url: z.string().min(1).max(2048),
    headers: z.record(z.string(), z.string()).optional(),
    body: z.unknown().optional(),
    dependsOn: z.array(z.string()).max(MAX_BATCH_REQUESTS).optional(),
  })
  .strict();
export const batchSchema = z.object({ requests: z.array(batchRequestSchema).min(1) }).strict();
/** A change notification collection (the webhook). */
export const changeNotificationSchema = z
  .object({
    subscriptionId: z.string().max(100).optional(),
    clientState: z.string().max(255).nullable().optional(),
    changeType: z.string().max(32).optional(),
    resource: z.string().max(500).optional(),
    resourceData: z.record(z.string(), z.unknown()).optional(),
    tenantId: guidSchema,
    lifecycleEvent: z.string().max(64).optional(),
    subscriptionExpirationDateTime: z.string().max(64).optional(),
  })
  .passthrough();
export const changeNotificationCollectionSchema = z
  .object({ value: z.array(changeNotificationSchema).max(1000) })
  .passthrough();
