import { createHash } from 'node:crypto';
import { EXTENSION_ATTRIBUTES, profileList, profileText } from '../../application/profile.js';
import type {
  GroupLicenseRecord,
  GroupRecord,
  MembershipRuleRecord,
  PrincipalRecord,
  SubscriptionRecord,
} from '../../application/records.js';
import {
  type Allotment,
  type AssignmentError,
  alternativeSecurityIdSchema,
  type CloudLicensingSubscription,
  type Device,
  type DirectoryObject,
  deviceSchema,
  type Group,
  groupSchema,
  type LicenseAssignmentState,
  type LicenseDetails,
  type LicenseSummary,
  type SubscribedSku,
  type UsageRight,
  type User,
  userSchema,
  type WaitingMember,
  type WaitingPrincipal,
} from '../../contract/graph.js';
import {
  type Catalog,
  type EffectiveLicenses,
  effectiveLicenses,
  heldPlanIds,
  type LicenseEntry,
  licenseSummary,
  skuCapabilityStatus,
  totalUnits,
} from '../../engine/index.js';
import { assignmentErrorText } from '../wording.js';

// The builders below return the contract's types (src/contract/graph.ts), so a property the contract and the
// records disagree on fails to compile instead of reaching a client.

/** Graph `user` properties returned without `$select` (Graph's default set). */
export const USER_DEFAULTS = [
  'businessPhones',
  'displayName',
  'givenName',
  'jobTitle',
  'mail',
  'mobilePhone',
  'officeLocation',
  'preferredLanguage',
  'surname',
  'userPrincipalName',
] as const satisfies readonly (keyof User)[];

/** Every property a user response may carry (`$select`): the contract's. */
export const USER_PROPERTIES = userSchema.keyof().options;

/** Graph `group` properties returned without `$select`; license properties only on `$select` (api.md). */
export const GROUP_DEFAULTS = [
  'createdDateTime',
  'deletedDateTime',
  'description',
  'displayName',
  'groupTypes',
  'mail',
  'mailEnabled',
  'mailNickname',
  'membershipRule',
  'membershipRuleProcessingState',
  'securityEnabled',
] as const satisfies readonly (keyof Group)[];

export const GROUP_PROPERTIES = groupSchema.keyof().options;

export const DEVICE_DEFAULTS = [
  'accountEnabled',
  'alternativeSecurityIds',
  'createdDateTime',
  'deletedDateTime',
  'deviceId',
  'displayName',
  'operatingSystem',
  'operatingSystemVersion',
] as const satisfies readonly (keyof Device)[];

export const DEVICE_PROPERTIES = deviceSchema.keyof().options;

const profileString = (record: PrincipalRecord, name: string) => profileText(record.profile, name);

export function licenseAssignmentStates(entries: readonly LicenseEntry[]): LicenseAssignmentState[] {
  return entries.map((e) => ({
    assignedByGroup: e.assignedByGroup,
    disabledPlans: e.disabledPlans,
    error: e.error,
    lastUpdatedDateTime: e.lastUpdatedDateTime,
    skuId: e.skuId,
    state: e.state,
  }));
}

/**
 * Every property of a user this service knows, in Graph's names; `project` picks what the caller sees. The license
 * views and the extension attributes are getters, computed when read: `project` reads only the properties it keeps,
 * so a `$select` (or the default set) that leaves them out does not pay for them on every read.
 */
export function userJson(
  catalog: Catalog,
  record: PrincipalRecord,
  suspendedSkus: ReadonlySet<string> = new Set(),
): User {
  // Plans of a SKU whose subscription is Suspended show `Suspended` (engine subscriptions.ts).
  let effective: EffectiveLicenses | undefined;
  const licenses = () => {
    effective ??= effectiveLicenses(catalog, record.entries, suspendedSkus);
    return effective;
  };
  const businessPhones = record.profile.businessPhones;
  return {
    id: record.id,
    businessPhones: Array.isArray(businessPhones) ? businessPhones : [],
    displayName: record.displayName,
    givenName: profileString(record, 'givenName'),
    jobTitle: profileString(record, 'jobTitle'),
    mail: profileString(record, 'mail'),
    mobilePhone: profileString(record, 'mobilePhone'),
    officeLocation: profileString(record, 'officeLocation'),
    preferredLanguage: profileString(record, 'preferredLanguage'),
    surname: profileString(record, 'surname'),
    userPrincipalName: userProperty(record, record.userPrincipalName),
    accountEnabled: record.accountEnabled,
    get assignedLicenses() {
      return licenses().assignedLicenses;
    },
    get assignedPlans() {
      return licenses().assignedPlans.map((p) => ({
        assignedDateTime: record.entries.find((e) => e.skuId === p.skuId)?.since ?? record.createdDateTime,
        capabilityStatus: p.capabilityStatus,
        service: serviceOf(catalog.planName(p.servicePlanId) ?? ''),
        servicePlanId: p.servicePlanId,
      }));
    },
    createdDateTime: record.createdDateTime,
    deletedDateTime: record.deletedDateTime,
    department: record.department,
    get licenseAssignmentStates() {
      return licenseAssignmentStates(record.entries);
    },
    mailNickname: userProperty(record, record.mailNickname),
    proxyAddresses: record.proxyAddresses,
    usageLocation: record.usageLocation,
    city: profileString(record, 'city'),
    companyName: profileString(record, 'companyName'),
    country: profileString(record, 'country'),
    employeeId: profileString(record, 'employeeId'),
    state: profileString(record, 'state'),
    userType: profileString(record, 'userType'),
    otherMails: profileList(record.profile, 'otherMails'),
    get onPremisesExtensionAttributes() {
      return extensionAttributesOf(record);
    },
  };
}

function extensionAttributesOf(record: PrincipalRecord): Record<string, string | null> {
  return Object.fromEntries(EXTENSION_ATTRIBUTES.map((name) => [name, profileString(record, name)]));
}

/** A property every user has (only devices lack it): its absence is a broken record, not something to send. */
function userProperty(record: PrincipalRecord, value: string | null): string {
  if (value === null) throw new Error(`principal ${record.id} (a ${record.kind}) lacks a user's property`);
  return value;
}

/** Graph's `service` name of a plan, close enough for reporting (exchange, SharePoint, MicrosoftCommunicationsOnline, …). */
function serviceOf(planName: string): string {
  if (planName.startsWith('EXCHANGE')) return 'exchange';
  if (planName.startsWith('SHAREPOINT')) return 'SharePoint';
  if (planName.startsWith('MCO')) return 'MicrosoftCommunicationsOnline';
  if (planName.startsWith('TEAMS')) return 'TeamspaceAPI';
  if (planName.startsWith('YAMMER')) return 'YammerEnterprise';
  return planName;
}

export function deviceJson(catalog: Catalog, record: PrincipalRecord): Device {
  return {
    id: record.id,
    accountEnabled: record.accountEnabled,
    // Stored as they were accepted by POST /devices (the same schema), kept opaque by the records.
    alternativeSecurityIds: alternativeSecurityIdSchema
      .array()
      .parse(record.device?.alternativeSecurityIds ?? []),
    createdDateTime: record.createdDateTime,
    deletedDateTime: null,
    deviceId: record.device?.deviceId ?? null,
    displayName: record.displayName,
    operatingSystem: record.device?.operatingSystem ?? null,
    operatingSystemVersion: record.device?.operatingSystemVersion ?? null,
    deviceOwnership: profileString(record, 'deviceOwnership'),
    enrollmentProfileName: profileString(record, 'enrollmentProfileName'),
    managementType: profileString(record, 'managementType'),
    isRooted: record.profile.isRooted === true,
    trustType: profileString(record, 'trustType'),
    physicalIds: profileList(record.profile, 'physicalIds'),
    extensionAttributes: extensionAttributesOf(record),
    get licenseAssignmentStates() {
      return licenseAssignmentStates(record.entries);
    },
    assignedLicenses: effectiveLicenses(catalog, record.entries).assignedLicenses,
  };
}

export function groupJson(
  group: GroupRecord,
  licensing: GroupLicenseRecord | undefined,
  rule: MembershipRuleRecord | undefined,
): Group {
  return {
    id: group.id,
    createdDateTime: group.createdDateTime,
    deletedDateTime: null,
    description: group.description,
    displayName: group.displayName,
    groupTypes: group.groupTypes,
    mail: group.mailEnabled ? `${group.mailNickname}@contoso.test` : null,
    mailEnabled: group.mailEnabled,
    mailNickname: group.mailNickname,
    securityEnabled: group.securityEnabled,
    assignedLicenses: (licensing?.licenses ?? []).map((l) => ({
      skuId: l.skuId,
      disabledPlans: l.disabledPlans,
    })),
    licenseProcessingState: { state: licensing?.processingState ?? 'ProcessingComplete' },
    membershipRule: rule?.membershipRule ?? null,
    membershipRuleProcessingState: rule?.processingState ?? null,
    membershipRuleProcessingStatus: rule
      ? {
          status: rule.status,
          lastMembershipUpdated: rule.lastMembershipUpdated,
          errorMessage: rule.errorMessage,
        }
      : null,
  };
}

/** Graph's `subscribedSku`. */
export function subscribedSkuJson(
  catalog: Catalog,
  tenantId: string,
  sub: SubscriptionRecord,
): SubscribedSku {
  const sku = catalog.sku(sub.skuId);
  return {
    id: `${tenantId}_${sub.skuId}`,
    accountId: tenantId,
    appliesTo: sku?.assignableTo === 'device' ? 'Company' : 'User',
    capabilityStatus: skuCapabilityStatus(sub),
    consumedUnits: sub.consumedUnits,
    prepaidUnits: sub.prepaidUnits,
    servicePlans: (sku?.planIds ?? []).map((servicePlanId) => ({
      servicePlanId,
      servicePlanName: sku?.planNames.get(servicePlanId) ?? '',
      provisioningStatus: 'Success',
      appliesTo: sku?.assignableTo === 'device' ? 'Company' : 'User',
    })),
    skuId: sub.skuId,
    skuPartNumber: sku?.skuPartNumber ?? '',
    subscriptionIds: [],
  };
}

/** Graph beta's subscription `state` for each stage (`capabilityStatus` Enabled is an `active` subscription). */
const SUBSCRIPTION_STATES = {
  Enabled: 'active',
  Warning: 'warning',
  Suspended: 'suspended',
  LockedOut: 'lockedOut',
} as const;

/**
 * What backs an allotment, in Graph beta's cloudLicensing `subscription` shape: the one place a subscription's
 * lifecycle is mapped. The record has no commerce subscription id, so one is derived from the tenant and SKU (a
 * stable GUID); the dates are its lifecycle's (units set by hand have none: `startDate` is then the day it was bought
 * and `nextLifecycleDate` null), and `state` follows the stage.
 */
export function subscriptionLifecycle(tenantId: string, sub: SubscriptionRecord): CloudLicensingSubscription {
  return {
    subscriptionId: derivedGuid(`subscription|${tenantId}|${sub.skuId}`),
    startDate: (sub.lifecycle?.startDate ?? sub.createdDateTime).slice(0, 10),
    nextLifecycleDate: sub.lifecycle?.nextLifecycleDate?.slice(0, 10) ?? null,
    state: SUBSCRIPTION_STATES[skuCapabilityStatus(sub)],
  };
}

/** A GUID-shaped id that is always the same for the same name (SHA-256, version and variant bits as UUIDv5's). */
function derivedGuid(name: string): string {
  const hex = createHash('sha256').update(name).digest('hex');
  const variant = ((Number.parseInt(hex.slice(16, 17), 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** Graph beta's cloudLicensing `allotment`: the seats of one subscribed SKU, under its subscribedSku id. */
export function allotmentJson(catalog: Catalog, tenantId: string, sub: SubscriptionRecord): Allotment {
  const sku = catalog.sku(sub.skuId);
  const assignableTo = sku?.assignableTo ?? 'user';
  return {
    id: `${tenantId}_${sub.skuId}`,
    allottedUnits: totalUnits(sub.prepaidUnits),
    consumedUnits: sub.consumedUnits,
    skuId: sub.skuId,
    skuPartNumber: sku?.skuPartNumber ?? '',
    assignableTo,
    services: (sku?.planIds ?? []).map((planId) => ({
      assignableTo,
      planId,
      planName: sku?.planNames.get(planId) ?? '',
    })),
    subscriptions: [subscriptionLifecycle(tenantId, sub)],
  };
}

/**
 * A principal's effective licenses, one per SKU with every source merged (as `assignedLicenses`), each with its
 * opaque id and the catalog's SKU: what `licenseDetails` and cloudLicensing `usageRights` both list.
 */
function effectiveSkus(catalog: Catalog, record: PrincipalRecord) {
  return effectiveLicenses(catalog, record.entries).assignedLicenses.map((license) => ({
    id: Buffer.from(`${record.id}:${license.skuId}`).toString('base64url'),
    license,
    sku: catalog.sku(license.skuId),
  }));
}

/** Extension `subscribedSkus/{id}/licenseSummary`: the Licenses page's numbers and the lifecycle. */
export function licenseSummaryJson(
  catalog: Catalog,
  tenantId: string,
  sub: SubscriptionRecord,
): LicenseSummary {
  return {
    id: `${tenantId}_${sub.skuId}`,
    skuId: sub.skuId,
    skuPartNumber: catalog.sku(sub.skuId)?.skuPartNumber ?? '',
    capabilityStatus: skuCapabilityStatus(sub),
    ...licenseSummary(sub),
    lifecycle: sub.lifecycle ?? null,
  };
}

/** `licenseDetails` of a user: one item per effective SKU. */
export function licenseDetailsJson(catalog: Catalog, record: PrincipalRecord): LicenseDetails[] {
  return effectiveSkus(catalog, record).map(({ id, license, sku }) => ({
    id,
    skuId: license.skuId,
    skuPartNumber: sku?.skuPartNumber ?? '',
    servicePlans: (sku?.planIds ?? []).map((servicePlanId) => ({
      servicePlanId,
      servicePlanName: sku?.planNames.get(servicePlanId) ?? '',
      provisioningStatus: license.disabledPlans.includes(servicePlanId) ? 'Disabled' : 'Success',
      appliesTo: 'User',
    })),
  }));
}

/** Graph beta's cloudLicensing `usageRights` of a principal: per effective SKU, the plans it may use. */
export function usageRightsJson(catalog: Catalog, record: PrincipalRecord): UsageRight[] {
  return effectiveSkus(catalog, record).map(({ id, license, sku }) => ({
    id,
    skuId: license.skuId,
    skuPartNumber: sku?.skuPartNumber ?? '',
    services: catalog.enabledPlans(license.skuId, license.disabledPlans).map((planId) => ({
      assignableTo: sku?.assignableTo ?? record.kind,
      planId,
      planName: sku?.planNames.get(planId) ?? '',
    })),
  }));
}

/**
 * Graph beta's cloudLicensing `assignmentErrors` of a principal: one per license source in error, in the order of
 * its licenseAssignmentStates, with the plans involved where the catalog tells them.
 */
export function assignmentErrorsJson(catalog: Catalog, record: PrincipalRecord): AssignmentError[] {
  const held = heldPlanIds(catalog, record.entries);
  return record.entries.flatMap((entry) => {
    if (entry.error === 'None') return [];
    const ids = plansInvolved(catalog, entry, held);
    return [
      {
        id: Buffer.from(`${record.id}:${entry.skuId}:${entry.assignedByGroup ?? 'direct'}`).toString(
          'base64url',
        ),
        ...assignmentErrorText(entry.error, ids),
        occurrenceDateTime: entry.lastUpdatedDateTime,
        skuId: entry.skuId,
        assignedByGroup: entry.assignedByGroup,
        ids,
      },
    ];
  });
}

/**
 * The plans behind a conflict (the entry's plan and the one it excludes) or a dependency hold (the held plan, then
 * the prerequisites it needs, among them the entry's); empty for other errors or when the catalog shows none.
 */
function plansInvolved(catalog: Catalog, entry: LicenseEntry, held: ReadonlySet<string>): string[] {
  const own = catalog.enabledPlans(entry.skuId, entry.disabledPlans);
  if (entry.error === 'MutuallyExclusiveViolation') {
    for (const plan of own) {
      for (const excluded of catalog.exclusionsOf(plan)) {
        if (held.has(excluded) || own.includes(excluded)) return [plan, excluded];
      }
    }
  }
  if (entry.error === 'DependencyViolation') {
    for (const plan of held) {
      const prerequisites = catalog.prerequisitesOf(plan);
      if (prerequisites?.some((p) => own.includes(p))) return [plan, ...prerequisites];
    }
  }
  return [];
}

/** A directory object inside a collection of mixed types (members). */
export function directoryObjectJson(
  catalog: Catalog,
  object: { kind: 'group'; group: GroupRecord } | { kind: 'user' | 'device'; principal: PrincipalRecord },
): DirectoryObject {
  if (object.kind === 'group')
    return { '@odata.type': '#microsoft.graph.group', ...groupJson(object.group, undefined, undefined) };
  return object.kind === 'user'
    ? { '@odata.type': '#microsoft.graph.user', ...userJson(catalog, object.principal) }
    : { '@odata.type': '#microsoft.graph.device', ...deviceJson(catalog, object.principal) };
}

/** One place in a SKU's waiting room: who waits (named, as the waiting room is read by people), since when, where. */
export function waitingPrincipalJson(
  principal: PrincipalRecord,
  waitingSince: string,
  position: number,
): WaitingPrincipal {
  return {
    id: principal.id,
    principalType: principal.kind,
    displayName: principal.displayName,
    ...(principal.kind === 'user' && principal.userPrincipalName !== null
      ? { userPrincipalName: principal.userPrincipalName }
      : {}),
    waitingSince,
    position,
  };
}

/** Graph beta's cloudLicensing `waitingMember`: who waits for a seat (with its type) and since when. */
export function waitingMemberJson(principal: PrincipalRecord, waitingSince: string): WaitingMember {
  return {
    id: principal.id,
    waitingSinceDateTime: waitingSince,
    assignedTo: {
      '@odata.type': principal.kind === 'device' ? '#microsoft.graph.device' : '#microsoft.graph.user',
      id: principal.id,
    },
  };
}
