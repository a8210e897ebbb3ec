import type { Guid } from './model.js';

/**
 * Why a license request is refused. Stable codes for programs; the message is Graph's own text where Graph has
 * one (api.md "Licensing messages"), because real clients match on it. Only the HTTP edge turns these into
 * responses.
 */
export type LicensingFailure =
  | { readonly code: 'InvalidLicense'; readonly skuId: string; readonly message: string }
  | {
      readonly code: 'InvalidDisabledPlan';
      readonly skuId: Guid;
      readonly planId: string;
      readonly message: string;
    }
  | { readonly code: 'NoAvailableLicenses'; readonly skuId: Guid; readonly message: string }
  | { readonly code: 'InvalidUsageLocation'; readonly message: string }
  | { readonly code: 'InheritedLicense'; readonly skuId: Guid; readonly message: string }
  | {
      readonly code: 'MutuallyExclusivePlans';
      readonly planIds: readonly [Guid, Guid];
      readonly message: string;
    }
  | {
      readonly code: 'MissingPrerequisite';
      readonly planId: Guid;
      readonly requiresAnyOf: readonly Guid[];
      readonly message: string;
    }
  | { readonly code: 'ProxyAddressInUse'; readonly address: string; readonly message: string }
  | { readonly code: 'GroupNotLicensable'; readonly groupId: Guid; readonly message: string }
  | {
      readonly code: 'DeviceLicenseAlreadyAssigned';
      readonly skuId: Guid;
      readonly groupId: Guid;
      readonly message: string;
    }
  | { readonly code: 'OneDeviceLicensePerGroup'; readonly groupId: Guid; readonly message: string }
  | { readonly code: 'ConflictingRequest'; readonly skuId: string; readonly message: string };

export type LicensingFailureCode = LicensingFailure['code'];

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
  invalidLicense: (skuId: string): LicensingFailure => ({
    code: 'InvalidLicense',
    skuId,
    message: `License ${skuId} does not correspond to a valid company License.`,
  }),
  invalidDisabledPlan: (skuId: Guid, planId: string): LicensingFailure => ({
    code: 'InvalidDisabledPlan',
    skuId,
    planId,
    message: `The disabled plan ${planId} is not a valid service plan for license ${skuId}.`,
  }),
  noAvailableLicenses: (skuId: Guid): LicensingFailure => ({
    code: 'NoAvailableLicenses',
    skuId,
    message: `Subscription ${skuId} does not have any available licenses.`,
  }),
  invalidUsageLocation: (): LicensingFailure => ({
    code: 'InvalidUsageLocation',
    message: 'License assignment cannot be done for user with invalid usage location.',
  }),
  inheritedLicense: (skuId: Guid): LicensingFailure => ({
    code: 'InheritedLicense',
    skuId,
    message:
      'User license is inherited from a group membership and it cannot be removed directly from the user.',
  }),
  mutuallyExclusive: (first: Guid, second: Guid): LicensingFailure => ({
    code: 'MutuallyExclusivePlans',
    planIds: [first, second],
    message: `License assignment failed because service plans ${first}, ${second} are mutually exclusive.`,
  }),
  missingPrerequisite: (planId: Guid, requiresAnyOf: readonly Guid[]): LicensingFailure => ({
    code: 'MissingPrerequisite',
    planId,
    requiresAnyOf,
    message: `License assignment failed because service plan ${planId} depends on the service plan(s) ${requiresAnyOf.join(', ')}.`,
  }),
  proxyAddressInUse: (address: string): LicensingFailure => ({
    code: 'ProxyAddressInUse',
    address,
    message: `License assignment failed because proxy address ${address} is already used by another user's mailbox.`,
  }),
  groupNotLicensable: (groupId: Guid, reason: string): LicensingFailure => ({
    code: 'GroupNotLicensable',
    groupId,
    message: `Licenses cannot be assigned to group ${groupId}: ${reason}`,
  }),
  deviceLicenseAlreadyAssigned: (skuId: Guid, groupId: Guid): LicensingFailure => ({
    code: 'DeviceLicenseAlreadyAssigned',
    skuId,
    groupId,
    message: `License ${skuId} is a device license and is already assigned to group ${groupId}. A device license can be assigned to one group only; move it with moveLicense.`,
  }),
  oneDeviceLicensePerGroup: (groupId: Guid): LicensingFailure => ({
    code: 'OneDeviceLicensePerGroup',
    groupId,
    message: `Group ${groupId} can carry only one device license subscription.`,
  }),
  conflictingRequest: (skuId: string, reason: string): LicensingFailure => ({
    code: 'ConflictingRequest',
    skuId,
    message: `License ${skuId} ${reason}`,
  }),
};
