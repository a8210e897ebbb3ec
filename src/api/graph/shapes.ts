import { EXTENSION_ATTRIBUTES, profileList, profileText } from '../../application/profile.js';
import type {
  GroupLicenseRecord,
  GroupRecord,
  MembershipRuleRecord,
  PrincipalRecord,
  SubscriptionRecord,
} from '../../application/records.js';
import {
  alternativeSecurityIdSchema,
  type Device,
  type DirectoryObject,
  deviceSchema,
  type Group,
  groupSchema,
  type LicenseAssignmentState,
  type LicenseDetails,
  type LicenseSummary,
  type SubscribedSku,
  type User,
  userSchema,
  type WaitingPrincipal,
} from '../../contract/graph.js';
import {
  type Catalog,
  effectiveLicenses,
  type LicenseEntry,
  licenseSummary,
  skuCapabilityStatus,
} from '../../engine/index.js';

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

/** Every property of a user this service knows, in Graph's names; `project` picks what the caller sees. */
export function userJson(
  catalog: Catalog,
  record: PrincipalRecord,
  suspendedSkus: ReadonlySet<string> = new Set(),
): User {
  // Plans of a SKU whose subscription is Suspended show `Suspended` (engine subscriptions.ts).
  const effective = effectiveLicenses(catalog, record.entries, suspendedSkus);
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
    assignedLicenses: effective.assignedLicenses,
    assignedPlans: effective.assignedPlans.map((p) => ({
      assignedDateTime: record.entries.find((e) => e.skuId === p.skuId)?.since ?? record.createdDateTime,
      capabilityStatus: p.capabilityStatus,
      service: serviceOf(catalog.planName(p.servicePlanId) ?? ''),
      servicePlanId: p.servicePlanId,
    })),
    createdDateTime: record.createdDateTime,
    deletedDateTime: record.deletedDateTime,
    department: record.department,
    licenseAssignmentStates: licenseAssignmentStates(record.entries),
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
    onPremisesExtensionAttributes: extensionAttributesOf(record),
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
    licenseAssignmentStates: licenseAssignmentStates(record.entries),
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
  return effectiveLicenses(catalog, record.entries).assignedLicenses.map((license) => {
    const sku = catalog.sku(license.skuId);
    return {
      id: Buffer.from(`${record.id}:${license.skuId}`).toString('base64url'),
      skuId: license.skuId,
      skuPartNumber: sku?.skuPartNumber ?? '',
      servicePlans: (sku?.planIds ?? []).map((servicePlanId) => ({
        servicePlanId,
        servicePlanName: sku?.planNames.get(servicePlanId) ?? '',
        provisioningStatus: license.disabledPlans.includes(servicePlanId) ? 'Disabled' : 'Success',
        appliesTo: 'User',
      })),
    };
  });
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
