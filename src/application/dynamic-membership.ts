// Dynamic membership rules at the edge of the directory: a rule checked as a request gives it, the facts a rule
// reads of a stored user or device, and the what-if of Graph beta's `evaluateDynamicMembership`. The language
// itself is the engine's (src/engine/membership-rules.ts).
import {
  type Catalog,
  type ExpressionEvaluationDetails,
  effectiveLicenses,
  explainRule,
  type MembershipRule,
  parseMembershipRule,
  type RuleFacts,
} from '../engine/index.js';
import type { AppContext } from './context.js';
import { NotFoundError, RefusedError } from './errors.js';
import { EXTENSION_ATTRIBUTES, profileList, profileText } from './profile.js';
import type { PrincipalRecord } from './records.js';

/** What a what-if answers (Graph beta `evaluateDynamicMembershipResult`). */
export interface DynamicMembershipEvaluation {
  readonly membershipRule: string;
  readonly membershipRuleEvaluationResult: boolean;
  readonly membershipRuleEvaluationDetails: ExpressionEvaluationDetails;
}

/** The rule, parsed; a rule that does not parse is refused with where and why. */
export function membershipRuleOf(text: string): MembershipRule {
  const parsed = parseMembershipRule(text);
  if (!parsed.ok) {
    throw new RefusedError({
      code: 'InvalidMembershipRule',
      position: parsed.error.position,
      reason: parsed.error.message,
    });
  }
  return parsed.rule;
}

/** Profile properties a rule reads as text (set through the Graph API or the import when given). */
const USER_PROFILE_TEXT = [
  'city',
  'companyName',
  'country',
  'employeeId',
  'jobTitle',
  'mail',
  'officeLocation',
  'state',
  'userType',
] as const;
const DEVICE_PROFILE_TEXT = ['deviceOwnership', 'enrollmentProfileName', 'managementType'] as const;

/** What a rule can read of a stored user or device: its directory facts, and a user's plans as Graph shows them. */
export function ruleFactsOf(record: PrincipalRecord, catalog: Catalog): RuleFacts {
  const common: Record<string, RuleFacts[string]> = {
    objectId: record.id,
    accountEnabled: record.accountEnabled,
    displayName: record.displayName,
  };
  for (const name of EXTENSION_ATTRIBUTES) common[name] = profileText(record.profile, name);
  if (record.kind === 'device') {
    const facts: Record<string, RuleFacts[string]> = {
      ...common,
      deviceId: record.device?.deviceId ?? null,
      deviceOSType: record.device?.operatingSystem ?? null,
      deviceOSVersion: record.device?.operatingSystemVersion ?? null,
      isRooted: record.profile.isRooted === true,
      // Graph's device names these trustType and physicalIds; rules say deviceTrustType and devicePhysicalIds.
      deviceTrustType: profileText(record.profile, 'trustType'),
      devicePhysicalIds: profileList(record.profile, 'physicalIds'),
    };
    for (const name of DEVICE_PROFILE_TEXT) facts[name] = profileText(record.profile, name);
    return facts;
  }
  const facts: Record<string, RuleFacts[string]> = {
    ...common,
    userPrincipalName: record.userPrincipalName,
    mailNickname: record.mailNickname,
    usageLocation: record.usageLocation,
    department: record.department,
    proxyAddresses: record.proxyAddresses,
    otherMails: profileList(record.profile, 'otherMails'),
    assignedPlans: effectiveLicenses(catalog, record.entries).assignedPlans.map((plan) => ({
      servicePlanId: plan.servicePlanId,
      capabilityStatus: plan.capabilityStatus,
    })),
  };
  for (const name of USER_PROFILE_TEXT) facts[name] = profileText(record.profile, name);
  return facts;
}

/**
 * Would this user or device be a member under the rule? Expression by expression, as Graph beta's
 * `POST /groups/evaluateDynamicMembership` answers. A rule about devices asked of a user (or the reverse) is
 * refused rather than answered `false`: the admin has the wrong rule or the wrong object.
 */
export async function evaluateDynamicMembership(
  ctx: Pick<AppContext, 'directory' | 'catalog'>,
  tenantId: string,
  memberId: string,
  membershipRule: string,
): Promise<DynamicMembershipEvaluation> {
  const rule = membershipRuleOf(membershipRule);
  const member = await ctx.directory.principal(tenantId, memberId);
  if (!member || member.deletedDateTime !== null) throw new NotFoundError(memberId);
  if (member.kind !== rule.subject) {
    throw new RefusedError({
      code: 'RuleSubjectMismatch',
      memberId,
      memberKind: member.kind,
      ruleSubject: rule.subject,
    });
  }
  const details = explainRule(rule, ruleFactsOf(member, ctx.catalog));
  return {
    membershipRule,
    membershipRuleEvaluationResult: details.expressionResult,
    membershipRuleEvaluationDetails: details,
  };
}
