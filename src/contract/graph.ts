/**
 * The Graph wire contract for responses: the resources as the service sends them. The handlers' builders are typed
 * by these schemas (src/api/graph/shapes.ts), the OpenAPI document is generated from them (src/api/openapi.ts), and
 * the simulator and the tests parse what they read with them, so the three cannot drift apart. Request bodies live
 * in src/api/graph/wire.ts.
 *
 * A resource schema (`userSchema`, …) lists every property the service knows, each one present. A response
 * carries `id` and only the properties `$select` names (or the type's defaults): `selectedUserSchema` and its
 * siblings say so for the document, and a reader that selected properties derives its view with `.pick`.
 *
 * This folder imports nothing of the product but the GUID pattern: the api, the simulator and the tests all read it.
 */
import { z } from 'zod';
import { GUID_PATTERN } from '../engine/ids.js';

/** A GUID in either case (engine/ids.ts holds the one pattern); the service itself writes lower case. */
export const guidSchema = z.string().regex(GUID_PATTERN, 'expected a GUID').meta({ format: 'uuid' });

/** An ISO 8601 instant in UTC, as `Date.toISOString()` writes it. */
const dateTime = z.iso.datetime();
const count = z.number().int().nonnegative();

// ---------------------------------------------------------------------------------------------------------
// The pieces

export const assignedLicenseSchema = z.object({
  skuId: guidSchema,
  disabledPlans: z.array(guidSchema),
});

export const capabilityStatusSchema = z.enum(['Enabled', 'Suspended']);

export const assignedPlanSchema = z.object({
  assignedDateTime: dateTime,
  capabilityStatus: capabilityStatusSchema,
  service: z.string(),
  servicePlanId: guidSchema,
});

/** Graph's `licenseAssignmentState.error`; `None` when the state is not `Error`. */
export const licenseErrorSchema = z.enum([
  'None',
  'CountViolation',
  'MutuallyExclusiveViolation',
  'DependencyViolation',
  'ProhibitedInUsageLocationViolation',
  'UniquenessViolation',
  'Other',
]);

export const licenseAssignmentStateSchema = z.object({
  skuId: guidSchema,
  /** The group the license comes from; null for a direct assignment. */
  assignedByGroup: guidSchema.nullable(),
  disabledPlans: z.array(guidSchema),
  state: z.enum(['Active', 'Error', 'Disabled']),
  error: licenseErrorSchema,
  lastUpdatedDateTime: dateTime,
});

/** Graph's `alternativeSecurityId` of a device; the same shape is accepted by `POST /devices`. */
export const alternativeSecurityIdSchema = z
  .object({
    type: z.number().int(),
    identityProvider: z.string().nullable().optional(),
    key: z.string(),
  })
  .strict();

export const appliesToSchema = z.enum(['User', 'Company']);

export const servicePlanInfoSchema = z.object({
  servicePlanId: guidSchema,
  servicePlanName: z.string(),
  provisioningStatus: z.enum(['Success', 'Disabled']),
  appliesTo: appliesToSchema,
});

export const processingStateSchema = z.enum([
  'QueuedForProcessing',
  'ProcessingInProgress',
  'ProcessingComplete',
]);

// ---------------------------------------------------------------------------------------------------------
// The resources

export const userSchema = z.object({
  id: guidSchema,
  businessPhones: z.array(z.string()),
  displayName: z.string(),
  givenName: z.string().nullable(),
  jobTitle: z.string().nullable(),
  mail: z.string().nullable(),
  mobilePhone: z.string().nullable(),
  officeLocation: z.string().nullable(),
  preferredLanguage: z.string().nullable(),
  surname: z.string().nullable(),
  userPrincipalName: z.string(),
  accountEnabled: z.boolean(),
  assignedLicenses: z.array(assignedLicenseSchema),
  assignedPlans: z.array(assignedPlanSchema),
  createdDateTime: dateTime,
  deletedDateTime: dateTime.nullable(),
  department: z.string().nullable(),
  licenseAssignmentStates: z.array(licenseAssignmentStateSchema),
  mailNickname: z.string(),
  proxyAddresses: z.array(z.string()),
  usageLocation: z.string().nullable(),
  city: z.string().nullable(),
  companyName: z.string().nullable(),
  country: z.string().nullable(),
  employeeId: z.string().nullable(),
  state: z.string().nullable(),
  userType: z.string().nullable(),
  otherMails: z.array(z.string()),
  onPremisesExtensionAttributes: z.record(z.string(), z.string().nullable()),
});

export const groupSchema = z.object({
  id: guidSchema,
  createdDateTime: dateTime,
  deletedDateTime: dateTime.nullable(),
  description: z.string().nullable(),
  displayName: z.string(),
  groupTypes: z.array(z.string()),
  mail: z.string().nullable(),
  mailEnabled: z.boolean(),
  mailNickname: z.string(),
  securityEnabled: z.boolean(),
  assignedLicenses: z.array(assignedLicenseSchema),
  licenseProcessingState: z.object({ state: processingStateSchema }),
  membershipRule: z.string().nullable(),
  membershipRuleProcessingState: z.enum(['On', 'Paused']).nullable(),
  membershipRuleProcessingStatus: z
    .object({
      status: z.enum(['NotStarted', 'Running', 'Succeeded', 'Failed']),
      lastMembershipUpdated: dateTime.nullable(),
      errorMessage: z.string().nullable(),
    })
    .nullable()
    .describe('Graph beta membershipRuleProcessingStatus, served on v1.0 as an extension on $select only.'),
});

export const deviceSchema = z.object({
  id: guidSchema,
  accountEnabled: z.boolean(),
  alternativeSecurityIds: z.array(alternativeSecurityIdSchema),
  createdDateTime: dateTime,
  deletedDateTime: dateTime.nullable(),
  deviceId: guidSchema.nullable(),
  displayName: z.string(),
  operatingSystem: z.string().nullable(),
  operatingSystemVersion: z.string().nullable(),
  deviceOwnership: z.string().nullable(),
  enrollmentProfileName: z.string().nullable(),
  managementType: z.string().nullable(),
  isRooted: z.boolean(),
  trustType: z.string().nullable(),
  physicalIds: z.array(z.string()),
  extensionAttributes: z.record(z.string(), z.string().nullable()),
  /** Extension: Graph has no license properties on devices. */
  licenseAssignmentStates: z.array(licenseAssignmentStateSchema),
  assignedLicenses: z.array(assignedLicenseSchema),
});

// What a response carries: `id` always, the rest as `$select` (or the type's defaults) names them.
export const selectedUserSchema = userSchema
  .partial()
  .required({ id: true })
  .describe(
    'Graph user: id, and the properties $select names (or the defaults). licenseAssignmentStates, assignedLicenses, assignedPlans and usageLocation appear only on $select. proxyAddresses is writable here (an extension: Graph leaves it to Exchange).',
  );
export const selectedGroupSchema = groupSchema
  .partial()
  .required({ id: true })
  .describe(
    'Graph group: id, and the properties $select names (or the defaults). assignedLicenses and licenseProcessingState appear only on $select.',
  );
export const selectedDeviceSchema = deviceSchema
  .partial()
  .required({ id: true })
  .describe(
    'Graph device: id, and the properties $select names (or the defaults). licenseAssignmentStates and assignedLicenses (on $select) are an extension.',
  );

/** An item of a collection of mixed types (members, members in error), told apart by `@odata.type`. */
export const directoryObjectSchema = z
  .discriminatedUnion('@odata.type', [
    selectedUserSchema.extend({ '@odata.type': z.literal('#microsoft.graph.user') }),
    selectedDeviceSchema.extend({ '@odata.type': z.literal('#microsoft.graph.device') }),
    selectedGroupSchema.extend({ '@odata.type': z.literal('#microsoft.graph.group') }),
  ])
  .describe('A member: a user, a device or a group, told apart by @odata.type.');

export const subscribedSkuSchema = z.object({
  /** `{tenantId}_{skuId}`. */
  id: z.string(),
  accountId: guidSchema,
  appliesTo: appliesToSchema,
  /** Graph's stages of a lapsing subscription: Enabled → Warning (grace) → Suspended → LockedOut. */
  capabilityStatus: z.enum(['Enabled', 'Warning', 'Suspended', 'LockedOut']),
  consumedUnits: count,
  prepaidUnits: z.object({ enabled: count, suspended: count, warning: count, lockedOut: count }),
  servicePlans: z.array(servicePlanInfoSchema),
  skuId: guidSchema,
  skuPartNumber: z.string(),
  subscriptionIds: z.array(z.string()),
});

/**
 * Extension `subscribedSkus/{id}/licenseSummary`: the Licenses page's numbers (rules.md §1) and where the
 * subscription is in its lifecycle.
 */
export const licenseSummarySchema = z.object({
  id: z.string(),
  skuId: guidSchema,
  skuPartNumber: z.string(),
  capabilityStatus: subscribedSkuSchema.shape.capabilityStatus,
  /** enabled + warning. */
  total: count,
  /** consumedUnits. */
  assigned: count,
  /** max(0, total − assigned). */
  available: count,
  /** Units in their grace period (warning), still usable. */
  expiringSoon: count,
  lifecycle: z
    .object({
      state: z.enum(['Active', 'Warning', 'Suspended', 'LockedOut']),
      startDate: dateTime,
      nextLifecycleDate: dateTime.nullable(),
    })
    .nullable(),
});

export const waitingPrincipalSchema = z
  .object({
    id: guidSchema,
    principalType: z.enum(['user', 'device']),
    displayName: z.string(),
    /** Users only. */
    userPrincipalName: z.string().optional(),
    /** When it began waiting for a seat: the queue's order, first come first served. */
    waitingSince: dateTime,
    /** Its place in the waiting room, from 1 (the next to get a seat). */
    position: z.number().int().positive(),
  })
  .describe(
    'Extension: someone waiting for a seat of a subscribed SKU (licenseAssignmentState CountViolation).',
  );

export const licenseDetailsSchema = z.object({
  id: z.string(),
  skuId: guidSchema,
  skuPartNumber: z.string(),
  servicePlans: z.array(servicePlanInfoSchema),
});

// Graph beta's cloudLicensing views (microsoft.graph.cloudLicensing), served on v1.0 as extensions.

/**
 * Graph beta's `assigneeTypes`, a flag enum sent as a comma-separated string. Here a SKU (and each of its plans) is
 * for users or for devices; groups carry licenses to their members rather than hold seats.
 */
export const assigneeTypesSchema = z.enum(['user', 'device']);

/** Graph beta's cloudLicensing `service`: one plan of a SKU. */
export const cloudLicensingServiceSchema = z.object({
  assignableTo: assigneeTypesSchema,
  planId: guidSchema,
  planName: z.string(),
});

/** Graph beta's `subscriptionState`. */
export const subscriptionStateSchema = z.enum(['active', 'warning', 'suspended', 'lockedOut', 'deleted']);

/** Graph beta's cloudLicensing `subscription`: what backs an allotment. Dates are Graph `Date`s (YYYY-MM-DD). */
export const cloudLicensingSubscriptionSchema = z.object({
  subscriptionId: z.string(),
  startDate: z.iso.date().nullable(),
  nextLifecycleDate: z.iso.date().nullable(),
  state: subscriptionStateSchema,
});

export const allotmentSchema = z
  .object({
    /** The subscribedSku's id, `{tenantId}_{skuId}`: one pool per subscribed SKU. */
    id: z.string(),
    /** Seats that can be held: prepaidUnits enabled + warning. */
    allottedUnits: count,
    consumedUnits: count,
    skuId: guidSchema,
    skuPartNumber: z.string(),
    assignableTo: assigneeTypesSchema,
    services: z.array(cloudLicensingServiceSchema),
    subscriptions: z.array(cloudLicensingSubscriptionSchema),
  })
  .describe(
    'Graph beta cloudLicensing allotment (a pool of seats: here one per subscribed SKU), served on v1.0.',
  );

export const waitingMemberSchema = z
  .object({
    /** The waiting user's or device's id. */
    id: guidSchema,
    /** When it began waiting: the queue's order, first come first served (ties by id). */
    waitingSinceDateTime: dateTime,
    /** Who waits, as `$expand=assignedTo($select=id)` would give it: always included here. */
    assignedTo: z.object({
      '@odata.type': z.enum(['#microsoft.graph.user', '#microsoft.graph.device']),
      id: guidSchema,
    }),
  })
  .describe(
    'Graph beta cloudLicensing waitingMember: someone waiting for a seat of an allotment, served on v1.0.',
  );

export const usageRightSchema = z
  .object({
    /** Opaque; the same as the user's licenseDetails id for the SKU. */
    id: z.string(),
    skuId: guidSchema,
    skuPartNumber: z.string(),
    /** The plans the user may use: the SKU's plans its licenses leave enabled. */
    services: z.array(cloudLicensingServiceSchema),
  })
  .describe('Graph beta cloudLicensing usageRight: what one SKU gives a user, every source together.');

/** Graph beta's assignmentError codes (api.md "cloudLicensing (beta shape)" maps v1.0 errors to them). */
export const assignmentErrorCodeSchema = z.enum([
  'noAvailableLicenses',
  'mutuallyExclusiveServicePlans',
  'dependentServicePlansMissing',
  'invalidUsageLocation',
  'proxyAddressConflict',
  'other',
]);

export const assignmentErrorSchema = z
  .object({
    /** Opaque: one error per license source (the SKU, directly or from a group). */
    id: z.string(),
    code: assignmentErrorCodeSchema,
    message: z.string(),
    /** When the source last changed (its licenseAssignmentState's lastUpdatedDateTime). */
    occurrenceDateTime: dateTime,
    skuId: guidSchema,
    /** Extension: the group the failing license comes from; null for a direct assignment. */
    assignedByGroup: guidSchema.nullable(),
    /** Extension: the service plans involved (conflicting plans, or plans missing a prerequisite), when known. */
    ids: z.array(guidSchema),
  })
  .describe('Graph beta cloudLicensing assignmentError: a license source that failed, served on v1.0.');

export const directoryAuditSchema = z
  .object({
    id: z.string(),
    activityDateTime: dateTime,
    activityDisplayName: z.string(),
    category: z.enum(['GroupManagement', 'UserManagement', 'DeviceManagement', 'DirectoryManagement']),
    correlationId: z.string(),
    initiatedBy: z.object({ app: z.object({ displayName: z.string() }).nullable() }),
    loggedByService: z.literal('Core Directory'),
    operationType: z.enum(['Add', 'Assign', 'Update', 'Unassign', 'Delete', 'Restore']),
    result: z.enum(['success', 'failure']),
    resultReason: z.string(),
    targetResources: z.array(
      z.object({
        id: z.string(),
        displayName: z.string().nullable(),
        type: z.enum(['Group', 'User', 'Device', 'Other']),
        modifiedProperties: z.array(
          z.object({
            displayName: z.string(),
            oldValue: z.string().nullable(),
            newValue: z.string().nullable(),
          }),
        ),
      }),
    ),
    additionalDetails: z.array(z.object({ key: z.string(), value: z.string() })),
  })
  .describe('Graph directoryAudit.');

export const licenseProcessingDetailsSchema = z
  .object({
    state: processingStateSchema,
    status: z.enum(['allLicensesAssigned', 'inProgress', 'errorsAndIssues']),
    membersTotal: count,
    membersProcessed: count,
    membersSucceeded: count,
    membersFailed: count,
    errorsByType: z.record(z.string(), count),
    /** Pages whose work failed for good; reprocessing the group retries them. */
    failedPages: count,
    lastFailure: z.string().nullable(),
  })
  .describe('Extension: processing progress and the admin status of a group.');

const outcomePreviewSchema = z.object({ count, sample: z.array(guidSchema) });

export const licenseAssignmentPreviewSchema = z
  .object({
    membersEvaluated: count,
    skus: z.array(
      z.object({
        skuId: guidSchema,
        skuPartNumber: z.string(),
        seatsNeeded: count,
        seatsReleased: count,
        seatsAvailable: count,
        seatsShort: count,
      }),
    ),
    errors: z.record(z.string(), outcomePreviewSchema),
    otherLicensesChanged: outcomePreviewSchema,
  })
  .describe(
    'Extension: what a group license change would do to its members, evaluated without writing anything.',
  );

/** Graph beta `expressionEvaluationDetails`: one expression of a membership rule, what it gave, what it read. */
export const expressionEvaluationDetailsSchema = z
  .object({
    expression: z.string(),
    expressionResult: z.boolean(),
    propertyToEvaluate: z
      .object({ propertyName: z.string(), propertyValue: z.string().nullable() })
      .nullable(),
    get expressionEvaluationDetails() {
      return z.array(expressionEvaluationDetailsSchema);
    },
  })
  .describe('Graph beta expressionEvaluationDetails.');

export const evaluateDynamicMembershipResultSchema = z
  .object({
    membershipRule: z.string(),
    membershipRuleEvaluationResult: z.boolean(),
    membershipRuleEvaluationDetails: expressionEvaluationDetailsSchema,
  })
  .describe('Graph beta evaluateDynamicMembershipResult, served on v1.0 as an extension.');

// ---------------------------------------------------------------------------------------------------------
// Envelopes

/** A page of a collection: `@odata.nextLink` (an opaque `$skiptoken`) until the last page. */
export function collectionSchema<T extends z.ZodType>(item: T) {
  return z.object({
    '@odata.context': z.string(),
    '@odata.count': count.optional(),
    '@odata.nextLink': z.string().optional(),
    value: z.array(item),
  });
}

/** The waiting room of a SKU: `@odata.count` (everyone waiting) on every page. */
export const waitingPrincipalCollectionSchema = collectionSchema(waitingPrincipalSchema).extend({
  '@odata.count': count,
});

/** A SKU's waiting members, FIFO: `@odata.count` (everyone waiting) on every page. */
export const waitingMemberCollectionSchema = collectionSchema(waitingMemberSchema).extend({
  '@odata.count': count,
});

/** Graph's error envelope. `date` is Graph's: UTC without a zone designator. */
export const graphErrorSchema = z.object({
  error: z.object({
    code: z.string().meta({ example: 'Request_BadRequest' }),
    message: z.string(),
    innerError: z.object({
      date: z.iso.datetime({ local: true }),
      'request-id': guidSchema,
      'client-request-id': z.string(),
    }),
  }),
});

// ---------------------------------------------------------------------------------------------------------
// Types for the builders: what they return must be what the schema parses (the compiler checks), read-only
// because the records they read from are.

type Frozen<T> = T extends readonly (infer U)[]
  ? readonly Frozen<U>[]
  : T extends object
    ? { readonly [K in keyof T]: Frozen<T[K]> }
    : T;
export type Wire<S extends z.ZodType> = Frozen<z.output<S>>;

export type User = Wire<typeof userSchema>;
export type Group = Wire<typeof groupSchema>;
export type Device = Wire<typeof deviceSchema>;
export type DirectoryObject = Wire<typeof directoryObjectSchema>;
export type LicenseAssignmentState = Wire<typeof licenseAssignmentStateSchema>;
export type AlternativeSecurityId = Wire<typeof alternativeSecurityIdSchema>;
export type SubscribedSku = Wire<typeof subscribedSkuSchema>;
export type LicenseSummary = Wire<typeof licenseSummarySchema>;
export type LicenseDetails = Wire<typeof licenseDetailsSchema>;
export type WaitingPrincipal = Wire<typeof waitingPrincipalSchema>;
export type Allotment = Wire<typeof allotmentSchema>;
export type CloudLicensingSubscription = Wire<typeof cloudLicensingSubscriptionSchema>;
export type WaitingMember = Wire<typeof waitingMemberSchema>;
export type UsageRight = Wire<typeof usageRightSchema>;
export type AssignmentError = Wire<typeof assignmentErrorSchema>;
export type DirectoryAudit = Wire<typeof directoryAuditSchema>;
export type LicenseProcessingDetails = Wire<typeof licenseProcessingDetailsSchema>;
export type EvaluateDynamicMembershipResult = Wire<typeof evaluateDynamicMembershipResultSchema>;
export type LicenseAssignmentPreview = Wire<typeof licenseAssignmentPreviewSchema>;
export type GraphErrorBody = Wire<typeof graphErrorSchema>;
