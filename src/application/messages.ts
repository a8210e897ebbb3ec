import { z } from 'zod';

const guid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);

/** Plan and start a group's license job. */
export const groupJobMessage = z.object({
  kind: z.literal('group-job'),
  tenantId: guid,
  groupId: guid,
  jobId: z.string().min(1),
});
export type GroupJobMessage = z.infer<typeof groupJobMessage>;

/** One page of a group job: the members of `listGroupId` whose principal shards are `fromShard..toShard`. */
export const groupPageMessage = z.object({
  kind: z.literal('group-page'),
  tenantId: guid,
  groupId: guid,
  jobId: z.string().min(1),
  page: z.number().int().nonnegative(),
  pages: z.number().int().positive(),
  listGroupId: guid,
  fromShard: z.number().int().min(0).max(256),
  toShard: z.number().int().min(1).max(256),
  /** Read principals with one range query (most of the range are members) instead of point reads. */
  dense: z.boolean(),
});
export type GroupPageMessage = z.infer<typeof groupPageMessage>;

/** One page of a dynamic group's evaluation: the principals of shards `fromShard..toShard` against its rule. */
export const rulePageMessage = z.object({
  kind: z.literal('rule-page'),
  tenantId: guid,
  groupId: guid,
  jobId: z.string().min(1),
  page: z.number().int().nonnegative(),
  pages: z.number().int().positive(),
  fromShard: z.number().int().min(0).max(256),
  toShard: z.number().int().min(1).max(256),
});
export type RulePageMessage = z.infer<typeof rulePageMessage>;

/** What the pages queue carries: pages of group license jobs and of dynamic group evaluations. */
export const pageMessage = z.discriminatedUnion('kind', [groupPageMessage, rulePageMessage]);

export const membershipChange = z.object({
  type: z.literal('member'),
  op: z.enum(['add', 'remove']),
  groupId: guid,
  memberId: guid,
  /** Known when the change comes from the API; looked up otherwise. */
  memberKind: z.enum(['user', 'device', 'group']).optional(),
  /** Change-notification ordering, when the source provides it (newer wins; replays are ignored). */
  sequence: z.number().optional(),
  eventTime: z.string().optional(),
  /** When the membership began, if the sender already recorded it (the API does, so both sides agree). */
  joinedAt: z.string().optional(),
});

export const lifecycleChange = z.object({
  type: z.literal('user'),
  op: z.enum(['softDelete', 'restore', 'hardDelete']),
  userId: guid,
  /** Change-notification ordering, when the source provides it: an older lifecycle change than the last applied is a replay. */
  sequence: z.number().optional(),
  eventTime: z.string().optional(),
});

export const evaluateChange = z.object({
  type: z.literal('evaluate'),
  principalIds: z.array(guid).min(1),
});

/**
 * Bring these principals' memberships of dynamic groups in line with the rules as they are when the change is
 * applied (not when it was sent): a late or replayed one can only apply the current rules.
 */
export const rulesChange = z.object({
  type: z.literal('rules'),
  principalIds: z.array(guid).min(1),
});

export const change = z.discriminatedUnion('type', [
  membershipChange,
  lifecycleChange,
  evaluateChange,
  rulesChange,
]);
export type Change = z.infer<typeof change>;
export type MembershipChange = z.infer<typeof membershipChange>;

/** Directory changes for one tenant, applied together. */
export const changesMessage = z.object({
  kind: z.literal('changes'),
  tenantId: guid,
  changes: z.array(change).min(1),
  /** Where they came from, for the audit log ("api", "webhook"). */
  origin: z.enum(['api', 'webhook', 'system']),
});
export type ChangesMessage = z.infer<typeof changesMessage>;

/** Seats of a SKU were freed: promote the principals waiting for it. */
export const healMessage = z.object({
  kind: z.literal('heal'),
  tenantId: guid,
  skuId: guid,
  /** When it was queued: a heal pass that began later has already seen the seats it announces. */
  queuedAt: z.iso.datetime().optional(),
});
export type HealMessage = z.infer<typeof healMessage>;

/** The message that wakes a SKU's waiting room. */
export function healRequest(tenantId: string, skuId: string, now: Date): HealMessage {
  return { kind: 'heal', tenantId, skuId, queuedAt: now.toISOString() };
}

export const workMessage = z.discriminatedUnion('kind', [
  groupJobMessage,
  groupPageMessage,
  rulePageMessage,
  changesMessage,
  healMessage,
]);
export type WorkMessage = z.infer<typeof workMessage>;

/** An alert pass of one tenant (queue `…-alerts`, sent with the debounce delay). */
export const alertEvaluationMessage = z.object({ tenantId: guid });

/** One attempt of an alert delivery (queue `…-alert-deliveries`, sent with the back-off delay). */
export const alertDeliveryMessage = z.object({
  tenantId: guid,
  alertId: guid,
  deliveryId: z.string().regex(/^[0-9]{17}-[0-9a-f]{8}-[0-9]{1,2}$/),
});
