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
