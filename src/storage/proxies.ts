import type { TransactionAction } from '@azure/data-tables';
import { z } from 'zod';
import type { ProxyAddressStore } from '../application/ports.js';
import type { AddressRow, ClaimTicket, MailboxCheck } from '../application/records.js';
import { inParallel } from './in-flight.js';
import { encodeKey, shardKey, shardOf } from './keys.js';
import { retryOnConflict } from './optimistic.js';
import { getJson, getRow, getString, putJson, type RawEntity } from './properties.js';
import {
  AddressRows,
  type AddressState,
  NO_ADDRESS_ROW,
  sameState,
  sharers,
  withListers,
} from './proxy-rows.js';
import type { StorageTables } from './tables.js';

export type { AddressRow, ClaimTicket, MailboxCheck };

const usersSchema = z.array(z.string());
const claimsSchema = z.array(z.object({ id: z.string(), until: z.string() }));

/**
 * Proxy addresses → the users that list them, and the one whose mailbox holds the address (rules.md §3.3). It is
 * written when the directory changes (user create, update, import), not when licenses are evaluated: only users
 * who share an address with another (`sharedProxy`) need it at evaluation time, so a 100,000-user assignment
 * never touches it.
 *
 * The holder is a lock taken before the principal row that gives its user a mailbox is written (`claim`), and it
 * must hold for as long as that row has the mailbox. A principal row and an address row cannot change in one
 * transaction, so the lock is let go only by `settle`, which anyone may run at any time and which is safe against
 * every interleaving: it releases the address only when no claim is in flight on it (a claim adds a ticket and so
 * changes the row's ETag) and a fresh read of the holder's principal row shows no mailbox there, and it writes
 * with the ETag of the row it read, so a claim taken meanwhile fails the release.
 */
export class ProxyRegistry extends AddressRows implements ProxyAddressStore {
  constructor(private readonly tables: StorageTables) {
    super();
  }

  private key(tenantId: string, address: string) {
    const normalized = address.toLowerCase();
    return { partitionKey: `${tenantId}|${shardKey(shardOf(normalized))}`, rowKey: encodeKey(normalized) };
  }

  private decode(entity: RawEntity | undefined): AddressRow {
    if (!entity) return NO_ADDRESS_ROW;
    const holder = getString(entity, 'h');
    return {
      users: getJson(entity, 'u', usersSchema, []),
      holder: holder ? holder : null,
      claims: getJson(entity, 'c', claimsSchema, []),
      etag: entity.etag,
    };
  }

  /** The row listing `users`, with `holder`'s mailbox claim and the claims in flight. */
  private encode(partitionKey: string, rowKey: string, state: AddressState) {
    const entity: Record<string, unknown> & { partitionKey: string; rowKey: string } = {
      partitionKey,
      rowKey,
      h: state.holder ?? '',
    };
    putJson(entity, 'u', state.users);
    if (state.claims.length > 0) putJson(entity, 'c', state.claims);
    return entity;
  }

  async read(tenantId: string, address: string): Promise<AddressRow> {
    const { partitionKey, rowKey } = this.key(tenantId, address);
    return this.decode(await getRow(this.tables.proxiesFor(partitionKey), partitionKey, rowKey));
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
    return retryOnConflict(`proxy addresses in ${partitionKey}`, async (attempt) => {
      // Blind first, as if no row existed; after a conflict (some row exists: an earlier import, a concurrent
      // writer), this batch's rows are read and merged again.
      const existing =
        attempt === 0
          ? additions.map(() => this.decode(undefined))
          : await Promise.all(
              additions.map(async ([rowKey]) =>
                this.decode(await getRow(this.tables.proxiesFor(partitionKey), partitionKey, rowKey)),
              ),
            );
      const sharing: string[] = [];
      const actions: TransactionAction[] = [];
      additions.forEach(([rowKey, users], i) => {
        const row = existing[i] ?? this.decode(undefined);
        const merged = withListers(row, users);
        sharing.push(...sharers(merged));
        if (sameState(row, merged)) return;
        const entity = this.encode(partitionKey, rowKey, merged);
        actions.push(row.etag ? ['update', entity, 'Replace', { etag: row.etag }] : ['create', entity]);
      });
      if (actions.length > 0) await this.tables.proxiesFor(partitionKey).submitTransaction(actions);
      return sharing;
    });
  }

  protected async update(
    tenantId: string,
    address: string,
    change: (row: AddressRow) => AddressState | Promise<AddressState>,
  ): Promise<AddressState> {
    const { partitionKey, rowKey } = this.key(tenantId, address);
    return retryOnConflict(`proxy address ${address}`, async () => {
      const row = this.decode(await getRow(this.tables.proxiesFor(partitionKey), partitionKey, rowKey));
      const next = await change(row);
      if (sameState(row, next)) return row;
      const entity = this.encode(partitionKey, rowKey, next);
      if (row.etag)
        await this.tables.proxiesFor(partitionKey).updateEntity(entity, 'Replace', { etag: row.etag });
      else await this.tables.proxiesFor(partitionKey).createEntity(entity);
      return next;
    });
  }
}
