import type { Guid } from './model.js';

/**
 * Why a license request is refused: a stable code and the facts that explain it (ids, addresses), no prose. Only
 * the HTTP edge words them, in Graph's text where Graph has one (src/api/envelope.ts, `licensingFailureText`).
 */
export type LicensingFailure =
  | { readonly code: 'InvalidLicense'; readonly skuId: string }
  | { readonly code: 'InvalidDisabledPlan'; readonly skuId: Guid; readonly planId: string }
  | { readonly code: 'NoAvailableLicenses'; readonly skuId: Guid }
  | { readonly code: 'InvalidUsageLocation' }
  | { readonly code: 'InheritedLicense'; readonly skuId: Guid }
  | { readonly code: 'MutuallyExclusivePlans'; readonly planIds: readonly [Guid, Guid] }
  | { readonly code: 'MissingPrerequisite'; readonly planId: Guid; readonly requiresAnyOf: readonly Guid[] }
  | { readonly code: 'ProxyAddressInUse'; readonly address: string }
  | { readonly code: 'GroupNotLicensable'; readonly groupId: Guid; readonly reason: NotLicensableReason }
  | { readonly code: 'DeviceLicenseAlreadyAssigned'; readonly skuId: Guid; readonly groupId: Guid }
  | { readonly code: 'OneDeviceLicensePerGroup'; readonly groupId: Guid }
  | { readonly code: 'ConflictingRequest'; readonly skuId: string; readonly conflict: RequestConflict }
  /** A move names a SKU that is not a device license carried by the group it is moved from. */
  | { readonly code: 'NotADeviceLicenseOfGroup'; readonly skuId: string; readonly groupId: Guid };

export type LicensingFailureCode = LicensingFailure['code'];

/** Why a group may not carry a SKU (rules.md §2). */
export type NotLicensableReason =
  /** Device licenses go to security groups or distribution lists, never to Microsoft 365 groups. */
  | 'DeviceLicenseOnMicrosoft365Group'
  /** A device license needs a security group or a distribution list. */
  | 'NeitherSecurityGroupNorDistributionList'
  /** User licenses go to security-enabled groups only. */
  | 'NotSecurityEnabled';

/** How one assignLicense request contradicts itself. */
export type RequestConflict = 'AddedTwice' | 'AddedAndRemoved';

export type Result<T, F = LicensingFailure> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly failure: F };

export function ok<T>(value: T): { readonly ok: true; readonly value: T } {
  return { ok: true, value };
}

export function fail<F>(failure: F): { readonly ok: false; readonly failure: F } {
  return { ok: false, failure };
}

export const failures = {
  invalidLicense: (skuId: string): LicensingFailure => ({ code: 'InvalidLicense', skuId }),
  invalidDisabledPlan: (skuId: Guid, planId: string): LicensingFailure => ({
    code: 'InvalidDisabledPlan',
    skuId,
    planId,
  }),
  noAvailableLicenses: (skuId: Guid): LicensingFailure => ({ code: 'NoAvailableLicenses', skuId }),
  invalidUsageLocation: (): LicensingFailure => ({ code: 'InvalidUsageLocation' }),
  inheritedLicense: (skuId: Guid): LicensingFailure => ({ code: 'InheritedLicense', skuId }),
  mutuallyExclusive: (first: Guid, second: Guid): LicensingFailure => ({
    code: 'MutuallyExclusivePlans',
    planIds: [first, second],
  }),
  missingPrerequisite: (planId: Guid, requiresAnyOf: readonly Guid[]): LicensingFailure => ({
    code: 'MissingPrerequisite',
    planId,
    requiresAnyOf,
  }),
  proxyAddressInUse: (address: string): LicensingFailure => ({ code: 'ProxyAddressInUse', address }),
  groupNotLicensable: (groupId: Guid, reason: NotLicensableReason): LicensingFailure => ({
    code: 'GroupNotLicensable',
    groupId,
    reason,
  }),
  deviceLicenseAlreadyAssigned: (skuId: Guid, groupId: Guid): LicensingFailure => ({
    code: 'DeviceLicenseAlreadyAssigned',
    skuId,
    groupId,
  }),
  oneDeviceLicensePerGroup: (groupId: Guid): LicensingFailure => ({
    code: 'OneDeviceLicensePerGroup',
    groupId,
  }),
  conflictingRequest: (skuId: string, conflict: RequestConflict): LicensingFailure => ({
    code: 'ConflictingRequest',
    skuId,
    conflict,
  }),
  notADeviceLicenseOfGroup: (skuId: string, groupId: Guid): LicensingFailure => ({
    code: 'NotADeviceLicenseOfGroup',
    skuId,
    groupId,
  }),
};
