import type { DirectoryStore } from '../application/ports.js';
import type { GroupRecord, PrincipalRecord } from '../application/records.js';
import type { Catalog } from '../engine/index.js';
import { encodeGroup, readGroup } from './group-records.js';
import { groupPartition, principalPartition } from './keys.js';
import { etagOf } from './optimistic.js';
import {
  readPrincipal,
  readPrincipalShards,
  readPrincipalShardsWithMarkers,
  readPrincipals,
} from './principal-reads.js';
import { encodePrincipal } from './principal-records.js';
import { createAll } from './properties.js';
import type { StorageTables } from './tables.js';

/**
 * The directory's objects on the tables (src/storage/README.md): a principal is one row of its sharded principal
 * table, a group one row of the groups table. Changes of licensed principals go through the principal writer
 * (principal-writer.ts), listings through the directory queries (directory-queries.ts).
 */
export class TableDirectoryStore implements DirectoryStore {
  constructor(
    private readonly tables: StorageTables,
    private readonly catalog: Catalog,
  ) {}

  principal(tenantId: string, id: string): Promise<PrincipalRecord | undefined> {
    return readPrincipal(this.tables, tenantId, id);
  }

  principals(tenantId: string, ids: readonly string[]): Promise<Map<string, PrincipalRecord>> {
    return readPrincipals(this.tables, tenantId, ids);
  }

  async createPrincipal(record: PrincipalRecord): Promise<PrincipalRecord> {
    const entity = encodePrincipal(this.catalog, record);
    const response = await this.tables.principalsFor(entity.partitionKey).createEntity(entity);
    return { ...record, etag: response.etag };
  }

  group(tenantId: string, id: string): Promise<GroupRecord | undefined> {
    return readGroup(this.tables, tenantId, id);
  }

  async createGroup(group: GroupRecord): Promise<GroupRecord> {
    const response = await this.tables.groups.createEntity(encodeGroup(group));
    return { ...group, etag: response.etag };
  }

  async replaceGroup(group: GroupRecord): Promise<GroupRecord> {
    const response = await this.tables.groups.updateEntity(encodeGroup(group), 'Replace', {
      etag: etagOf(group, `group ${group.id}`),
    });
    return { ...group, etag: response.etag };
  }

  async deleteGroup(group: GroupRecord): Promise<void> {
    await this.tables.groups.deleteEntity(encodeGroup(group).partitionKey, group.id);
  }

  principalShards(
    tenantId: string,
    fromShard: number,
    toShard: number,
    wanted?: ReadonlySet<string>,
  ): Promise<Map<string, PrincipalRecord>> {
    return readPrincipalShards(this.tables, tenantId, fromShard, toShard, wanted);
  }

  principalShardsWithMarkers(
    tenantId: string,
    fromShard: number,
    toShard: number,
    wanted?: ReadonlySet<string>,
  ): Promise<{ records: Map<string, PrincipalRecord>; markers: Map<string, string[]> }> {
    return readPrincipalShardsWithMarkers(this.tables, tenantId, fromShard, toShard, wanted);
  }

  batchOf(kind: 'principal' | 'group', tenantId: string, id: string): string {
    return kind === 'principal' ? principalPartition(tenantId, id) : groupPartition(tenantId, id);
  }

  async createPrincipals(records: readonly PrincipalRecord[]): Promise<PrincipalRecord[]> {
    const entities = records.map((record) => encodePrincipal(this.catalog, record));
    const taken = await createAll(this.tables.principalsFor(entities[0]?.partitionKey ?? ''), entities);
    return records.filter((record) => taken.has(record.id));
  }

  async createGroups(groups: readonly GroupRecord[]): Promise<GroupRecord[]> {
    const taken = await createAll(this.tables.groups, groups.map(encodeGroup));
    return groups.filter((group) => taken.has(group.id));
  }
}
