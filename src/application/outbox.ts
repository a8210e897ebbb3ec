import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { QueueNames } from '../config/queues.js';
import { auditInputSchema } from '../storage/audit.js';
import { outboxRow } from '../storage/outbox.js';
import { type AppContext, faultPoint } from './context.js';
import { type ChangesMessage, changesMessage, type WorkMessage, workMessage } from './messages.js';
import type { AuditInput, OutboxRecord } from './records.js';

/**
 * How long a request that committed a change is presumed alive and relaying its outbox row itself; after it, the
 * sweep relays the row. Short: the request relays right after its commit, so only a crash leaves a row this old.
 */
export const OUTBOX_LEASE_MS = 60_000;
/**
 * An import's rows are relayed at its end, which may be minutes away; no request writes after the host's function
 * timeout (host.json `functionTimeout`, 10 minutes).
 */
export const IMPORT_OUTBOX_LEASE_MS = 10 * 60_000;
/** Rows relayed per tenant by one sweep; the next sweep takes the rest. */
export const OUTBOX_SWEEP_LIMIT = 500;

export interface OutboxMessage {
  readonly queue: keyof QueueNames;
  readonly body: WorkMessage;
}

/** What a committed change still owes, in the order it is relayed. */
export interface OutboxWork {
  /** A request's directory change (a member added or removed), finished again should the request have died. */
  readonly apply?: {
    /** The request's run: it keys the change's seat reservation, so finishing it resumes that reservation. */
    readonly run: string;
    readonly message: ChangesMessage;
  };
  /** Groups an import gave members: each is reprocessed if it carries licenses. */
  readonly reprocess?: readonly string[];
  /** An import brought principals: every dynamic group's rule is evaluated again over the whole tenant. */
  readonly reevaluateRules?: boolean;
  /** Audit records of the change; their ids derive from their keys, so relaying twice rewrites the same rows. */
  readonly audit?: readonly (AuditInput & { idempotencyKey: string })[];
  /** Queue messages that start the change's work. */
  readonly messages?: readonly OutboxMessage[];
}

const workSchema = z
  .object({
    apply: z.object({ run: z.string().min(1), message: changesMessage }).optional(),
    reprocess: z.array(z.string()).optional(),
    reevaluateRules: z.boolean().optional(),
    audit: z.array(auditInputSchema).optional(),
    messages: z
      .array(z.object({ queue: z.enum(['jobs', 'pages', 'changes', 'heal']), body: workMessage }))
      .optional(),
  })
  .strict();

/** The ports relaying an outbox row needs (a unit test hands it in-memory doubles). */
export type OutboxPorts = Pick<AppContext, 'audit' | 'queues' | 'outbox' | 'now' | 'faults'>;

export interface OutboxEntry {
  readonly record: OutboxRecord;
  readonly work: OutboxWork;
}

/** A new outbox row for `work`, relayed by the sweep once `leaseMs` has passed without its writer relaying it. */
export function outboxEntry(
  ctx: Pick<AppContext, 'now'>,
  work: OutboxWork,
  options: { readonly id?: string; readonly leaseMs?: number } = {},
): OutboxEntry {
  const now = ctx.now();
  const record: OutboxRecord = {
    id: options.id ?? randomUUID(),
    createdDateTime: now.toISOString(),
    relayAfter: new Date(now.getTime() + (options.leaseMs ?? OUTBOX_LEASE_MS)).toISOString(),
    payload: work,
  };
  return { record, work };
}

/** Writes an outbox row on its own (for work that is not one transaction with its row, e.g. a membership change). */
export async function recordOutbox(
  ctx: Pick<AppContext, 'outbox'>,
  tenantId: string,
  entry: OutboxEntry,
): Promise<OutboxEntry> {
  return { ...entry, record: await ctx.outbox.put(tenantId, entry.record) };
}

/** A stored row's work, checked: tables have no schema. */
export function outboxWorkOf(tenantId: string, record: OutboxRecord): OutboxWork {
  const parsed = workSchema.safeParse(record.payload);
  if (!parsed.success) {
    throw new Error(
      `Stored entity ${tenantId}/${outboxRow(record.id)} is not valid: ${parsed.error.message.slice(0, 500)}`,
    );
  }
  return parsed.data;
}

/**
 * Relays what an outbox row owes once its change is committed (and its directory change or reprocess, if any, is
 * done): the audit records first, then the queue messages, then the row goes. A crash anywhere leaves the row, and
 * the sweep relays it again: an audit record rewritten is the same row, a message sent twice is work every handler
 * does idempotently.
 */
export async function relayOutbox(ctx: OutboxPorts, tenantId: string, entry: OutboxEntry): Promise<void> {
  const { audit = [], messages = [] } = entry.work;
  if (audit.length > 0) await ctx.audit.append(tenantId, audit);
  faultPoint(ctx, 'outbox:audited');
  for (const message of messages) await ctx.queues.send(message.queue, message.body);
  faultPoint(ctx, 'outbox:sent');
  await ctx.outbox.remove(tenantId, entry.record);
}
