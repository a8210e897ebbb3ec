import type { NameHolding, NameRegistry } from '../application/ports.js';
import { userNameKey } from './keys.js';
import { createAll, deleteIfExists, getRow, getString, isConflict } from './properties.js';
import type { StorageTables } from './tables.js';

/**
 * User principal names on the names tables (src/storage/README.md): one row per name, keyed by the lower-cased
 * name in a partition of its shard, holding the id of its user. A create is what makes a name unique.
 */
export class TableNameRegistry implements NameRegistry {
  constructor(private readonly tables: StorageTables) {}

  async reserve(tenantId: string, userPrincipalName: string, id: string): Promise<boolean> {
    const key = userNameKey(tenantId, userPrincipalName);
    try {
      await this.tables.namesFor(key.partitionKey).createEntity({ ...key, id });
      return true;
    } catch (error: unknown) {
      if (isConflict(error)) return false;
      throw error;
    }
  }

  batchOf(tenantId: string, userPrincipalName: string): string {
    return userNameKey(tenantId, userPrincipalName).partitionKey;
  }

  async reserveMany(
    tenantId: string,
    names: readonly { readonly userPrincipalName: string; readonly id: string }[],
  ): Promise<string[]> {
    const rows = names.map((name) => ({ ...userNameKey(tenantId, name.userPrincipalName), id: name.id }));
    const taken = await createAll(this.tables.namesFor(rows[0]?.partitionKey ?? ''), rows);
    return names.filter((_, i) => taken.has(rows[i]?.rowKey ?? '')).map((name) => name.userPrincipalName);
  }

  async read(tenantId: string, userPrincipalName: string): Promise<NameHolding | undefined> {
    const key = userNameKey(tenantId, userPrincipalName);
    const row = await getRow(this.tables.namesFor(key.partitionKey), key.partitionKey, key.rowKey);
    if (!row) return undefined;
    return { id: getString(row, 'id'), writtenAt: getString(row, 'timestamp'), etag: row.etag ?? '' };
  }

  async takeOver(
    tenantId: string,
    userPrincipalName: string,
    holding: NameHolding,
    id: string,
  ): Promise<boolean> {
    const key = userNameKey(tenantId, userPrincipalName);
    try {
      await this.tables
        .namesFor(key.partitionKey)
        .updateEntity({ ...key, id }, 'Replace', { etag: holding.etag });
      return true;
    } catch (error: unknown) {
      if (isConflict(error)) return false;
      throw error;
    }
  }

  async release(tenantId: string, userPrincipalName: string): Promise<void> {
    const key = userNameKey(tenantId, userPrincipalName);
    await deleteIfExists(this.tables.namesFor(key.partitionKey), key.partitionKey, key.rowKey);
  }
}
