// Scratch tables for adapter tests on the shared Azurite: a unique prefix per test file, only the tables the file
// touches are created (all 54 would cost a second each time), and they are dropped afterwards.
import type { TableClient } from '@azure/data-tables';
import { inject } from 'vitest';
import { StorageTables } from '../../src/storage/tables.js';
import { uniqueName } from './wait.js';

export interface ScratchTables {
  readonly tables: StorageTables;
  /** A second set of clients on the same tables: what another host instance would hold. */
  anotherHost(): StorageTables;
  drop(): Promise<void>;
}

export async function scratchTables(
  prefix: string,
  pick: (tables: StorageTables) => readonly TableClient[] = (tables) => tables.all(),
): Promise<ScratchTables> {
  const connectionString = inject('storageConnectionString');
  const tables = new StorageTables(connectionString, uniqueName(prefix));
  const picked = pick(tables);
  await Promise.all(picked.map((table) => table.createTable()));
  return {
    tables,
    anotherHost: () => new StorageTables(connectionString, tables.prefix),
    drop: async () => {
      await Promise.all(picked.map((table) => table.deleteTable()));
    },
  };
}
