import type { TransactionAction } from '@azure/data-tables';
import { z } from 'zod';
import { inParallel } from './in-flight.js';
import { encodeKey, shardKey, shardOf } from './keys.js';
import { getJson, getRow, getString, isConflict, putJson, type RawEntity } from './properties.js';
import { backoff } from './seat-ledger.js';
import type { StorageTables } from './tables.js';

interface AddressRow {
  readonly users: readonly string[];
  readonly holder: string | null;
  readonly etag: string | undefined;
}

const usersSchema = z.array(z.string());

/**
 * Proxy addresses → the users that list them, and the one whose mailbox holds the address (rules.md §3.3). It is
 * written when the directory changes (user create, update, import), not when licenses are evaluated: only users
 * who share an address with another (`sharedProxy`) need it at evaluation time, so a 100,000-user assignment
 * never touches it.
 */
export class ProxyRegistry {
  constructor(private readonly tables: StorageTables) {}

  private key(tenantId: string, address: string) {
    const normalized = address.toLowerCase();
    return { partitionKey: `${tenantId}|${shardKey(shardOf(normalized))}`, rowKey: encodeKey(normalized) };
  }

  private decode(entity: RawEntity | undefined): AddressRow {
    if (!entity) return { users: [], holder: null, etag: undefined };
    const holder = getString(entity, 'h');
    return {
      users: getJson(entity, 'u', usersSchema, []),
      holder: holder ? holder : null,
      etag: entity.etag,
    };
  }

  /** The row listing `users`, with `holder`'s mailbox claim. */
  private encode(partitionKey: string, rowKey: string, users: readonly string[], holder: string | null) {
    const entity: Record<string, unknown> & { partitionKey: string; rowKey: string } = {
      partitionKey,
      rowKey,
      h: holder ?? '',
    };
    putJson(entity, 'u', users);
    return entity;
  }

  async read(tenantId: string, address: string): Promise<AddressRow> {
    const { partitionKey, rowKey } = this.key(tenantId, address);
    return this.decode(await getRow(this.tables.proxiesFor(partitionKey), partitionKey, rowKey));
  }

  /**
   * Records that `userId` now lists `addresses` (and no longer `previous`). Returns, for every address touched, the
   * users listing it afterwards — callers flag users that share an address.
   */
  async register(
    tenantId: string,
    userId: string,
    previous: readonly string[],
    addresses: readonly string[],
  ): Promise<Map<string, readonly string[]>> {
    const before = new Set(previous.map((a) => a.toLowerCase()));
    const after = new Set(addresses.map((a) => a.toLowerCase()));
    const result = new Map<string, readonly string[]>();
    for (const address of new Set([...before, ...after])) {
      const keep = after.has(address);
      result.set(
        address,
        await this.update(tenantId, address, (row) => {
          const others = row.users.filter((u) => u !== userId);
          return {
            users: keep ? [...others, userId] : others,
            holder: !keep && row.holder === userId ? null : row.holder,
          };
        }),
      );
    }
    return result;
  }

  /**
   * Bulk registration for imports: adds each (address, user) pair in 100-row transactions, four partitions at a
   * time. Rows are first created blind (a fresh tenant has none, and a partition query is a scan of the whole table
   * in Azurite); a transaction refused because a row exists is re-read row by row and merged. Returns the users
   * that now share an address with someone else.
   */
  async registerMany(
    tenantId: string,
    pairs: readonly { address: string; userId: string }[],
  ): Promise<Set<string>> {
    const byPartition = new Map<string, Map<string, Set<string>>>();
    for (const { address, userId } of pairs) {
      const { partitionKey, rowKey } = this.key(tenantId, address);
      const rows = byPartition.get(partitionKey) ?? new Map<string, Set<string>>();
      const users = rows.get(rowKey) ?? new Set<string>();
      users.add(userId);
      rows.set(rowKey, users);
      byPartition.set(partitionKey, rows);
    }
    const batches: { partitionKey: string; additions: [string, Set<string>][] }[] = [];
    for (const [partitionKey, rows] of byPartition) {
      const additions = [...rows];
      for (let i = 0; i < additions.length; i += 100)
        batches.push({ partitionKey, additions: additions.slice(i, i + 100) });
    }
    const sharing = new Set<string>();
    await inParallel(batches, 4, async ({ partitionKey, additions }) => {
      for (const u of await this.mergeBatch(partitionKey, additions)) sharing.add(u);
    });
    return sharing;
  }

  /** One transaction of `registerMany`; returns the users of rows now listing more than one user. */
  private async mergeBatch(
    partitionKey: string,
    additions: readonly [string, Set<string>][],
  ): Promise<string[]> {
    // Blind first: as if no row existed.
    let existing: AddressRow[] = additions.map(() => this.decode(undefined));
    for (let attempt = 0; ; attempt++) {
      const sharing: string[] = [];
      const actions: TransactionAction[] = [];
      additions.forEach(([rowKey, users], i) => {
        const row = existing[i] ?? this.decode(undefined);
        const merged = [...new Set([...row.users, ...users])];
        if (merged.length > 1) sharing.push(...merged);
        if (merged.length === row.users.length) return;
        const entity = this.encode(partitionKey, rowKey, merged, row.holder);
        actions.push(row.etag ? ['update', entity, 'Replace', { etag: row.etag }] : ['create', entity]);
      });
      try {
        if (actions.length > 0) await this.tables.proxiesFor(partitionKey).submitTransaction(actions);
        return sharing;
      } catch (error: unknown) {
        // Some row exists (an earlier import, a concurrent writer): read this batch's rows and merge again.
        if (!isConflict(error) || attempt >= 20) throw error;
        if (attempt > 0) await backoff(attempt);
        existing = await Promise.all(
          additions.map(async ([rowKey]) =>
            this.decode(await getRow(this.tables.proxiesFor(partitionKey), partitionKey, rowKey)),
          ),
        );
      }
    }
  }

  /** Takes the mailbox claim on an address; false when another user's mailbox holds it. */
  async claim(tenantId: string, address: string, userId: string): Promise<boolean> {
    let taken = true;
    await this.update(tenantId, address, (row) => {
      if (row.holder !== null && row.holder !== userId) {
        taken = false;
        return row;
      }
      return { users: row.users, holder: userId };
    });
    return taken;
  }

  /** Gives up the mailbox claim; returns the other users listing the address (they may now get a mailbox). */
  async release(tenantId: string, address: string, userId: string): Promise<readonly string[]> {
    const users = await this.update(tenantId, address, (row) => ({
      users: row.users,
      holder: row.holder === userId ? null : row.holder,
    }));
    return users.filter((u) => u !== userId);
  }

  private async update(
    tenantId: string,
    address: string,
    change: (row: AddressRow) => { users: readonly string[]; holder: string | null },
  ): Promise<readonly string[]> {
    const { partitionKey, rowKey } = this.key(tenantId, address);
    for (let attempt = 0; ; attempt++) {
      const row = this.decode(await getRow(this.tables.proxiesFor(partitionKey), partitionKey, rowKey));
      const next = change(row);
      if (
        next.users.length === row.users.length &&
        next.holder === row.holder &&
        next.users.every((u, i) => u === row.users[i])
      ) {
        return row.users;
      }
      const entity = this.encode(partitionKey, rowKey, next.users, next.holder);
      try {
        if (row.etag)
          await this.tables.proxiesFor(partitionKey).updateEntity(entity, 'Replace', { etag: row.etag });
        else await this.tables.proxiesFor(partitionKey).createEntity(entity);
        return next.users;
      } catch (error: unknown) {
        if (!isConflict(error) || attempt >= 20) throw error;
        await backoff(attempt);
      }
    }
  }
}
