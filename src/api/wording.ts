import type { GroupProcessingFailure, Refusal } from '../application/errors.js';
import type { ImportLineProblem } from '../application/import.js';
import type { AssignmentError } from '../contract/graph.js';
import type {
  LicenseError,
  LicensingFailure,
  NotLicensableReason,
  RequestConflict,
} from '../engine/index.js';

/*
 * The words of every coded failure: the core reports codes and facts, and this module alone turns them into text,
 * Graph's own where Graph has one. Each mapping is a switch the compiler checks: a new code without a text does
 * not build.
 */

/** Graph's wording for "no such object". */
export function notFoundText(id: string): string {
  return `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`;
}

/** Graph's wording (or ours, where Graph has none) for each refusal; the compiler checks every code has one. */
export function refusalText(refusal: Refusal): string {
  switch (refusal.code) {
    case 'ObjectIdTaken':
      return `Another object with id ${refusal.id} already exists.`;
    case 'UserPrincipalNameTaken':
      return 'Another object with the same value for property userPrincipalName already exists.';
    case 'AlreadyMember':
      return "One or more added object references already exist for the following modified properties: 'members'.";
    case 'GroupMemberOfItself':
      return 'A group cannot be a member of itself.';
    case 'GroupHasLicenses':
      return `Group ${refusal.groupId} cannot be deleted while it has licenses assigned. Remove its licenses with assignLicense first.`;
    case 'TooManySecrets':
      return `The application already has ${refusal.limit} secrets; remove one with removePassword first.`;
    case 'SecretEndsInThePast':
      return 'endDateTime must be in the future.';
    case 'SkuNotInCatalog':
      return `SKU '${refusal.sku}' is not in the catalog. GET /api/manage/catalog lists the SKUs that can be bought.`;
    case 'InvalidMembershipRule':
      return `Invalid membership rule at position ${refusal.position}: ${refusal.reason}.`;
    case 'RuleWithoutDynamicMembership':
      return `Group ${refusal.groupId}: membershipRule and membershipRuleProcessingState need groupTypes to contain 'DynamicMembership'.`;
    case 'DynamicMembershipWithoutRule':
      return `Group ${refusal.groupId} has 'DynamicMembership' in groupTypes but no membershipRule. Give a rule such as user.department -eq "Sales".`;
    case 'DynamicGroupNotSecurityEnabled':
      return `Group ${refusal.groupId}: a dynamic group here must be a security group (securityEnabled true), the kind that carries licenses.`;
    case 'DynamicMembershipManaged':
      return `Members of group ${refusal.groupId} are decided by its membership rule and cannot be added or removed by hand. Change the rule, or PATCH groupTypes to make the group static.`;
    case 'RuleSubjectMismatch':
      return `The membership rule reads ${refusal.ruleSubject} properties, but ${refusal.memberId} is a ${refusal.memberKind}.`;
    case 'AlertReceiverNotAllowed':
      return `notificationUrl '${refusal.url}' is not allowed: use https (http only for 127.0.0.1, localhost or [::1]).`;
    case 'AlertHandshakeFailed':
      return `Subscription validation request failed for notificationUrl '${refusal.url}': ${refusal.reason}. The receiver must answer POST ?validationToken=… within 10 seconds with 200, Content-Type text/plain and the token as its body.`;
    default:
      return unreachable(refusal);
  }
}

/**
 * Graph's wording (api.md "Licensing messages", word for word: real clients match on it), or ours where Graph has
 * none, for each licensing failure; the compiler checks every code has one.
 */
export function licensingFailureText(failure: LicensingFailure): string {
  switch (failure.code) {
    case 'InvalidLicense':
      return `License ${failure.skuId} does not correspond to a valid company License.`;
    case 'InvalidDisabledPlan':
      return `The disabled plan ${failure.planId} is not a valid service plan for license ${failure.skuId}.`;
    case 'NoAvailableLicenses':
      return `Subscription ${failure.skuId} does not have any available licenses.`;
    case 'InvalidUsageLocation':
      return 'License assignment cannot be done for user with invalid usage location.';
    case 'InheritedLicense':
      return 'User license is inherited from a group membership and it cannot be removed directly from the user.';
    case 'MutuallyExclusivePlans':
      return `License assignment failed because service plans ${failure.planIds[0]}, ${failure.planIds[1]} are mutually exclusive.`;
    case 'MissingPrerequisite':
      return `License assignment failed because service plan ${failure.planId} depends on the service plan(s) ${failure.requiresAnyOf.join(', ')}.`;
    case 'ProxyAddressInUse':
      return `License assignment failed because proxy address ${failure.address} is already used by another user's mailbox.`;
    case 'GroupNotLicensable':
      return `Licenses cannot be assigned to group ${failure.groupId}: ${notLicensableText(failure.reason)}`;
    case 'DeviceLicenseAlreadyAssigned':
      return `License ${failure.skuId} is a device license and is already assigned to group ${failure.groupId}. A device license can be assigned to one group only; move it with moveLicense.`;
    case 'OneDeviceLicensePerGroup':
      return `Group ${failure.groupId} can carry only one device license subscription.`;
    case 'ConflictingRequest':
      return `License ${failure.skuId} ${conflictText(failure.conflict)}`;
    case 'NotADeviceLicenseOfGroup':
      return `License ${failure.skuId} is not a device license assigned to group ${failure.groupId}; only device licenses can be moved.`;
    default:
      return unreachable(failure);
  }
}

function notLicensableText(reason: NotLicensableReason): string {
  switch (reason) {
    case 'DeviceLicenseOnMicrosoft365Group':
      return 'device licenses go to security groups or distribution lists, not Microsoft 365 groups.';
    case 'NeitherSecurityGroupNorDistributionList':
      return 'the group is neither a security group nor a distribution list.';
    case 'NotSecurityEnabled':
      return 'only security-enabled groups (securityEnabled: true) can carry licenses.';
    default:
      return unreachable(reason);
  }
}

function conflictText(conflict: RequestConflict): string {
  switch (conflict) {
    case 'AddedTwice':
      return 'appears more than once in addLicenses.';
    case 'AddedAndRemoved':
      return 'cannot be both added and removed in one request.';
    default:
      return unreachable(conflict);
  }
}

/** The operator API's wording for a line of an import that was not written. */
export function importLineErrorText(problem: ImportLineProblem): string {
  switch (problem.code) {
    case 'InvalidLine':
      return problem.detail;
    case 'UserPrincipalNameTaken':
      return 'Another object with the same value for property userPrincipalName already exists.';
    case 'ObjectIdTaken':
      return `An object with id ${problem.id} already exists.`;
    default:
      return unreachable(problem);
  }
}

/** Our wording for work on a group that failed for good (shown in `licenseProcessingDetails`). */
export function groupProcessingFailureText(failure: GroupProcessingFailure): string {
  switch (failure.code) {
    case 'JobNotPlanned':
      return `The license job for group ${failure.groupId} could not be planned; reprocess the group to retry.`;
    default:
      return unreachable(failure.code);
  }
}

/**
 * Graph beta's cloudLicensing `assignmentError` for a v1.0 `licenseAssignmentState.error` (api.md "cloudLicensing
 * (beta shape)"): the code and message of Microsoft's Cloud Licensing design where it has one (noAvailableLicenses,
 * mutuallyExclusiveServicePlans, invalidUsageLocation, proxyAddressConflict), ours where it has none. `ids` are the
 * plans involved, when known.
 */
export function assignmentErrorText(
  error: LicenseError,
  ids: readonly string[],
): Pick<AssignmentError, 'code' | 'message'> {
  switch (error) {
    case 'CountViolation':
      return {
        code: 'noAvailableLicenses',
        message: 'There are no available licenses for the specified allotment',
      };
    case 'MutuallyExclusiveViolation':
      return {
        code: 'mutuallyExclusiveServicePlans',
        message:
          ids.length > 0
            ? `License assignment failed because service plans ${ids.join(',')} are mutually exclusive`
            : 'License assignment failed because its service plans are mutually exclusive with plans already assigned',
      };
    case 'DependencyViolation': {
      const [plan, ...prerequisites] = ids;
      return {
        code: 'dependentServicePlansMissing',
        message:
          plan !== undefined
            ? `License assignment failed because service plan ${plan} depends on the service plan(s) ${prerequisites.join(', ')}.`
            : 'License assignment failed because another assigned service plan depends on its service plans.',
      };
    }
    case 'ProhibitedInUsageLocationViolation':
      return {
        code: 'invalidUsageLocation',
        message: 'Cannot process request because a referenced item has an invalid usage location.',
      };
    case 'UniquenessViolation':
      return {
        code: 'proxyAddressConflict',
        message: 'Another object with the same value for property proxyAddresses already exists.',
      };
    case 'Other':
      return {
        code: 'other',
        message:
          'License assignment failed for a reason other than seats, conflicts, dependencies, usage location or proxy addresses.',
      };
    default:
      return unreachable(error);
  }
}

function unreachable(value: never): never {
  throw new Error(`Unmapped code: ${JSON.stringify(value)}`);
}
