// The work queues' names: configuration, derived from STORAGE_PREFIX, which the queue triggers need when the app
// loads (before storage is reachable) and the storage adapters use to send.
/** The work queues (src/storage/README.md, "Queues"). Names carry the storage prefix so test runs do not collide. */
export interface QueueNames {
  /** A group's license change to plan: one message per change. */
  readonly jobs: string;
  /** A page of a group job: a range of member shards. */
  readonly pages: string;
  /** Directory changes to apply and evaluate: memberships, user lifecycle, re-evaluations. */
  readonly changes: string;
  /** Seats freed for a SKU: promote waiting principals. */
  readonly heal: string;
}

export function queueNames(prefix: string): QueueNames {
  const name = (base: string) => (prefix === '' ? `gbl-${base}` : `${prefix}-${base}`);
  return { jobs: name('jobs'), pages: name('pages'), changes: name('changes'), heal: name('heal') };
}

export const poisonQueue = (queue: string) => `${queue}-poison`;

/**
 * The alert queues (docs/api.md, "Alerts"): kept apart from the work queues because they are notifications about a
 * tenant, not its work — a tenant waiting for an alert to be delivered is idle, and their messages are delayed on
 * purpose (debounce, back-off).
 */
export interface AlertQueueNames {
  /** A tenant's alert conditions to evaluate (sent with a delay, so a burst of changes is evaluated once). */
  readonly evaluate: string;
  /** One webhook delivery to attempt (re-sent with a growing delay after a failure). */
  readonly deliver: string;
}

export function alertQueueNames(prefix: string): AlertQueueNames {
  const name = (base: string) => (prefix === '' ? `gbl-${base}` : `${prefix}-${base}`);
  return { evaluate: name('alerts'), deliver: name('alert-deliveries') };
}
