// Dynamic membership rules at the edge of the directory: a rule checked as a request gives it, the facts a rule
// reads of a stored user or device, and the what-if of Graph beta's `evaluateDynamicMembership`. The language
// itself is the engine's (src/engine/membership-rules.ts).
import {
  type Catalog,
  type ExpressionEvaluationDetails,
  effectiveLicenses,
  explainRule,
  type MembershipRule,
  matchesRule,
  parseMembershipRule,
  type RuleFacts,
} from '../engine/index.js';
import type { AppContext } from './context.js';
import { NotFoundError, RefusedError } from './errors.js';
import type { MembershipChange } from './messages.js';
import { EXTENSION_ATTRIBUTES, profileList, profileText } from './profile.js';
import type { MembershipRuleRecord, PrincipalRecord } from './records.js';

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

/**
 * What a rule can read of a stored user or device: its directory facts, and a user's plans as Graph shows them
 * (computed from its license entries, so only when asked: `withPlans`).
 */
export function ruleFactsOf(record: PrincipalRecord, catalog: Catalog, withPlans = true): RuleFacts {
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
    assignedPlans: withPlans
      ? effectiveLicenses(catalog, record.entries).assignedPlans.map((plan) => ({
          servicePlanId: plan.servicePlanId,
          capabilityStatus: plan.capabilityStatus,
        }))
      : [],
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

/** Stored rules, parsed once per process: every principal change checks them all. */
const parsedRules = new Map<string, MembershipRule | null>();

/** A stored rule, parsed; null if it no longer parses (it was checked when saved, so only a corrupt row). */
export function storedRule(record: Pick<MembershipRuleRecord, 'membershipRule'>): MembershipRule | null {
  const text = record.membershipRule;
  let rule = parsedRules.get(text);
  if (rule === undefined) {
    const parsed = parseMembershipRule(text);
    rule = parsed.ok ? parsed.rule : null;
    if (parsedRules.size >= 10_000) parsedRules.clear();
    parsedRules.set(text, rule);
  }
  return rule;
}

/** Whether a rule reads the user's plans (the one fact that costs an evaluation of its licenses). */
export function readsPlans(rule: MembershipRule): boolean {
  return /assignedPlans/i.test(rule.text);
}

/** Whether the principal belongs in the group under the rule: a live object of the rule's kind that matches it. */
export function belongsUnder(rule: MembershipRule, record: PrincipalRecord, catalog: Catalog): boolean {
  return (
    record.deletedDateTime === null &&
    record.kind === rule.subject &&
    matchesRule(rule, ruleFactsOf(record, catalog, readsPlans(rule)))
  );
}

/**
 * The join or leave that brings a live principal in line with one dynamic group's rule, or null when its membership
 * already agrees (a soft-deleted principal always agrees: it keeps its memberships for its restore).
 */
export function ruleChangeFor(
  record: PrincipalRecord,
  groupId: string,
  rule: MembershipRule,
  catalog: Catalog,
  now: string,
): MembershipChange | null {
  if (record.deletedDateTime !== null) return null;
  const wanted = belongsUnder(rule, record, catalog);
  if (wanted === record.memberOf.some((m) => m.groupId === groupId)) return null;
  return {
    type: 'member',
    op: wanted ? 'add' : 'remove',
    groupId,
    memberId: record.id,
    memberKind: record.kind,
    ...(wanted ? { joinedAt: now } : {}),
  };
}

/**
 * The membership changes that bring a principal in line with the tenant's dynamic groups whose processing is On:
 * joins of the groups it matches and is not in, leaves of those it is in and no longer matches. A soft-deleted
 * principal keeps its memberships (as in a static group, for its restore); a paused group keeps its members.
 */
export function ruleChangesFor(
  record: PrincipalRecord,
  rules: ReadonlyMap<string, MembershipRuleRecord>,
  catalog: Catalog,
  now: string,
): MembershipChange[] {
  if (record.deletedDateTime !== null) return [];
  const changes: MembershipChange[] = [];
  for (const stored of rules.values()) {
    if (stored.processingState !== 'On') continue;
    const rule = storedRule(stored);
    const change = rule && ruleChangeFor(record, stored.groupId, rule, catalog, now);
    if (change) changes.push(change);
  }
  return changes;
}
