// A singleton lease, so that of several hosts sharing one storage account only one runs a timer's schedule
// (the runtime does this with a blob lease on the timer listener). Here the lease is a table entity with an
// owner and an expiry, taken and renewed with optimistic concurrency (ETags); a lease whose owner stopped
// renewing it can be taken over once it expires.
import { randomUUID } from 'node:crypto';
import type { TableClient } from '@azure/data-tables';
import { type StorageAccount, tableClient } from '../storage/connection.js';
import { describeError, type HostLogger } from './log.js';
import { statusOf } from './queueStorage.js';

export const lockTableName = 'AzureFunctionsLocalLocks';

export interface SingletonLockConfig {
  storage: StorageAccount;
  /** Identifies the app: hosts of the same app compete, other apps do not. */
  hostId: string;
  /** What is locked, e.g. "tick.Listener". */
  name: string;
  leaseMs: number;
  logger: HostLogger;
  /** Called when the lease is acquired (start firing) or lost (stop firing). */
  onChange(held: boolean): void;
}

interface LockEntity {
  partitionKey: string;
  rowKey: string;
  owner: string;
  expiresAt: number;
}

export class SingletonLock {
  private readonly owner = randomUUID();
  private readonly table: TableClient;
  private held = false;
  private etag: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private tableReady = false;

  constructor(private readonly config: SingletonLockConfig) {
    this.table = tableClient(config.storage, lockTableName);
  }

  get isHeld(): boolean {
    return this.held;
  }

  start(): void {
    void this.tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.held && this.etag) {
      try {
        await this.table.deleteEntity(this.config.hostId, this.config.name, { etag: this.etag });
      } catch {
        // Expired or taken over meanwhile: nothing to release.
      }
    }
    this.setHeld(false);
  }

  /** Acquire when free or expired, renew when held; again after a third of the lease. */
  private async tick(): Promise<void> {
    if (this.stopped) return;
    try {
      if (!this.tableReady) {
        await this.table.createTable();
        this.tableReady = true;
      }
      this.setHeld(await (this.held ? this.renew() : this.tryAcquire()));
    } catch (error) {
      this.config.logger.warn(`Singleton lock '${this.config.name}': ${describeError(error)}`);
      this.setHeld(false);
    }
    if (!this.stopped) this.timer = setTimeout(() => void this.tick(), this.config.leaseMs / 3);
  }

  private entity(): LockEntity {
    return {
      partitionKey: this.config.hostId,
      rowKey: this.config.name,
      owner: this.owner,
      expiresAt: Date.now() + this.config.leaseMs,
    };
  }

  private async tryAcquire(): Promise<boolean> {
    try {
      const created = await this.table.createEntity(this.entity());
      this.etag = created.etag;
      return true;
    } catch (error) {
      if (statusOf(error) !== 409) throw error;
    }
    const current = await this.table.getEntity<{ owner: string; expiresAt: number }>(
      this.config.hostId,
      this.config.name,
    );
    if (current.owner !== this.owner && Number(current.expiresAt) > Date.now()) return false;
    return this.replace(current.etag);
  }

  private renew(): Promise<boolean> {
    return this.replace(this.etag);
  }

  private async replace(etag: string | undefined): Promise<boolean> {
    // Without the ETag it was read with, a write would take the lock from whoever holds it.
    if (!etag) return false;
    try {
      const updated = await this.table.updateEntity(this.entity(), 'Replace', { etag });
      this.etag = updated.etag;
      return true;
    } catch (error) {
      const status = statusOf(error);
      if (status === 412 || status === 404) return false;
      throw error;
    }
  }

  private setHeld(held: boolean): void {
    if (held === this.held) return;
    this.held = held;
    this.config.logger.debug(
      `Singleton lock '${this.config.name}' ${held ? 'acquired' : 'released or lost'}.`,
    );
    this.config.onChange(held);
  }
}
